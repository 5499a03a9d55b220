"""A balance change as the ledger stores it with its command's outcome."""

from datetime import UTC, datetime

from kernel.balances import BalanceChange

CHANGE = BalanceChange("alice", "NL1", 900, -100, "NL2", "lunch", datetime(2026, 12, 7, 9, 0, 0, 123000, UTC), "R1")


def test_a_stored_change_reads_back_the_same():
    assert BalanceChange.from_json(CHANGE.as_json()) == CHANGE


def test_a_change_stored_before_version_2_or_by_a_later_version_still_reads():
    """A version-1 outcome has no time or reference; one a newer handler stored may have keys this one lacks
    (a rollback after a lost Kafka commit): either is published again rather than dead-lettered."""
    old = {key: value for key, value in CHANGE.as_json().items() if key not in ("changed_at", "reference")}
    newer = CHANGE.as_json() | {"channel": "app-9"}

    assert BalanceChange.from_json(old) == BalanceChange("alice", "NL1", 900, -100, "NL2", "lunch")
    assert BalanceChange.from_json(newer) == CHANGE
