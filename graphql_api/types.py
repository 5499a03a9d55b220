"""The original's GraphQL types, names and descriptions kept (see ../shared/reference/seed-schema.graphql)."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry


@strawberry.enum(name="dtype", description="whether the money was added or removed")
class Direction(Enum):
    DEBIT = "DEBIT"
    CREDIT = "CREDIT"


@strawberry.type(name="Transaction", description="The result of money successfully being transferred")
class TransactionType:
    id: int
    iban: str | None = strawberry.field(description="The iban of the account that was changed.")
    new_balance: str | None = strawberry.field(description="The amount in euros after the transaction.")
    changed_by: str | None = strawberry.field(
        description="The amount in euros of the change, a negative number means debit, positive is credit."
    )
    from_to: str | None = strawberry.field(description="The iban or name of the counter party.")
    descr: str | None = strawberry.field(description="The description of why the money was transferred.")
    direction: Direction | None = strawberry.field(description="Whether it's a DEBIT or CREDIT change.")

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> TransactionType:
        """From the dict that transfers.notifications sends (and transaction_payload builds)."""
        return cls(
            id=payload["id"],
            iban=payload["iban"],
            new_balance=payload["new_balance"],
            changed_by=payload["changed_by"],
            from_to=payload["from_to"],
            descr=payload["descr"],
            direction=Direction(payload["direction"]),
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
