"""Our alerts in GraphQL: rules added and removed by the account's owner, alerts listed and streamed."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from accounts.access import is_owner
from alerts.commands import add_alert_rule, remove_alert_rule
from alerts.notices import ALERT_FIRED, AlertNotice, alerts_group
from alerts.rules import AlertKind
from alerts.selectors import latest_alerts, rules_of
from graphql_api.errors import ClientError
from graphql_api.limits import capped, refuse_hostile_text
from graphql_api.types import AlertRuleResult, AlertRuleType, AlertType
from kernel.live import listening
from kernel.reads import read
from kernel.rules import INVALID_TOKEN


async def _owner_only(iban: str, token: str) -> None:
    if not await read(is_owner, iban, token):
        raise ClientError(INVALID_TOKEN)


@strawberry.type
class AlertMutations:
    @strawberry.mutation(description="Add an alert rule to an account (ours: the original had no alerts)")
    async def add_alert_rule(
        self,
        iban: str,
        token: str,
        kind: AlertKind,
        threshold: Annotated[int | None, strawberry.argument(description="euro cents")] = None,
        descr_includes: str | None = None,
    ) -> AlertRuleResult:
        answer = await add_alert_rule(
            iban=iban, token=token, kind=kind.value, threshold_cents=threshold, text=descr_includes
        )
        return AlertRuleResult(
            id=None if answer.rule_id is None else strawberry.ID(str(answer.rule_id)), reason=answer.reason
        )

    @strawberry.mutation(description="Remove an alert rule of an account")
    async def remove_alert_rule(self, iban: str, token: str, id: strawberry.ID) -> AlertRuleResult:
        try:
            rule_id = uuid.UUID(str(id))
        except ValueError:
            raise ClientError(f"id {str(id)[:64]!r} is not a valid rule id") from None
        answer = await remove_alert_rule(iban=iban, token=token, rule_id=rule_id)
        return AlertRuleResult(id=id if answer.reason is None else None, reason=answer.reason)


@strawberry.type
class AlertQueries:
    @strawberry.field(description="The alert rules of an account")
    async def alert_rules(self, iban: str, token: str) -> list[AlertRuleType]:
        await _owner_only(iban, token)
        rules = await read(lambda: list(rules_of(iban)))
        return rules  # type: ignore[return-value]  # rows, resolved as their type

    @strawberry.field(description="The newest alerts of an account, newest first")
    async def alerts(self, iban: str, token: str, max_items: int) -> list[AlertType]:
        await _owner_only(iban, token)
        rows = await read(lambda: list(latest_alerts(iban, capped(max_items))))
        return [AlertType.of(row) for row in rows]


@strawberry.type
class AlertSubscriptions:
    @strawberry.subscription(description="An account's alerts as they fire")
    async def stream_alerts(self, iban: str, token: str) -> AsyncGenerator[AlertType, None]:
        refuse_hostile_text(iban=iban, token=token)
        await _owner_only(iban, token)
        async with listening(alerts_group(iban)) as receive:
            while True:
                message = await receive()
                if message.get("type") == ALERT_FIRED:
                    yield AlertType.of(AlertNotice.from_message(message["alert"]))
