"""The templates as files: what Django's template language would print instead of reading."""

import re

from console.processes import BASE_DIR

TEMPLATES = sorted((BASE_DIR / "templates").rglob("*.html"))


def test_there_are_templates_to_check():
    assert len(TEMPLATES) > 20


def test_every_short_comment_ends_on_its_own_line():
    # {# ... #} is a comment on one line only: one that runs over a line break is printed
    # on the page, as base.html's once was above every page. {% comment %} spans lines.
    unclosed = [
        f"{path.relative_to(BASE_DIR)}:{number}"
        for path in TEMPLATES
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\{#(?![^\n]*#\})", line)
    ]
    assert unclosed == []
