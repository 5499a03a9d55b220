import uuid
from pathlib import Path

from graphql import build_schema, find_breaking_changes

from graphql_api.schema import schema

SNAPSHOT = Path(__file__).resolve().parents[1] / "schema.graphql"
ORIGINAL = Path(__file__).resolve().parents[1] / "original-schema.graphql"  # the Clojure endpoint's SDL


def test_the_printed_schema_matches_the_snapshot_in_the_repository():
    """If this fails, the API changed: review the change, then run `make schema` to update the snapshot."""
    assert schema.as_str() + "\n" == SNAPSHOT.read_text()


def test_nothing_a_client_of_the_original_api_uses_is_broken():
    original = build_schema(ORIGINAL.read_text())

    assert find_breaking_changes(original, schema._schema) == []


def test_root_types_keep_the_original_names():
    assert (schema._schema.query_type.name, schema._schema.subscription_type.name) == ("QueryRoot", "SubscriptionRoot")


def test_an_operation_seen_before_is_not_validated_again(monkeypatch):
    """Validation is most of the CPU an operation costs; the cache must hit with the limits in place."""
    import strawberry.schema.schema as strawberry_schema

    calls = []
    validate = strawberry_schema.validate
    monkeypatch.setattr(strawberry_schema, "validate", lambda *args, **kw: calls.append(1) or validate(*args, **kw))
    query = f"query Probe{uuid.uuid4().hex} {{ __typename }}"

    results = [schema.execute_sync(query) for _ in range(3)]

    assert [result.errors for result in results] == [None, None, None]
    assert len(calls) == 1


def test_an_operation_with_too_many_aliases_is_refused():
    aliases = "{ " + " ".join(f"a{n}: __typename" for n in range(21)) + " }"

    assert "has 21 aliases; 20 at most" in str(schema.execute_sync(aliases).errors)


def test_a_max_items_of_five_thousand_digits_is_the_clients_mistake():
    """Python's int() refuses 4,301 digits and more: the items budget once failed with "internal error"."""
    result = schema.execute_sync("{ all_last_transactions(max_items: " + "9" * 5000 + ") { id } }")

    assert "Int cannot represent" in str(result.errors) or "Expected value of type 'Int'" in str(result.errors)
    assert "internal error" not in str(result.errors)


def test_a_mutation_sends_five_commands_at_most():
    """Twenty aliased transfers to outside names once went to the ledger and the topics in one request."""
    transfer = 'money_transfer(uuid: "{}", username: "u", token: "t", amount: 1, from: "cash", to: "x", descr: "d")'
    six = " ".join(f"t{n}: " + transfer.format(uuid.uuid4()) + " { success }" for n in range(6))

    result = schema.execute_sync(f"mutation {{ {six} }}")

    assert "a mutation may send 5 commands at most; this one sends 6" in str(result.errors)


def test_a_fragment_bomb_in_a_mutation_is_measured_once_per_fragment():
    """Counting a mutation's commands once walked every spread again: 2^40 for forty fragments."""
    chain = " ".join(f"fragment F{n} on MutationRoot {{ ...F{n - 1} ...F{n - 1} }}" for n in range(1, 41))
    bomb = f"mutation {{ ...F40 }} fragment F0 on MutationRoot {{ __typename }} {chain}"

    assert "fields; 500 at most" in str(schema.execute_sync(bomb).errors)
