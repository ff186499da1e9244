"""Numbers people read, and names for them: an admin keeps the directory in the console (one
by one, or from a CSV file); every operator sees the names beside the numbers, live, and finds
calls by a name or by a number typed in either form."""

import pytest
from playwright.sync_api import expect

from tests.e2e.flows import sign_in, wait_until_live
from tests.support.stack import running_stack
from voice.demo import SALES_FLOOR_NUMBER, UNROUTED_NUMBER

pytestmark = pytest.mark.e2e
# Generous: pages and pushes may take seconds while the machine is busy.
expect.set_options(timeout=15_000)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with running_stack(tmp_path_factory.mktemp("directory")) as stack:
        yield stack


def test_an_admin_names_a_number_and_every_operator_sees_the_name_and_finds_the_call_by_it(stack, page, second_page):
    sign_in(page, stack, "admin")
    page.get_by_role("link", name="Directory").click()
    # The demo's names are there: the account's lines and a few regular callers.
    expect(page.locator("#directory")).to_contain_text("Sales line")
    form = page.locator("form[action='/directory/add']")
    form.get_by_label("Number").fill("(415) 555-0199")
    form.get_by_label("Name").fill("Jordan Avery")
    form.get_by_label("Team or label").fill("Acme Corp")
    form.get_by_role("button", name="Add").click()
    expect(page.locator("p.notice")).to_have_text("Added Jordan Avery.")
    expect(page.locator("#directory")).to_contain_text("(415) 555-0199")

    sign_in(second_page, stack, "agent")
    named = stack.sandbox.offer_inbound(from_number="+14155550199", to_number=UNROUTED_NUMBER)["callId"]
    other = stack.sandbox.offer_inbound(from_number="+33612345678", to_number=SALES_FLOOR_NUMBER)["callId"]
    row = second_page.locator(f"#call-{named}")
    expect(row.locator(".party").first).to_have_text("Jordan Avery (415) 555-0199 Acme Corp")
    # Any other country's number reads in international format; the account's line has its name.
    expect(second_page.locator(f"#call-{other}")).to_contain_text("+33 6 12 34 56 78")
    expect(second_page.locator(f"#call-{other}")).to_contain_text("Sales line")

    search = second_page.get_by_label("Number or name")
    for typed in ("acme", "jordan", "+1 415-555-0199", "(415) 555 0199"):
        search.fill(typed)
        expect(second_page.locator(f"#call-{other}")).to_have_count(0)
        expect(second_page.locator(f"#call-{named}")).to_be_visible()
        assert f"number=" in second_page.url
    search.fill("")
    expect(second_page.locator(f"#call-{other}")).to_be_visible()

    # The hang-up's confirmation names the caller too.
    wait_until_live(second_page)
    second_page.locator(f"#call-{named}").get_by_role("button", name="Hang up").click()
    expect(second_page.locator("#confirm-dialog")).to_contain_text("Hang up the call from Jordan Avery, (415) 555-0199")
    second_page.locator("#confirm-dialog").get_by_role("button", name="Cancel").click()

    # Renamed: the board's next render of the row has the new name.
    page.locator("#directory tr", has_text="Jordan Avery").get_by_role("link", name="Edit").click()
    page.get_by_label("Name").fill("Jordan Avery-Stone")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("p.notice")).to_have_text("Saved Jordan Avery-Stone.")
    second_page.reload()
    expect(second_page.locator(f"#call-{named}")).to_contain_text("Jordan Avery-Stone")

    # Deleted (after a confirmation): the number stands alone again.
    page.locator("#directory tr", has_text="Jordan Avery-Stone").get_by_role("button", name="Delete").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Confirm").click()
    expect(page.locator("p.notice")).to_have_text("Deleted Jordan Avery-Stone.")
    second_page.reload()
    expect(second_page.locator(f"#call-{named} .party").first).to_have_text("(415) 555-0199")

    page.goto(stack.url + "/audit/")
    for verb in ("add to directory", "edit directory", "delete from directory"):
        expect(page.locator("#results")).to_contain_text(verb)


def test_an_admin_imports_names_from_a_csv_file_and_a_bad_file_writes_nothing(stack, page, tmp_path, expected_browser_errors):
    expected_browser_errors.allow(422)  # the bad file's answer, with its reasons
    sign_in(page, stack, "admin")
    page.goto(stack.url + "/directory/")
    bad = tmp_path / "bad.csv"
    bad.write_text("number,name,kind,label\n+13035550111,Lee Park,contact,Initech\nnot a number,Nobody,contact,\n+13035550112,,agent,\n")
    page.get_by_label("CSV file").set_input_files(str(bad))
    page.get_by_role("button", name="Import").click()
    errors = page.locator(".import-errors")
    expect(errors).to_contain_text("Nothing was imported: 2 lines to fix.")
    expect(errors).to_contain_text("Line 3: number")
    expect(errors).to_contain_text("Line 4: name")
    expect(page.locator("#directory")).not_to_contain_text("Lee Park")

    good = tmp_path / "good.csv"
    good.write_text("number,name,kind,label\n(303) 555-0111,Lee Park,contact,Initech\n+13035550112,Desk 12,agent,Support\n")
    page.get_by_label("CSV file").set_input_files(str(good))
    page.get_by_role("button", name="Import").click()
    expect(page.locator("p.notice")).to_have_text("Imported good.csv: 2 added, 0 updated.")
    expect(page.locator("#directory")).to_contain_text("Lee Park")
    expect(page.locator("#directory")).to_contain_text("(303) 555-0112")


def test_agents_have_no_directory_to_edit(stack, page):
    sign_in(page, stack, "agent")
    expect(page.get_by_role("link", name="Directory")).to_have_count(0)
    assert page.request.get(stack.url + "/directory/").status == 403
