"""What one GraphQL request may ask: its depth, aliases, fields and tokens, how many items its lists return in
all, and what its text arguments may hold. Each refusal is a GraphQL error that says why."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from graphql import (
    ASTValidationRule,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValidationRule,
)
from strawberry.extensions import SchemaExtension

from graphql_api.errors import ClientError
from kernel.rules import is_plain_text

MAX_ITEMS = 1000  # per list (the original had no cap: max_items 10^9 would have read the whole table)
MAX_ITEMS_PER_REQUEST = 5 * MAX_ITEMS
MAX_TOKENS = 2000  # of a document: graphql-core's parser stops there
MAX_DEPTH = 8  # fields within fields, introspection left out (GraphiQL's own query is deeper)
MAX_ALIASES = 20
MAX_FIELDS = 500  # fields an operation selects, each fragment counted as often as it is spread
MAX_COMMANDS = 5  # root fields of a mutation: each is a command the ledger and the topics keep forever
MAX_ARGUMENT = 256  # characters of a text argument: longer than any IBAN, token or filter
ROOT_TYPES = {"QueryRoot", "MutationRoot", "SubscriptionRoot"}
LISTS = {
    "transactions_by_iban": "max_items",
    "all_last_transactions": "max_items",
    "alerts": "max_items",
    "explain_balance": "max_items",
}
# Commands answer hostile text with a reason of their own (`description is invalid`), as the original's clients expect.
ANSWERED_WITH_A_REASON = {"get_account", "money_transfer", "add_alert_rule", "remove_alert_rule"}


def capped(max_items: int) -> int:
    """How many items a list gives for `max_items`: none for a negative number, at most `MAX_ITEMS`."""
    return min(max(max_items, 0), MAX_ITEMS)


def items_asked(field: FieldNode, argument: str) -> int:
    """How many items a list field may return: its literal `max_items` (capped), or the cap for a variable."""
    for node in field.arguments or ():
        if node.name.value == argument and isinstance(node.value, IntValueNode):
            digits = node.value.value
            # No Int has more than ten digits (the spec's rules refuse it); Python's int() refuses 4,301 and more.
            return capped(int(digits)) if len(digits) <= 11 else MAX_ITEMS
    return MAX_ITEMS


class ItemsPerRequest(ValidationRule):
    """Refuse a request whose lists ask for more than `MAX_ITEMS_PER_REQUEST` items in all (aliases add up)."""

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self.items = 0

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        parent = self.context.get_parent_type()
        argument = LISTS.get(node.name.value)
        if argument and parent is not None and parent.name in ROOT_TYPES:
            self.items += items_asked(node, argument)

    def leave_document(self, *_: Any) -> None:
        if self.items > MAX_ITEMS_PER_REQUEST:
            self.report_error(
                GraphQLError(f"the lists of this request ask for {self.items} items; {MAX_ITEMS_PER_REQUEST} at most")
            )


@dataclass(frozen=True)
class Shape:
    """What a selection asks for once its fragments are spread: how deep, how many aliases and fields."""

    depth: int = 0
    aliases: int = 0
    fields: int = 0
    schemas: int = 0  # introspections of the whole schema: each answers tens of kilobytes
    names: frozenset[str] = frozenset()  # the response names at this level (a mutation's commands)

    def beside(self, other: Shape) -> Shape:
        return Shape(
            max(self.depth, other.depth),
            self.aliases + other.aliases,
            self.fields + other.fields,
            self.schemas + other.schemas,
            self.names | other.names,
        )


class Measure:
    """Measures selections, each fragment once: a fragment spread twice in each of 40 fragments is 2^40
    spreads, which walking every spread again (strawberry's limiters) would take weeks to count."""

    def __init__(self, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self.measured: dict[str, Shape] = {}
        self.measuring: set[str] = set()

    def selections(self, selection_set: SelectionSetNode | None) -> Shape:
        shape = Shape()
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                inner = self.selections(selection.selection_set)
                introspection = selection.name.value.startswith("__")
                depth = 0 if introspection or not selection.selection_set else inner.depth + 1
                schemas = inner.schemas + (selection.name.value == "__schema")
                name = frozenset({(selection.alias or selection.name).value})
                shape = shape.beside(
                    Shape(depth, inner.aliases + bool(selection.alias), inner.fields + 1, schemas, name)
                )
            elif isinstance(selection, InlineFragmentNode):
                shape = shape.beside(self.selections(selection.selection_set))
            elif isinstance(selection, FragmentSpreadNode):
                shape = shape.beside(self.fragment(selection.name.value))
        return shape

    def fragment(self, name: str) -> Shape:
        if name not in self.measured:
            fragment = self.fragments.get(name)
            if fragment is None or name in self.measuring:
                return Shape()  # unknown or a cycle: the spec's own rules refuse the document
            self.measuring.add(name)
            self.measured[name] = self.selections(fragment.selection_set)
            self.measuring.discard(name)
        return self.measured[name]


class OperationShape(ValidationRule):
    """Refuse an operation deeper than `MAX_DEPTH`, with more than `MAX_ALIASES` aliases, `MAX_FIELDS` fields
    or one `__schema`, counting fragments as spread; and a mutation of more than `MAX_COMMANDS` root fields."""

    def enter_document(self, node: Any, *_: Any) -> None:
        fragments = {d.name.value: d for d in node.definitions if isinstance(d, FragmentDefinitionNode)}
        measure = Measure(fragments)
        for operation in node.definitions:
            if isinstance(operation, OperationDefinitionNode):
                shape = measure.selections(operation.selection_set)
                self.check(operation, shape)
                commands = len(shape.names)
                if operation.operation == OperationType.MUTATION and commands > MAX_COMMANDS:
                    message = f"a mutation may send {MAX_COMMANDS} commands at most; this one sends {commands}"
                    self.report_error(GraphQLError(message, [operation]))

    def check(self, operation: OperationDefinitionNode, shape: Shape) -> None:
        name = operation.name.value if operation.name else "anonymous"
        for measured, most, what in (
            (shape.depth, MAX_DEPTH, "deep"),
            (shape.aliases, MAX_ALIASES, "aliases"),
            (shape.fields, MAX_FIELDS, "fields"),
            (shape.schemas, 1, "__schema fields"),
        ):
            if measured > most:
                asks = f"is {measured} fields deep" if what == "deep" else f"has {measured} {what}"
                self.report_error(GraphQLError(f"operation '{name}' {asks}; {most} at most", [operation]))


# The validation cache is keyed by the rule classes: rules made per operation (as strawberry's limiters make
# them) would miss it every time (it cost the web process 40% of its CPU). So they are made once, here.
RULES: list[type[ASTValidationRule]] = [OperationShape, ItemsPerRequest]


def refuse_hostile_text(**arguments: Any) -> None:
    """Raise `<argument> is invalid` for a text argument that is not plain text of a sane length, before a
    resolver or a database sees it (PostgreSQL refuses NUL)."""
    for name, value in arguments.items():
        if isinstance(value, str) and not is_plain_text(value, MAX_ARGUMENT):
            raise ClientError(f"{name} is invalid")


class GuardEachField(SchemaExtension):
    """Before each field: refuse hostile text in a root field's arguments (subscriptions call
    `refuse_hostile_text` first), and, in a query, refuse to go on once it is past its deadline: no read
    holds the event loop that serves every connection of the process for long. (Mutations wait for the
    bank, not the loop; subscriptions run on.)"""

    def on_execute(self) -> Iterator[None]:
        self.deadline = time.monotonic() + settings.GRAPHQL_DEADLINE_SECONDS
        yield

    def resolve(self, _next: Callable, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        if info.operation.operation == OperationType.QUERY and time.monotonic() > self.deadline:
            raise ClientError(f"this query took more than {settings.GRAPHQL_DEADLINE_SECONDS:g} s; ask for less")
        if info.parent_type.name in ROOT_TYPES and info.field_name not in ANSWERED_WITH_A_REASON:
            refuse_hostile_text(**kwargs)
        return _next(root, info, *args, **kwargs)
