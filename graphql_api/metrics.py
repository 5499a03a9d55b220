"""Prometheus metrics of the GraphQL API: operations by name and outcome, subscriptions open."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import Counter, Gauge
from strawberry.extensions import SchemaExtension

OPERATIONS = Counter("bank_graphql_operations", "GraphQL operations, by name and outcome", ["operation", "outcome"])
SUBSCRIPTIONS = Gauge("bank_graphql_subscriptions", "GraphQL subscriptions open now", multiprocess_mode="livesum")


class CountOperations(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context
        name = context.operation_name or _root_field(context.query) or "anonymous"
        result = context.result
        outcome = "error" if getattr(result, "errors", None) else "ok"
        OPERATIONS.labels(name[:60], outcome).inc()


def _root_field(query: str | None) -> str | None:
    """The first root field of an unnamed operation (`money_transfer`), without parsing it again."""
    if not query:
        return None
    body = query.split("{", 1)[-1].strip()
    return body.split("(", 1)[0].split("{", 1)[0].split()[0] if body else None
