"""Fixtures shared by every app's tests; `testing.live` adds the whole running application (`bank`)."""

import pytest
from confluent_kafka.admin import AdminClient
from django.conf import settings

from kafka_bridge import clients
from kafka_bridge.logging import silent_librdkafka_logger
from kafka_bridge.wire.codecs import registry_client

pytest_plugins = ["testing.live"]


@pytest.fixture(autouse=True, scope="session")
def _flush_tries_again_after_a_deadlock():
    """A transactional test's flush may deadlock with the running bank's processes (see `testing.databases`)."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    from testing.databases import retrying_deadlocks

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DatabaseOperations, "execute_sql_flush", retrying_deadlocks(DatabaseOperations.execute_sql_flush))
        yield


def _require_stack() -> None:
    admin = clients.admin(logger=silent_librdkafka_logger())
    try:
        admin.list_topics(timeout=10)
        registry_client().get_subjects()
    except Exception as error:  # noqa: BLE001
        pytest.fail(
            f"integration tests need the real stack ({settings.KAFKA_BOOTSTRAP_SERVERS}, "
            f"{settings.SCHEMA_REGISTRY_URL}): run them with `make test`. ({error})",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def stack() -> None:
    """The real Kafka broker and schema registry that `make test` started."""
    _require_stack()


@pytest.fixture
def admin(stack) -> AdminClient:
    return clients.admin(logger=silent_librdkafka_logger())


@pytest.fixture
def registry(stack):
    return registry_client()


@pytest.fixture
def in_memory(settings):
    """The in-memory command bus (`kernel.bus.InMemoryBus`): no broker, answers the test chooses."""
    from kernel.bus import get_command_bus

    settings.COMMAND_BUS = "kernel.bus.InMemoryBus"
    get_command_bus.cache_clear()
    yield get_command_bus()  # this test's own: the next one gets another
    get_command_bus.cache_clear()


@pytest.fixture
def company_account(django_db_blocker):
    """The company account a migration seeds; tests that flush the ledger (transactional ones) lose it."""
    from accounts.migrations import _company
    from accounts.models import LedgerAccount

    with django_db_blocker.unblock():
        return LedgerAccount.objects.get_or_create(iban=_company.COMPANY["iban"], defaults=_company.company_defaults())[
            0
        ]
