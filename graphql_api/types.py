"""The original's GraphQL types, names and descriptions kept (see ../shared/reference/seed-schema.graphql).

`Transaction` is a strawberry-django type over the read model; a live notice (`TransactionNotice`) has
the same attribute names, so subscriptions yield notices through the very same type. Money is formatted
here, at the edge, as the original showed it (`€10,00`).
"""

from __future__ import annotations

from datetime import datetime
from typing import NewType

import strawberry
import strawberry_django

from alerts.models import Alert as AlertModel
from alerts.models import AlertRule as AlertRuleModel
from alerts.notices import AlertNotice
from alerts.rules import AlertKind
from kernel.money import format_euro
from transfers.models import Transaction
from transfers.notices import TransactionNotice

# The domain's own enums, as GraphQL names them: one list of members each.
Direction = Transaction.Direction
strawberry.enum(Direction, name="dtype", description="whether the money was added or removed")
strawberry.enum(AlertKind, name="AlertKind", description="What an alert rule watches for")


@strawberry_django.type(
    Transaction, name="Transaction", description="The result of money successfully being transferred"
)
class TransactionType:
    id: int

    @classmethod
    def is_type_of(cls, obj: object, info: strawberry.Info) -> bool:
        return isinstance(obj, Transaction | TransactionNotice)  # a row of the read model, or a live notice

    iban: str | None = strawberry_django.field(description="The iban of the account that was changed.")

    @strawberry_django.field(description="The amount in euros after the transaction.", only=["new_balance_cents"])
    def new_balance(self, root: Transaction | TransactionNotice) -> str | None:
        return format_euro(root.new_balance_cents)

    @strawberry_django.field(
        description="The amount in euros of the change, a negative number means debit, positive is credit.",
        only=["changed_by_cents"],
    )
    def changed_by(self, root: Transaction | TransactionNotice) -> str | None:
        return format_euro(abs(root.changed_by_cents))

    @strawberry_django.field(description="The iban or name of the counter party.", only=["counterparty"])
    def from_to(self, root: Transaction | TransactionNotice) -> str | None:
        return root.counterparty

    @strawberry_django.field(description="The description of why the money was transferred.", only=["description"])
    def descr(self, root: Transaction | TransactionNotice) -> str | None:
        return root.description

    @strawberry_django.field(description="The payment reference the sender gave, if any.", only=["reference"])
    def reference(self, root: Transaction | TransactionNotice) -> str | None:
        return root.reference or None

    @strawberry_django.field(
        description="When the ledger made the change (for changes from before it kept the time: when Kafka stored "
        "the event).",
        only=["changed_at"],
    )
    def changed_at(self, root: Transaction | TransactionNotice) -> datetime | None:
        return root.changed_at

    @strawberry_django.field(description="Whether it's a DEBIT or CREDIT change.", only=["changed_by_cents"])
    def direction(self, root: Transaction | TransactionNotice) -> Direction | None:
        return Direction(root.direction)


Long = NewType("Long", int)  # a GraphQL scalar of its own: see LONG
LONG = strawberry.scalar(
    name="Long",
    serialize=int,
    parse_value=int,
    description="A 64-bit integer (GraphQL's Int has 32 bits): euro cents, offsets.",
)


@strawberry.type(description="One change that makes up a balance, and where its event sits in the log")
class BalanceStep:
    amount: str = strawberry.field(description="The change in euros, negative for a debit.")
    amount_cents: Long = strawberry.field(description="The change in euro cents, negative for a debit.")
    balance: str = strawberry.field(description="The balance in euros after it.")
    balance_cents: Long = strawberry.field(description="The balance in euro cents after it.")
    changed_at: datetime | None = strawberry.field(description="When the ledger made it.")
    descr: str
    from_to: str = strawberry.field(description="The iban or name of the counter party.")
    command_id: str | None = strawberry.field(
        description="The command that caused it (null for an event without our headers)."
    )
    topic: str
    partition: int
    offset: Long

    @classmethod
    def of(cls, row: Transaction) -> BalanceStep:
        return cls(
            amount=format_euro(row.changed_by_cents),
            amount_cents=Long(row.changed_by_cents),
            balance=format_euro(row.new_balance_cents),
            balance_cents=Long(row.new_balance_cents),
            changed_at=row.changed_at,
            descr=row.description,
            from_to=row.counterparty,
            command_id=str(row.command_id) if row.command_id else None,
            topic=row.source_topic,
            partition=row.source_partition,
            offset=Long(row.source_offset),
        )


@strawberry.type(description="The information needed to make transactions")
class AccountResult:
    iban: str | None = strawberry.field(default=None, description="The iban of the account.")
    token: str | None = strawberry.field(default=None, description="The token needed to access the account.")
    reason: str | None = strawberry.field(default=None, description="In case of error this will be filled.")


@strawberry.type(description="The feedback from a money transfer request")
class MoneyTransferResult:
    uuid: str | None = strawberry.field(default=None, description="Uuid used for the request")
    success: bool | None = strawberry.field(default=None, description="Whether the transfer succeeded")
    reason: str | None = strawberry.field(default=None, description="The reason the transfer failed.")


@strawberry_django.type(
    AlertRuleModel, name="AlertRule", description="A rule: tell the owner when a balance change matches"
)
class AlertRuleType:
    id: strawberry.ID
    kind: AlertKind
    threshold: int | None = strawberry_django.field(
        field_name="threshold_cents", description="In euro cents, for the kinds that compare amounts."
    )

    @strawberry_django.field(description="The text a description must contain, in any case.", only=["text"])
    def descr_includes(self, root: AlertRuleModel) -> str | None:
        return root.text or None


@strawberry.type(name="Alert", description="A balance change that matched one of the account's alert rules")
class AlertType:
    id: strawberry.ID
    iban: str
    kind: AlertKind
    message: str
    rule_id: strawberry.ID
    created_at: str = strawberry.field(description="When it fired, ISO 8601")

    @classmethod
    def of(cls, alert: AlertModel | AlertNotice) -> AlertType:
        return cls(
            id=strawberry.ID(str(alert.id)),
            iban=alert.iban,
            kind=AlertKind(alert.kind),
            message=alert.message,
            rule_id=strawberry.ID(str(alert.rule_id)),
            created_at=alert.created_at.isoformat(),
        )


@strawberry.type(description="The answer to adding or removing an alert rule")
class AlertRuleResult:
    id: strawberry.ID | None = strawberry.field(default=None, description="The rule's id")
    reason: str | None = strawberry.field(default=None, description="Why not, when refused.")
