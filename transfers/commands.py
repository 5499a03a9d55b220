"""The user action of `transfers`: ask the bank to move money. Kafka-free: the command goes through the bus."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from uuid import UUID

from accounts.iban import normalized_account
from accounts.rules import username_refusal
from kernel.bus import Command, ask
from kernel.logs import about_command
from transfers.rules import INVALID_TOKEN, MAX_TOKEN, transfer_refusal

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TransferAnswer:
    success: bool
    reason: str | None = None
    pending: bool = False  # no answer in time: sending the same command id again tells the outcome

    @classmethod
    def failed(cls, reason: str, *, pending: bool = False) -> TransferAnswer:
        return cls(success=False, reason=reason, pending=pending)


@dataclass(frozen=True)
class TransferMoney(Command[TransferAnswer]):
    """The ConfirmMoneyTransfer command. `from_account` and `to_account` are IBANs, `cash`, or another bank's,
    read as people write them once, where the command is made (at the edge, or from its record)."""

    token: str
    amount_cents: int
    from_account: str
    to_account: str
    description: str
    reference: str | None = None  # the customer's payment reference; blank is none

    def __post_init__(self) -> None:
        object.__setattr__(self, "from_account", normalized_account(self.from_account))
        object.__setattr__(self, "to_account", normalized_account(self.to_account))
        object.__setattr__(self, "reference", (self.reference or "").strip() or None)


async def request_transfer(
    *,
    command_id: UUID,
    username: str,
    token: str,
    amount_cents: int,
    from_account: str,
    to_account: str,
    description: str,
    reference: str | None = None,
) -> TransferAnswer:
    """Check the transfer, send it under `username` (which orders a customer's commands), return the outcome."""
    command = TransferMoney(
        command_id=command_id,
        token=token,
        amount_cents=amount_cents,
        from_account=from_account,
        to_account=to_account,
        description=description,
        reference=reference,
    )
    reason = transfer_refusal(
        amount_cents=command.amount_cents,
        from_account=command.from_account,
        to_account=command.to_account,
        description=command.description,
        reference=command.reference,
    ) or username_refusal(username)
    if reason is None and len(token) > MAX_TOKEN:
        reason = INVALID_TOKEN
    if reason:
        with about_command(command_id):
            logger.debug("transfer refused at the edge: %s", reason)
        return TransferAnswer.failed(reason)
    return await ask(command, key=username)
