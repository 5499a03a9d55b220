def test_the_home_page_says_what_the_system_is(client, db):
    response = client.get("/")

    assert response.status_code == 200
    assert b"every command goes through Apache Kafka" in response.content


def test_a_missing_page_says_so_in_the_bank_s_style(client, db, settings):
    settings.DEBUG = False

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert b"There is no such page" in response.content
