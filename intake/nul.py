"""Refuse the NUL character in any text of an event: PostgreSQL cannot store it, and SQLite
would. Checked after validation and only when the raw input holds one, so intake does not
pay for a walk over every field of every event."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from domain.errors import FieldError
from domain.events import TicketEvent
from intake.errors import IntakeError

NUL = "\x00"
JSON_ESCAPE = "\\u0000"
MESSAGE = "must not contain the NUL character"


def _paths(value: Any, loc: tuple[str | int, ...]) -> Iterable[tuple[str | int, ...]]:
    if isinstance(value, str):
        if NUL in value:
            yield loc
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*loc, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _paths(item, (*loc, i))


def may_hold_nul(raw: bytes | str) -> bool:
    """Whether raw JSON can decode to a NUL: JSON carries one only as the \\u0000 escape."""
    if isinstance(raw, bytes):
        return JSON_ESCAPE.encode() in raw or NUL.encode() in raw
    return JSON_ESCAPE in raw or NUL in raw


def refuse_nul(events: Iterable[TicketEvent]) -> None:
    """Raise IntakeError naming every field of these events that holds a NUL."""
    errors = [
        FieldError(loc, MESSAGE)
        for event in events
        for loc in _paths(event.model_dump(mode="json", by_alias=True), ())
    ]
    if errors:
        raise IntakeError(errors)
