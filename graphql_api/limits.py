"""What one GraphQL request may ask: its depth, aliases and tokens, how many items its lists return in all,
and what its text arguments may hold. Each refusal is a GraphQL error that says why."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import FieldNode, GraphQLError, IntValueNode, ValidationRule
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter, SchemaExtension

from graphql_api.errors import ClientError
from kernel.rules import is_plain_text

MAX_ITEMS = 1000  # per list (the original had no cap: max_items 10^9 would have read the whole table)
MAX_ITEMS_PER_REQUEST = 5 * MAX_ITEMS
MAX_ARGUMENT = 256  # characters of a text argument: longer than any IBAN, token or filter
ROOT_TYPES = {"QueryRoot", "MutationRoot", "SubscriptionRoot"}
LISTS = {"transactions_by_iban": "max_items", "all_last_transactions": "max_items", "alerts": "max_items"}
# Commands answer hostile text with a reason of their own (`description is invalid`), as the original's clients expect.
ANSWERED_WITH_A_REASON = {"get_account", "money_transfer", "add_alert_rule", "remove_alert_rule"}


def capped(max_items: int) -> int:
    """How many items a list gives for `max_items`: none for a negative number, at most `MAX_ITEMS`."""
    return min(max(max_items, 0), MAX_ITEMS)


def items_asked(field: FieldNode, argument: str) -> int:
    """How many items a list field may return: its literal `max_items` (capped), or the cap for a variable."""
    for node in field.arguments or ():
        if node.name.value == argument and isinstance(node.value, IntValueNode):
            return capped(int(node.value.value))
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


# The limiters make a new rule class per instance, and the validation cache is keyed by the rule classes:
# a limiter made per operation would miss the cache every time (it cost the web process 40% of its CPU).
# So their rules are made once, here, and added by one extension per operation.
RULES = [
    *QueryDepthLimiter(max_depth=8).validation_rules,
    *MaxAliasesLimiter(max_alias_count=20).validation_rules,
    ItemsPerRequest,
]


def refuse_hostile_text(**arguments: Any) -> None:
    """Raise `<argument> is invalid` for a text argument that is not plain text of a sane length, before a
    resolver or a database sees it (PostgreSQL refuses NUL)."""
    for name, value in arguments.items():
        if isinstance(value, str) and not is_plain_text(value, MAX_ARGUMENT):
            raise ClientError(f"{name} is invalid")


class PlainTextArguments(SchemaExtension):
    """Refuse hostile text in every argument of every query (subscriptions call `refuse_hostile_text` first)."""

    def resolve(self, _next: Callable, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        if info.parent_type.name in ROOT_TYPES and info.field_name not in ANSWERED_WITH_A_REASON:
            refuse_hostile_text(**kwargs)
        return _next(root, info, *args, **kwargs)
