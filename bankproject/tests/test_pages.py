def test_the_home_page_says_what_the_system_is(client, db):
    response = client.get("/")

    assert response.status_code == 200
    assert b"every command goes through Apache Kafka" in response.content
