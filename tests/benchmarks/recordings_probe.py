"""Times the recordings list in a console configured by the environment (DATABASE_URL), as an
admin's browser would ask for it, and prints the results as JSON lines. Run by
test_recordings_list.py in its own process, so that Django is set up on the benchmark's
PostgreSQL database rather than the test database."""

from __future__ import annotations

import json
import os
import statistics
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from console import paging, recording_search, roles  # noqa: E402

RUNS = int(os.environ.get("PROBE_RUNS", "15"))


def cursor_at(words: str, depth: int) -> str:
    """The keyset cursor a reader who clicked "Load more" down to row `depth` would hold."""
    form = recording_search.RecordingSearchForm({"q": words} if words else {})
    queryset = form.apply(recording_search.listed()).order_by("-start_time", "-pk").values_list("start_time", "pk")
    start_time, pk = queryset[depth : depth + 1].get()
    return paging._encode(start_time, pk)


def plan(client: Client, query: str) -> str:
    """The plan of the query the page ran for its rows: which index it walks, how long."""
    with CaptureQueriesContext(connection) as captured:
        client.get(f"/recordings/?{query}", headers={"HX-Request": "true"})
    (sql,) = [q["sql"] for q in captured.captured_queries if 'ORDER BY "voice_recording"."start_time" DESC' in q["sql"]]
    with connection.cursor() as db:
        db.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
        tree = db.fetchone()[0][0]
    nodes = []

    def walk(node: dict) -> None:
        nodes.append(node["Node Type"] + (f" ({node['Index Name']})" if node.get("Index Name") else ""))
        for child in node.get("Plans", []):
            walk(child)

    walk(tree["Plan"])
    return f"{tree['Execution Time']:.1f} ms in PostgreSQL: " + ", ".join(nodes)


def measure(client: Client, name: str, query: str) -> dict:
    client.get(f"/recordings/?{query}", headers={"HX-Request": "true"})  # warm
    times, rows = [], 0
    for _ in range(RUNS):
        started = time.perf_counter()
        response = client.get(f"/recordings/?{query}", headers={"HX-Request": "true"})
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
        rows = response.content.decode().count('class="history-row recording-row')
    times.sort()
    return {
        "name": name,
        "rows": rows,
        "p50": statistics.median(times),
        "p90": times[int(len(times) * 0.9) - 1],
        "max": times[-1],
    }


def main() -> None:
    roles.sync_roles()
    admin, _ = get_user_model().objects.get_or_create(username="bench-admin")
    admin.groups.add(Group.objects.get(name=roles.ADMIN))
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(admin)
    depth = int(sys.argv[1])
    common, rare = sys.argv[2], sys.argv[3]
    deep = cursor_at("", depth)
    deep_match = cursor_at(common, int(sys.argv[4]))
    cases = [
        ("first page", ""),
        (f"deep page (after row {depth:,})", f"after={deep}"),
        (f'first page, "{common}" (common word)', f"q={common}"),
        (f'deep page, "{common}" (after match {int(sys.argv[4]):,})', f"q={common}&after={deep_match}"),
        (f'first page, "{rare}" (rare word)', f"q={rare}"),
        ("a call id", "call=c-bench-4242"),
        ("number contains, one match", "number=0999999"),
    ]
    for name, query in cases:
        result = measure(client, name, query)
        result["plan"] = plan(client, query)
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
