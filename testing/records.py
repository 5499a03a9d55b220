"""One example of each record of the wire, in each version and union branch: what the codec tests encode."""

import uuid
from datetime import UTC, datetime

from kafka_bridge.wire.messages import (
    AccountCreationConfirmed,
    AccountCreationFailed,
    AlertRule,
    AlertRuleChangeConfirmed,
    AlertRuleChangeFailed,
    AlertsSettingsUpdated,
    AlertTriggered,
    AlertTriggeredV2,
    BalanceChanged,
    CommandEvent,
    ConfirmAccountCreation,
    ConfirmAlertRuleChange,
    ConfirmMoneyTransfer,
    LogPosition,
    MoneyTransferConfirmed,
    MoneyTransferFailed,
)

ID = uuid.UUID("4bac2a10-7022-4923-8471-74706f484dd2")
EXAMPLES = [
    ConfirmAccountCreation(id=ID, username="alice"),
    AccountCreationConfirmed(id=ID, iban="NL66OPEN0000000000", token="0" * 20),
    AccountCreationFailed(id=ID, reason="generated iban already exists, try again"),
    ConfirmMoneyTransfer(
        id=ID,
        token="1" * 20,
        amount_cents=1111,
        from_account="cash",
        to_account="NL66OPEN0000000000",
        description="deposit",
    ),
    ConfirmMoneyTransfer(ID, "1" * 20, 2222, "cash", "NL66OPEN0000000000", "rent", reference="INV-2026-0042"),
    MoneyTransferConfirmed(id=ID),
    MoneyTransferFailed(id=ID, reason="insufficient funds"),
    BalanceChanged(
        iban="NL66OPEN0000000000",
        new_balance_cents=-500,
        changed_by_cents=-1000,
        counterparty="cash",
        description="withdrawal",
    ),
    BalanceChanged(
        "NL66OPEN0000000000", 100, 100, "cash", "deposit", datetime(2026, 12, 7, 9, 0, 0, 123000, UTC), "R1"
    ),
    ConfirmAlertRuleChange(
        id=ID, iban="NL66OPEN0000000000", token="0" * 20, action="ADD", rule_id=ID, kind="DEBIT_ABOVE", threshold=1000
    ),
    ConfirmAlertRuleChange(id=ID, iban="NL66OPEN0000000000", token="0" * 20, action="REMOVE", rule_id=ID),
    AlertRuleChangeConfirmed(id=ID),
    AlertRuleChangeFailed(id=ID, reason="invalid token"),
    AlertsSettingsUpdated(
        iban="NL66OPEN0000000000",
        rules=(
            AlertRule(id=ID, kind="BALANCE_BELOW", threshold=-500),
            AlertRule(id=ID, kind="DESCRIPTION_MATCHES", text="rent"),
        ),
    ),
    AlertsSettingsUpdated(iban="NL66OPEN0000000000", rules=()),
    AlertTriggered(id=ID, iban="NL66OPEN0000000000", rule_id=ID, kind="DEBIT_ABOVE", message="Debit", trigger="x/0"),
    AlertTriggeredV2(ID, "NL66OPEN0000000000", ID, "DEBIT_ABOVE", "Debit", CommandEvent(ID, 1)),
    AlertTriggeredV2(ID, "NL66OPEN0000000000", ID, "CREDIT_ABOVE", "Credit", LogPosition("balance_changed", 3, 2**40)),
]
