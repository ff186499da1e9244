"""The call routes, served from each process's memory (voice/shared_copy.py says how it
stays current): every call's first webhook needs them, and they change only when an admin
edits one."""

from __future__ import annotations

from voice.models import Route
from voice.shared_copy import SharedCopy


class RouteTable:
    def __init__(self) -> None:
        self._copy = SharedCopy(Route, lambda: list(Route.objects.filter(enabled=True)), "voice.route_table.version")

    def enabled(self) -> list[Route]:
        """The enabled routes."""
        return self._copy.get()

    def by_pk(self, pk: object) -> Route | None:
        return next((route for route in self.enabled() if route.pk == pk), None)

    def forget(self) -> None:
        """This process reads the routes again at its next lookup (tests; a route saved)."""
        self._copy.forget()


table = RouteTable()
