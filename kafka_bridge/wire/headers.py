"""Kafka headers of our records: identity for the read model and dead-letter provenance.

Headers are not part of the Avro wire contract, so the original's clients read our records unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from confluent_kafka import Message

COMMAND_ID = "command.id"  # on events and feedback: the command that caused the record (hex)
EVENT_INDEX = "event.index"  # on events: its place among the command's events (0, 1)
COMMAND_EVENTS = "command.events"  # on feedback: how many events (BalanceChanged, AlertsSettingsUpdated) it caused
# on dead letters
ORIGINAL_TOPIC = "original.topic"
ORIGINAL_PARTITION = "original.partition"
ORIGINAL_OFFSET = "original.offset"
ORIGINAL_SIZE = "original.size"  # of a value the copy leaves out
ORIGINAL_KEY_SIZE = "original.key.size"  # of a key the copy cuts short
ORIGINAL_HEADERS = "original.headers"  # how many headers the record had, when the copy keeps fewer
ERROR = "error"

Headers = list[tuple[str, bytes | None]]


def event_headers(command_id: UUID, index: int) -> Headers:
    return [(COMMAND_ID, command_id.hex.encode()), (EVENT_INDEX, str(index).encode())]


def feedback_headers(command_id: UUID, events: int) -> Headers:
    return [(COMMAND_ID, command_id.hex.encode()), (COMMAND_EVENTS, str(events).encode())]


@dataclass(frozen=True)
class Identity:
    """What our headers say about a record, if it has them."""

    command_id: UUID | None = None
    event_index: int | None = None
    command_events: int | None = None

    @classmethod
    def of(cls, record: Message) -> Identity:
        found = dict(record.headers() or [])
        try:
            command_id = UUID(hex=found[COMMAND_ID].decode()) if COMMAND_ID in found else None
            index = int(found[EVENT_INDEX]) if EVENT_INDEX in found else None
            events = int(found[COMMAND_EVENTS]) if COMMAND_EVENTS in found else None
        except (ValueError, AttributeError):
            return cls()  # headers we did not write: as if there were none
        return cls(command_id, index if command_id else None, events if command_id else None)


def dead_letter_headers(
    record: Message,
    error: str,
    *,
    dropped_value: bool = False,
    own_headers: Headers | None = None,
    key_size: int | None = None,
) -> Headers:
    """The record's own headers (or those of them given), then where it came from, why it could not be handled,
    and the sizes of what the copy leaves out."""
    ours = [
        (ORIGINAL_TOPIC, record.topic().encode()),
        (ORIGINAL_PARTITION, str(record.partition()).encode()),
        (ORIGINAL_OFFSET, str(record.offset()).encode()),
        (ERROR, error.encode("utf-8", "replace")[:2000]),
    ]
    if dropped_value:
        ours.append((ORIGINAL_SIZE, str(len(record.value() or b"")).encode()))
    if key_size is not None:
        ours.append((ORIGINAL_KEY_SIZE, str(key_size).encode()))
    kept = (record.headers() or []) if own_headers is None else own_headers
    if len(kept) < len(record.headers() or []):
        ours.append((ORIGINAL_HEADERS, str(len(record.headers() or [])).encode()))
    return [*kept, *ours]
