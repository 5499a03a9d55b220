"""The pages in headless Chromium against the whole application: what a person at the bank would do."""

import os
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, databases="__all__")]

CHROMIUM = "/usr/bin/chromium"
# Playwright's sync API keeps an event loop running in this thread, which makes Django refuse the test
# database's own set-up and flushes; those are safe here, as nothing else uses the thread.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="module")
def web(bank):
    return bank.web


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-background-networking"]
        )
        yield chromium
        chromium.close()


def log_in(page, web, username, password="secret-password"):
    page.goto(web + "/client/")
    page.fill("#login-form input[name=username]", username)
    page.fill("#login-form input[name=password]", password)
    page.click("#login-form button")


def newest(page):
    return page.locator("#transactions .transaction").first


def test_a_new_client_deposits_transfers_and_sees_it_all(web, browser, company_account):
    page = browser.new_page()
    username = f"browser-{uuid.uuid4().hex[:8]}"
    log_in(page, web, username)
    iban = page.inner_text("#iban")

    page.click("#deposit-1000")
    expect(newest(page)).to_contain_text("€10,00", timeout=20_000)
    page.reload()  # after post/redirect/get a reload sends nothing again
    page.wait_for_timeout(1_000)
    expect(page.locator("#transactions .transaction")).to_have_count(1)

    page.fill("#transfer-form input[name=amount]", "11,11")
    page.fill("#transfer-form input[name=to]", "NL66OPEN0000000000")
    page.fill("#transfer-form input[name=description]", "to the company")
    page.click("#transfer-form button")
    expect(newest(page)).to_contain_text("€11,11", timeout=20_000)
    expect(newest(page)).to_contain_text("debit")
    expect(page.locator("#balance")).to_have_text("-€1,11")

    page.fill("#transfer-form input[name=amount]", "1000")
    page.fill("#transfer-form input[name=to]", "cash")
    page.click("#transfer-form button")
    expect(page.locator("#outcome")).to_have_text("insufficient funds", timeout=20_000)

    page.click("text=Log out")
    log_in(page, web, username)
    expect(page.locator("#iban")).to_have_text(iban, timeout=20_000)


def test_a_deposit_updates_the_page_in_place_without_loading_it_again(web, browser):
    page = browser.new_page()
    log_in(page, web, f"browser-{uuid.uuid4().hex[:8]}")
    page.wait_for_selector("#deposit-2000")
    page.evaluate("window.loadedOnce = true")

    page.click("#deposit-2000")

    expect(page.locator("#outcome")).to_have_text("€20,00 deposited", timeout=20_000)
    expect(newest(page)).to_contain_text("€20,00", timeout=20_000)
    expect(page.locator("#balance")).to_have_text("€20,00")
    expect(page.locator("#transactions .empty")).to_be_hidden()  # "No transactions yet" goes with the first
    assert page.evaluate("window.loadedOnce === true")  # the same page: its feed's websocket stayed open


def test_what_is_typed_while_the_last_answer_comes_back_stays(web, browser, company_account):
    page = browser.new_page()
    log_in(page, web, f"browser-{uuid.uuid4().hex[:8]}")
    page.click("#deposit-5000")
    expect(page.locator("#outcome")).to_have_text("€50,00 deposited", timeout=20_000)

    page.fill("#transfer-form input[name=amount]", "1,00")
    page.fill("#transfer-form input[name=to]", "NL66OPEN0000000000")
    page.click("#transfer-form button")
    page.fill("#transfer-form input[name=description]", "typed while the bank answered")

    expect(page.locator("#outcome")).to_have_text("€1,00 sent", timeout=20_000)
    expect(page.locator("#transfer-form input[name=description]")).to_have_value("typed while the bank answered")
    expect(page.locator("#balance")).to_have_text("€49,00")


def test_a_second_browser_following_the_account_sees_a_deposit_without_reloading(web, browser):
    client = browser.new_page()
    log_in(client, web, f"browser-{uuid.uuid4().hex[:8]}")
    iban = client.inner_text("#iban")
    follower = browser.new_page(viewport={"width": 390, "height": 844})
    follower.goto(f"{web}/accounts/{iban}/")
    follower.wait_for_timeout(500)  # the page's websocket connects after load

    client.click("#deposit-5000")

    expect(newest(follower)).to_contain_text("€50,00", timeout=20_000)


def test_a_wrong_password_shows_the_original_message(web, browser):
    page = browser.new_page()
    username = f"browser-{uuid.uuid4().hex[:8]}"
    log_in(page, web, username)
    page.click("text=Log out")

    log_in(page, web, username, password="another-password")

    expect(page.locator("#outcome")).to_have_text("incorrect password")


def test_every_page_reads_without_javascript(web, browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    for path in ("/", "/employee/", "/client/", "/results/", "/accounts/NL66OPEN0000000000/"):
        response = page.goto(web + path)
        assert response.status == 200, path
        assert page.locator("#flex-main-menu a").nth(1).inner_text() == "Client"
    context.close()


AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


def accessibility_violations(page) -> list[str]:
    """What axe-core finds against WCAG 2 A and AA on the page as it stands: rule, and where."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        "async () => (await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']})).violations"
    )
    return [f"{v['id']}: {[n['target'] for n in v['nodes']]}" for v in found]


def test_no_page_breaks_a_wcag_rule_logged_in_or_out(web, browser, company_account):
    """The logged-in client page once had a colour without enough contrast."""
    page = browser.new_page()
    paths = ("/", "/employee/", "/client/", "/results/", "/status/", "/accounts/NL66OPEN0000000000/")
    found = {}
    for path in paths:
        page.goto(web + path)
        found[f"{path} logged out"] = accessibility_violations(page)
    log_in(page, web, f"axe-{uuid.uuid4().hex[:8]}")
    page.click("#deposit-1000")
    expect(newest(page)).to_contain_text("€10,00", timeout=20_000)
    found["/client/ logged in"] = accessibility_violations(page)
    for path in paths:
        page.goto(web + path)
        found[f"{path} logged in"] = accessibility_violations(page)

    assert {where: violations for where, violations in found.items() if violations} == {}
