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
