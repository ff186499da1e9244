"""What a person does in the browser, shared by the tests of both run profiles."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from console.phone_numbers import display
from tests.support.sandbox import wait_until
from tests.support.stack import Stack


def wait_until_live(page: Page) -> None:
    expect(page.locator("#live-indicator")).to_have_attribute("data-state", "live")
    # Once its sockets are open the page re-reads its live regions (pushes sent before they
    # opened never reached it): let that settle before acting.
    page.wait_for_load_state("networkidle")


def sign_in(page: Page, stack: Stack, username: str) -> None:
    page.goto(stack.url + "/")
    page.fill("#id_username", username)
    page.fill("#id_password", stack.passwords[username])
    page.click("button[type=submit]")
    wait_until_live(page)


def agent_hangs_up_a_call_that_appears_live(page: Page, stack: Stack) -> None:
    sign_in(page, stack, "agent")
    # A marker that a reload would wipe: everything below must happen without one.
    page.evaluate("window.__noReload = true")

    call = stack.sandbox.offer_inbound(from_number="+15551239876", to_number="+19195550100")
    row = page.locator(f"#call-{call['callId']}")
    expect(row).to_be_visible()
    expect(row).to_contain_text(display("+15551239876"))
    expect(row.locator(".chip")).to_have_text("answered")

    # Records every text the row shows, so a pending state that lasts milliseconds counts,
    # and "(absent)" whenever the row is off the page before it showed its call ended (the
    # hang-up's answer once replaced the row with nothing, and a push put it back).
    page.evaluate(
        """id => { window.__seen = [];
            new MutationObserver(() => {
                const r = document.getElementById(id), last = window.__seen[window.__seen.length - 1] || "";
                if (r) window.__seen.push(r.innerText);
                else if (!last.includes("Ended") && last !== "(absent)") window.__seen.push("(absent)");
            }).observe(document.getElementById('call-rows'), {subtree: true, childList: true, characterData: true}); }""",
        f"call-{call['callId']}",
    )
    row.get_by_role("button", name="Hang up").click()
    confirm = page.locator("#confirm-dialog")
    expect(confirm).to_contain_text(f"Hang up the call from {display('+15551239876')}")
    confirm.get_by_role("button", name="Confirm").click()

    expect(row).to_have_count(0, timeout=15_000)
    assert page.evaluate("window.__noReload") is True
    seen = page.evaluate("window.__seen")
    assert any("Hanging up" in text for text in seen), seen
    assert "(absent)" not in seen, seen

    sandbox_call = stack.sandbox.call(call["callId"])
    assert sandbox_call["state"] == "completed", (sandbox_call, stack.sandbox.requests()[-5:])
    assert sandbox_call["disconnectCause"] == "hangup"
    hangups = [r for r in stack.sandbox.requests() if r["method"] == "POST" and r["path"].endswith(call["callId"])]
    assert len(hangups) == 1
    wait_until(lambda: any(w["eventType"] == "disconnect" and w["status"] == 204 for w in stack.sandbox.webhooks()))
