"""The accessibility check of the browser tests: axe-core (vendored, tests/support/vendor)
on every kind of page the tests visit, once per kind in a run; no serious or critical
violation is allowed."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Error as PlaywrightError

AXE = (Path(__file__).resolve().parents[1] / "support" / "vendor" / "axe-core" / "axe.min.js").read_text()

_checked: set[str] = set()

# Violations known and not fixed yet, by rule and element. Any other violation fails the test.
KNOWN: set[tuple[str, str]] = set()


def kind_of(url: str) -> str:
    """A page's kind: its path with ids left out (/calls/<id>, /recordings/<id>/)."""
    path = urlsplit(url).path
    return re.sub(r"/(?=[^/]*\d)[^/]{6,}", "/<id>", path)


def serious_violations(page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now. Evaluated by
    the browser's devtools protocol, which the Content-Security-Policy does not govern."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE + "\n;undefined")
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    found = []
    for violation in result["violations"]:
        if violation["impact"] not in ("serious", "critical"):
            continue
        targets = [" ".join(node["target"]) for node in violation["nodes"]]
        targets = [target for target in targets if (violation["id"], target) not in KNOWN]
        if targets:
            found.append(f"{violation['id']} ({violation['impact']}): {violation['help']}: " + ", ".join(targets[:5]))
    return found


def new_kinds(urls: list[str]) -> list[str]:
    """One URL of each kind of page not checked yet in this run."""
    found: dict[str, str] = {}
    for url in urls:
        kind = kind_of(url)
        # Django's admin is Django's own markup, not the console's pages.
        if kind.startswith("/admin/"):
            continue
        if url.startswith("http") and kind not in _checked and kind not in found:
            found[kind] = url
    return list(found.values())


def check(page, urls: list[str]) -> list[str]:
    """Visits each kind of page among `urls` not checked yet (the page in its state now
    first) and returns the violations found, by page."""
    problems = []
    for url in [page.url, *urls]:
        if url not in new_kinds([url]):
            continue
        if page.url != url:
            try:
                response = page.goto(url)
            except PlaywrightError:
                # The test's own server may already be stopped when its page is torn down
                # (fixtures end in reverse order): that kind is checked by a later test.
                continue
            if response is None or response.status >= 400:
                # What the page was is gone (a deleted entry's form, say): nothing to check.
                continue
        _checked.add(kind_of(url))
        problems += [f"{kind_of(url)}: {violation}" for violation in serious_violations(page)]
    return problems
