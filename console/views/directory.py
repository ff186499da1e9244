"""/directory/: names for numbers, kept by admins (one by one, or a CSV import); every change
audited. What is shown beside each number is console/directory.py's."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django_htmx.http import HttpResponseClientRedirect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from console import directory
from console.decorators import operator_required
from console.forms import DirectoryEntryForm, DirectoryImportForm
from console.models import AuditEntry, DirectoryEntry

# The list shows this many entries; a search narrows it.
LISTED = 200


@require_GET
@operator_required("console.manage_directory")
def directory_list(request: HttpRequest) -> HttpResponse:
    return _list(request, DirectoryEntryForm(), DirectoryImportForm())


def _list(request: HttpRequest, form: DirectoryEntryForm, import_form: DirectoryImportForm, *, errors=(), status=200) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:100]
    entries = DirectoryEntry.objects.all()
    if q:
        entries = entries.filter(Q(name__icontains=q) | Q(label__icontains=q) | directory.matching(q, "number"))
    total = entries.count()
    context = {
        "entries": list(entries[:LISTED]),
        "total": total,
        "q": q,
        "form": form,
        "import_form": import_form,
        "import_errors": errors,
    }
    return render(request, "console/directory.html", context, status=status)


@require_POST
@operator_required("console.manage_directory")
def directory_add(request: HttpRequest) -> HttpResponse:
    form = DirectoryEntryForm(request.POST)
    if not form.is_valid():
        return _list(request, form, DirectoryImportForm(), status=422)
    entry = form.save()
    AuditEntry.record(request.user, "add to directory", entry.number, outcome="ok", detail=_described(entry))
    messages.success(request, f"Added {entry.name}.")
    return redirect("console-directory")


@require_http_methods(["GET", "POST"])
@operator_required("console.manage_directory")
def directory_edit(request: HttpRequest, pk: int) -> HttpResponse:
    entry = get_object_or_404(DirectoryEntry, pk=pk)
    before = _described(entry)
    form = DirectoryEntryForm(request.POST if request.method == "POST" else None, instance=entry)
    if request.method == "POST":
        if form.is_valid():
            entry = form.save()
            AuditEntry.record(request.user, "edit directory", entry.number, outcome="ok", detail=f"{before} → {_described(entry)}")
            messages.success(request, f"Saved {entry.name}.")
            return redirect("console-directory")
        return render(request, "console/directory_entry.html", {"form": form, "entry": entry}, status=422)
    return render(request, "console/directory_entry.html", {"form": form, "entry": entry})


@require_POST
@operator_required("console.manage_directory")
def directory_delete(request: HttpRequest, pk: int) -> HttpResponse:
    entry = get_object_or_404(DirectoryEntry, pk=pk)
    AuditEntry.record(request.user, "delete from directory", entry.number, outcome="ok", detail=_described(entry))
    entry.delete()
    messages.success(request, f"Deleted {entry.name}.")
    # Asked for by htmx (after the confirmation dialog): the whole list is read again.
    if request.htmx:
        return HttpResponseClientRedirect(reverse("console-directory"))
    return redirect("console-directory")


@require_POST
@operator_required("console.manage_directory")
def directory_import(request: HttpRequest) -> HttpResponse:
    import_form = DirectoryImportForm(request.POST, request.FILES)
    if not import_form.is_valid():
        return _list(request, DirectoryEntryForm(), import_form, status=422)
    upload = import_form.cleaned_data["file"]
    result = directory.import_csv(upload.read(directory.IMPORT_MAX_BYTES + 1))
    if not result.ok:
        AuditEntry.record(request.user, "import directory", upload.name[:200], outcome="refused", detail=f"{len(result.errors)} bad lines")
        return _list(request, DirectoryEntryForm(), import_form, errors=result.errors, status=422)
    detail = f"{result.created} added, {result.updated} updated"
    AuditEntry.record(request.user, "import directory", upload.name[:200], outcome="ok", detail=detail)
    messages.success(request, f"Imported {upload.name}: {detail}.")
    return redirect("console-directory")


def _described(entry: DirectoryEntry) -> str:
    label = f" ({entry.label})" if entry.label else ""
    return f"{entry.name}{label}, {entry.get_kind_display().lower()}"


urlpatterns = [
    path("directory/", directory_list, name="console-directory"),
    path("directory/add", directory_add, name="console-directory-add"),
    path("directory/import", directory_import, name="console-directory-import"),
    path("directory/<int:pk>/", directory_edit, name="console-directory-edit"),
    path("directory/<int:pk>/delete", directory_delete, name="console-directory-delete"),
]
