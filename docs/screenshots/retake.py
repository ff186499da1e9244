"""Retakes the README's screenshots from a running Switchboard (`make run`, or `manage.py up`
with the demo traffic), in Debian's Chromium, as the browser tests drive it:

    .venv/bin/python docs/screenshots/retake.py [--url http://127.0.0.1:8000] [--var var]

board.png (an agent's board, 1440×900), conference.png (a supervisor on the busiest live
conference), recordings.png (an admin's recordings) and phone.png (the board on a 390×844
phone). Give the demo a minute after starting it, so that long and stuck calls are up.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

HERE = Path(__file__).resolve().parent
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def sign_in(page: Page, url: str, username: str, password: str) -> None:
    page.goto(url + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_selector("#live-indicator[data-state=live]")
    page.wait_for_load_state("networkidle")


def busiest_conference(page: Page) -> str | None:
    """The link of the live conference with the most members, from the board."""
    return page.evaluate(
        """() => {
            const rows = [...document.querySelectorAll('#conference-rows tr.conference-row:not(.leaving)')];
            const size = row => Number((row.querySelector('.members') || {}).textContent?.split('/')[0] || 0);
            rows.sort((a, b) => size(b) - size(a));
            const link = rows.length && rows[0].querySelector('a.requires-conference-control');
            return link ? link.getAttribute('href') : null;
        }"""
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--var", default="var", help="VAR_DIR of the running console (demo-users.json)")
    parser.add_argument("--out", default=str(HERE))
    args = parser.parse_args()
    url, out = args.url.rstrip("/"), Path(args.out)
    passwords = json.loads((Path(args.var) / "demo-users.json").read_text())
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--headless", "--no-sandbox", "--disable-gpu"])

        def context(role: str, viewport: dict, scale: float = 1) -> Page:
            page = browser.new_context(viewport=viewport, device_scale_factor=scale, color_scheme="light").new_page()
            sign_in(page, url, role, passwords[role])
            return page

        page = context("supervisor", DESKTOP)
        page.wait_for_timeout(1500)
        page.screenshot(path=out / "board.png")
        link = busiest_conference(page)
        if link:
            page.goto(url + link)
            page.wait_for_selector("#live-indicator[data-state=live]")
            page.wait_for_timeout(1000)
            page.screenshot(path=out / "conference.png")

        page = context("admin", DESKTOP)
        page.goto(url + "/recordings/")
        page.wait_for_load_state("networkidle")
        page.screenshot(path=out / "recordings.png")

        page = context("agent", PHONE, scale=2)
        page.wait_for_timeout(1500)
        page.screenshot(path=out / "phone.png")
        browser.close()


if __name__ == "__main__":
    main()
