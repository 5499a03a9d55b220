import pytest


def test_the_home_page_says_what_the_system_is(client, db):
    response = client.get("/")

    assert response.status_code == 200
    assert b"every command goes through Apache Kafka" in response.content


def test_a_missing_page_says_so_in_the_bank_s_style(client, db, settings):
    settings.DEBUG = False

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert b"There is no such page" in response.content


def test_the_feed_options_swap_the_feed_alone_when_htmx_asks(client, db):
    page = client.get("/?n=25")
    feed = client.get("/?n=25", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="feed")

    assert b"<html" in page.content and b'id="feed"' in page.content
    assert b"<html" not in feed.content and feed.content.lstrip().startswith(b'<section class="feed" id="feed"')
    assert b'<option value="25" selected' in feed.content


def test_a_page_of_accounts_swaps_the_table_alone_when_htmx_asks(client, db):
    part = client.get("/employee/?after=NL", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="accounts")

    assert b"<html" not in part.content and b'<section id="accounts">' in part.content


def test_the_employee_page_pages_by_iban_without_counting_every_account(client, db):
    """It once counted, then skipped, every account on each view (seconds at a million accounts)."""
    from kernel.balances import BalanceChange
    from transfers.projections import BalanceChangedEvent, record_balance_changes

    ibans = [f"NL{n:02d}PAGE{n:010d}" for n in range(25)]
    record_balance_changes(
        [BalanceChangedEvent(BalanceChange("", iban, 100, 100, "cash", "t"), 0, n) for n, iban in enumerate(ibans)]
    )

    first = client.get("/employee/").content.decode()
    second = client.get(f"/employee/?after={ibans[19]}").content.decode()

    assert all(iban in first for iban in ibans[:20]) and ibans[20] not in first
    assert f"?after={ibans[19]}" in first
    assert all(iban in second for iban in ibans[20:]) and "more →" not in second
    assert "page 1 of" not in first  # no count of every account
    assert client.get("/employee/?after=%00").status_code == 200


def test_a_page_of_an_account_no_iban_can_name_is_an_empty_feed(client, db):
    """A NUL in the address reached PostgreSQL, which refuses it."""
    assert client.get("/accounts/NL%00X/").status_code == 200


def stored(*changes):
    """Rows in the read model for (iban, balance, amount, description, when), each at the next offset."""
    from kernel.balances import BalanceChange
    from transfers.projections import BalanceChangedEvent, record_balance_changes

    record_balance_changes(
        [
            BalanceChangedEvent(BalanceChange("", iban, balance, amount, "cash", description, at), 0, offset)
            for offset, (iban, balance, amount, description, at) in enumerate(changes)
        ]
    )


def test_an_account_as_of_a_moment_shows_its_balance_and_transactions_then_and_is_not_live(client, db):
    from datetime import UTC, datetime

    iban = "NL07OPEN0689540112"
    stored(
        (iban, 1000, 1000, "first", datetime(2026, 12, 7, 9, tzinfo=UTC)),
        (iban, 700, -300, "second", datetime(2026, 12, 7, 10, tzinfo=UTC)),
        (iban, 750, 50, "third", datetime(2026, 12, 7, 11, tzinfo=UTC)),
    )

    then = client.get(f"/accounts/{iban}/?as_of=2026-12-07T10:30:00").content.decode()
    live = client.get(f"/accounts/{iban}/").content.decode()
    before = client.get(f"/accounts/{iban}/?as_of=2026-12-07T08:59:59").content.decode()

    assert 'Balance at 2026-12-07 10:30:00 UTC <strong id="balance">€7,00</strong>' in then
    assert "second" in then and "first" in then and "third" not in then
    assert "ws-connect" not in then and 'id="live"' in then
    assert '<strong id="balance">€7,50</strong>' in live and "ws-connect" in live and 'id="live"' not in live
    assert '<strong id="balance">€0,00</strong>' in before and "No transactions yet" in before


def test_the_employee_page_as_of_a_moment_shows_each_accounts_balance_then(client, db):
    from datetime import UTC, datetime

    stored(
        ("NL01", 100, 100, "t", datetime(2026, 1, 1, tzinfo=UTC)),
        ("NL02", 200, 200, "t", datetime(2026, 6, 1, tzinfo=UTC)),
        ("NL01", 150, 50, "t", datetime(2026, 9, 1, tzinfo=UTC)),
    )

    then = client.get("/employee/?as_of=2026-03-01T00:00:00").content.decode()
    now = client.get("/employee/").content.decode()

    assert "Balance at 2026-03-01 00:00:00 UTC" in then
    assert '<td class="balance">€1,00</td>' in then and "no account yet" in then
    assert '<td class="balance">€1,50</td>' in now and '<td class="balance">€2,00</td>' in now
    assert client.get("/employee/?as_of=not-a-moment").status_code == 200


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59.999999-05:00", "9" * 10_000])
def test_a_moment_outside_what_utc_can_hold_or_none_at_all_is_the_live_page(client, db, at):
    """Year 1 at +05:00 is year 0 in UTC: the page once failed (500) formatting it."""
    for page in ("/accounts/NL07OPEN0689540112/", "/employee/"):
        response = client.get(page, {"as_of": at})

        assert response.status_code == 200, page
        assert 'id="live"' not in response.content.decode()
