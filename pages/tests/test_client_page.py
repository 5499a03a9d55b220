"""The client page's forms, with a scripted command bus in place of Kafka (the bus is a setting)."""

import re
import uuid

import pytest

from accounts.commands import AccountAnswer, OpenAccount
from kernel.bus import NoAnswer
from transfers.commands import TransferAnswer, TransferMoney

pytestmark = pytest.mark.django_db(
    transaction=True, databases=["default", "ledger"]
)  # database_sync_to_async closes connections


@pytest.fixture
def bus(in_memory, settings):
    """The in-memory bus: a login is always answered, transfers as each test says."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    in_memory.answer_with(OpenAccount, AccountAnswer(iban="NL80OPEN0123456789", token="1" * 20))
    return in_memory


def form_id(page: bytes, form: str) -> str:
    """The command id a form sends (`transfer-form`, `deposit-1000`), from a page or an htmx answer."""
    field = "command-id-transfer" if form == "transfer-form" else f"command-id-{form}"
    return re.search(rf'id="{field}" value="([0-9a-f-]+)"', page.decode()).group(1)


@pytest.fixture
def logged_in(client, bus):
    response = client.post("/client/", {"username": "customer-1", "password": "secret-password"})
    assert response.status_code == 302
    return client


def test_logging_in_gives_the_session_a_new_key(client, bus):
    client.get("/client/")
    before = client.session.session_key

    client.post("/client/", {"username": "customer-2", "password": "secret-password"})

    assert client.session.session_key != before and client.session["bank_account"]["username"] == "customer-2"


def test_a_transfer_without_an_answer_is_pending_and_sending_it_again_repeats_the_same_command(logged_in, bus):
    page = logged_in.get("/client/").content
    command_id = form_id(page, "transfer-form")
    bus.answer_with(TransferMoney, NoAnswer, TransferAnswer(success=True))
    form = {"command_id": command_id, "amount": "11,11", "to": "NL66OPEN0000000000", "description": "rent"}

    logged_in.post("/client/transfer/", form)
    pending = logged_in.get("/client/").content

    assert b"is pending" in pending and b"will not be made twice" in pending
    assert form_id(pending, "transfer-form") == command_id  # the form sends the same command again
    assert b'value="11,11"' in pending and b'value="rent"' in pending

    logged_in.post("/client/transfer/", form)
    done = logged_in.get("/client/").content

    assert b"sent" in done and form_id(done, "transfer-form") != command_id
    assert [c.command_id for c in bus.sent[1:]] == [uuid.UUID(command_id)] * 2


def test_each_deposit_button_sends_its_own_command_id(logged_in, bus):
    page = logged_in.get("/client/").content
    command_id = form_id(page, "deposit-1000")
    bus.answer_with(TransferMoney, TransferAnswer(success=True))

    logged_in.post("/client/deposit/1000/", {"command_id": command_id})

    assert bus.sent[-1].command_id == uuid.UUID(command_id) and bus.sent[-1].from_account == "cash"


def test_a_form_without_a_command_id_is_refused_with_a_reason(logged_in, bus):
    logged_in.post("/client/transfer/", {"amount": "1", "to": "NL66OPEN0000000000"})

    assert b"this form is out of date" in logged_in.get("/client/").content
    assert len(bus.sent) == 1  # the login only


def test_an_htmx_transfer_is_answered_in_place_not_with_a_redirect(logged_in, bus):
    command_id = form_id(logged_in.get("/client/").content, "transfer-form")
    bus.answer_with(TransferMoney, TransferAnswer(success=False, reason="insufficient funds"))
    form = {"command_id": command_id, "amount": "11,11", "to": "NL66OPEN0000000000", "description": "rent"}

    response = logged_in.post("/client/transfer/", form, headers={"HX-Request": "true", "HX-Target": "outcome-slot"})

    part = response.content
    assert response.status_code == 200 and b"<html" not in part and b"<form" not in part  # the typed form stays
    assert b"insufficient funds" in part and form_id(part, "transfer-form") != command_id
    assert b"insufficient funds" not in logged_in.get("/client/").content  # told once, not again after a reload


def test_an_htmx_form_after_the_session_ended_sends_the_browser_to_log_in(client, bus):
    response = client.post("/client/deposit/1000/", {"command_id": str(uuid.uuid4())}, headers={"HX-Request": "true"})

    assert response.status_code == 200 and response.headers["HX-Redirect"] == "/client/"
    assert bus.sent == []


def test_a_form_sends_the_same_command_however_often_the_page_is_shown_until_the_bank_answers(logged_in, bus):
    """A reload after a crash (before any answer) once showed a new id: sending again paid twice."""
    first, again = logged_in.get("/client/").content, logged_in.get("/client/").content

    for form in ("transfer-form", "deposit-1000", "deposit-50000"):
        assert form_id(first, form) == form_id(again, form)
    bus.answer_with(TransferMoney, TransferAnswer(success=True))
    logged_in.post("/client/deposit/1000/", {"command_id": form_id(first, "deposit-1000")})
    after = logged_in.get("/client/").content
    assert form_id(after, "deposit-1000") != form_id(first, "deposit-1000")  # answered: the next is another
    assert form_id(after, "transfer-form") == form_id(first, "transfer-form")


def test_a_form_used_again_from_a_stale_tab_is_told_why_it_was_not_sent(logged_in, bus):
    command_id = form_id(logged_in.get("/client/").content, "transfer-form")
    bus.answer_with(TransferMoney, TransferAnswer(success=False, reason="uuid already used for another command"))
    form = {"command_id": command_id, "amount": "5", "to": "NL66OPEN0000000000", "description": "other"}

    logged_in.post("/client/transfer/", form)
    page = logged_in.get("/client/").content

    assert b"was already made" in page and form_id(page, "transfer-form") != command_id


TEMPLATE_SOURCE = re.compile(r"\{[{%#]|[}%#]\}")


def visible(page: bytes) -> str:
    """The page without its scripts: what a person can see, markup included."""
    return re.sub(r"<script\b.*?</script>", "", page.decode(), flags=re.DOTALL)


def test_no_page_shows_template_source_before_or_after_logging_in(client, bus):
    """A multi-line {# #} comment (Django's span one line) once showed at the top of the client page."""
    pages = ["/", "/employee/", "/accounts/NL66OPEN0000000000/", "/client/", "/status/", "/results/", "/admin/login/"]
    before = {path: client.get(path) for path in pages}
    client.post("/client/", {"username": "customer-9", "password": "secret-password"})
    after = {path: client.get(path) for path in pages}

    for path, response in [*before.items(), *after.items()]:
        assert response.status_code == 200, path
        assert not TEMPLATE_SOURCE.search(visible(response.content)), (
            f"{path}: {TEMPLATE_SOURCE.search(visible(response.content))}"
        )
    assert b'id="iban"' in after["/client/"].content


def test_a_transfers_payment_reference_goes_with_its_command(logged_in, bus):
    command_id = form_id(logged_in.get("/client/").content, "transfer-form")
    bus.answer_with(TransferMoney, TransferAnswer(success=True))
    form = {"command_id": command_id, "amount": "5", "to": "NL66OPEN0000000000", "reference": " INV-2026-0042 "}

    logged_in.post("/client/transfer/", form)

    assert bus.sent[-1].reference == "INV-2026-0042"
    assert b'name="reference"' in logged_in.get("/client/").content
