"""One styled error page for 403, 404 and 500 in the console's frame; a message, not a
whole page, for an htmx request; the admin only for those who may use it (issue 13,
problem 7)."""

import pytest
from django.test import Client
from playwright.sync_api import expect

from tests.e2e.flows import sign_in

pytestmark = pytest.mark.e2e


def expect_framed_error(page, status: int, heading: str) -> None:
    """The console's own page: its navigation, its styles, a way back."""
    expect(page.get_by_role("heading", name=heading)).to_be_visible()
    expect(page.locator(".error-status")).to_have_text(str(status))
    expect(page.get_by_role("navigation").get_by_role("link", name="Live calls")).to_be_visible()
    expect(page.get_by_role("link", name="Back to the live calls")).to_be_visible()
    # Styled: the console's stylesheet applies (Django's bare pages have none).
    assert page.evaluate("getComputedStyle(document.querySelector('.error-page')).textAlign") == "center"


def test_a_page_an_agent_may_not_open_is_the_consoles_403_page(screens_stack, page):
    sign_in(page, screens_stack, "agent")
    response = page.goto(screens_stack.url + "/history/")
    assert response.status == 403
    expect_framed_error(page, 403, "Not allowed")


@pytest.mark.parametrize("role", ["agent", "supervisor"])
def test_the_admin_answers_the_consoles_403_to_a_signed_in_operator_who_is_not_staff(screens_stack, page, role):
    sign_in(page, screens_stack, role)
    expect(page.get_by_role("navigation").get_by_role("link", name="Admin")).to_have_count(0)
    response = page.goto(screens_stack.url + "/admin/")
    assert response.status == 403
    assert page.url == screens_stack.url + "/admin/"  # not sent to the admin's sign-in
    expect_framed_error(page, 403, "Not allowed")


def test_the_admin_link_is_shown_to_the_admin_and_opens_the_admin(screens_stack, page):
    sign_in(page, screens_stack, "admin")
    page.get_by_role("navigation").get_by_role("link", name="Admin").click()
    expect(page).to_have_url(screens_stack.url + "/admin/")
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()


def test_an_htmx_request_refused_shows_a_message_and_leaves_the_page_alone(screens_stack, page):
    sign_in(page, screens_stack, "agent")
    # A button of a region the agent may not use, clicked: as a button whose permission was
    # taken away while the page was open.
    page.evaluate("""() => { const button = document.createElement('button'); button.id = 'probe'; button.textContent = 'Probe';
        button.setAttribute('hx-get', '/history/'); button.setAttribute('hx-target', '#figures'); button.setAttribute('hx-swap', 'outerHTML');
        document.querySelector('main').prepend(button); htmx.process(button); }""")
    page.click("#probe")
    expect(page.locator("#flash")).to_contain_text("Not allowed")
    expect(page.locator("#figures")).to_be_visible()
    expect(page.get_by_role("heading", name="Live calls")).to_be_visible()
    page.locator("#flash").get_by_role("button", name="Dismiss").click()
    expect(page.locator("#flash .flash-message")).to_have_count(0)


# 404 and 500 as production shows them (DEBUG off; with DEBUG on, Django shows its
# debugging pages instead, as a developer wants): the live server of pytest-django.


@pytest.fixture(scope="module")
def _database_beside_the_browser():
    """Playwright's sync API keeps an event loop running in this thread, which Django takes
    for an async context; the test's own database work here is plain synchronous code."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture
def signed_in(_database_beside_the_browser, live_server, page, django_user_model, settings):
    settings.ROOT_URLCONF = "tests.e2e.broken_urls"
    client = Client()
    client.force_login(django_user_model.objects.create_user("operator"))
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    return live_server.url


@pytest.mark.django_db(transaction=True)
def test_a_missing_page_is_the_consoles_404_page(signed_in, page):
    response = page.goto(signed_in + "/calls/c-no-such-call")
    assert response.status == 404
    expect_framed_error(page, 404, "Not found")
    page.evaluate("htmx.ajax('GET', '/no/such/page', {target: 'main', swap: 'innerHTML'})")
    expect(page.locator("#flash")).to_contain_text("Not found")
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()  # the page stays


@pytest.mark.django_db(transaction=True)
def test_a_fault_is_the_consoles_500_page(signed_in, page):
    response = page.goto(signed_in + "/broken")
    assert response.status == 500
    expect_framed_error(page, 500, "Something went wrong")
    page.goto(signed_in + "/")
    page.evaluate("htmx.ajax('GET', '/broken', {target: '#figures', swap: 'outerHTML'})")
    expect(page.locator("#flash")).to_contain_text("Something went wrong")
    expect(page.locator("#figures")).to_be_visible()
