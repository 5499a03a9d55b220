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
