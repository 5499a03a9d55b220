"""An alert as the read side tells it: to live listeners (the client page, stream_alerts)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from alerts.models import Alert
from kernel.live import Notification, group_for

ALERT_FIRED = "alert.fired"


def alerts_group(iban: str) -> str:
    return group_for("alerts", iban)


@dataclass(frozen=True)
class AlertNotice:
    id: UUID
    iban: str
    rule_id: UUID
    kind: str
    message: str
    created_at: datetime

    @classmethod
    def of(cls, row: Alert) -> AlertNotice:
        return cls(row.id, row.iban, row.rule_id, row.kind, row.message, row.created_at)

    def as_message(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        return {**data, "id": self.id.hex, "rule_id": self.rule_id.hex, "created_at": self.created_at.isoformat()}

    @classmethod
    def from_message(cls, data: dict[str, Any]) -> AlertNotice:
        return cls(
            id=UUID(hex=data["id"]),
            iban=data["iban"],
            rule_id=UUID(hex=data["rule_id"]),
            kind=data["kind"],
            message=data["message"],
            created_at=datetime.fromisoformat(data["created_at"]),
        )


def alerts_fired(rows: list[Alert]) -> list[Notification]:
    """Channel-layer notifications: each new alert to its account's group."""
    return [(alerts_group(row.iban), {"type": ALERT_FIRED, "alert": AlertNotice.of(row).as_message()}) for row in rows]
