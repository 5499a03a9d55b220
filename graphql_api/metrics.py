"""Prometheus metrics of the GraphQL API: operations by root field and outcome, subscriptions open."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

from graphql import FieldNode, GraphQLSchema, get_operation_ast
from prometheus_client import Counter, Gauge
from strawberry.extensions import SchemaExtension

OPERATIONS = Counter(
    "bank_graphql_operations", "GraphQL operations, by root field and outcome", ["operation", "outcome"]
)
SUBSCRIPTIONS = Gauge("bank_graphql_subscriptions", "GraphQL subscriptions open now", multiprocess_mode="livesum")


class CountOperations(SchemaExtension):
    """Label each operation by its first root field: a name of our schema, never one a client chose (a label
    value per client-chosen name would make a new time series each, without end)."""

    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context
        outcome = "error" if getattr(context.result, "errors", None) else "ok"
        OPERATIONS.labels(operation_label(context), outcome).inc()


def operation_label(context) -> str:
    document = context.graphql_document
    operation = get_operation_ast(document, context.operation_name) if document is not None else None
    if operation is None:
        return "unparsed"
    known = root_fields(context.schema._schema)
    for selection in operation.selection_set.selections:
        if isinstance(selection, FieldNode) and selection.name.value in known:
            return selection.name.value
    return "other"


@cache
def root_fields(schema: GraphQLSchema) -> frozenset[str]:
    roots = (schema.query_type, schema.mutation_type, schema.subscription_type)
    return frozenset(name for root in roots if root is not None for name in root.fields)
