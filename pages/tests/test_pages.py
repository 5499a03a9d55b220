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
    part = client.get("/employee/?page=1", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="accounts")

    assert b"<html" not in part.content and b'<section id="accounts">' in part.content
