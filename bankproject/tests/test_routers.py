from bankproject.routers import CommandQueryRouter


class LedgerThing:
    database = "ledger"


class ReadThing:
    pass


def test_command_side_models_live_in_the_ledger_database_and_the_rest_in_default():
    router = CommandQueryRouter()

    assert router.db_for_write(LedgerThing) == "ledger"
    assert router.db_for_read(ReadThing) == "default"


def test_a_data_migration_runs_only_on_the_database_it_targets():
    router = CommandQueryRouter()

    assert router.allow_migrate("ledger", "accounts", target_db="ledger") is True
    assert router.allow_migrate("default", "accounts", target_db="ledger") is False


def test_django_s_own_tables_stay_on_the_read_side():
    router = CommandQueryRouter()

    assert router.allow_migrate("default", "auth", model_name="user") is True
    assert router.allow_migrate("ledger", "auth", model_name="user") is False
