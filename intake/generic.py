"""The generic adapter: the canonical event as JSON, one object, an array, or JSON Lines."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from domain.errors import FieldError, field_errors
from domain.events import TicketEvent
from intake.errors import IntakeError
from intake.nul import may_hold_nul, refuse_nul


def parse_event(data: Any, source: str | None = None) -> TicketEvent:
    """Validate one canonical event. `source`, when given, fills a missing `source` field."""
    if not isinstance(data, dict):
        raise IntakeError([FieldError((), "an event is a JSON object")])
    if source and "source" not in data:
        data = {**data, "source": source}
    try:
        event = TicketEvent.model_validate(data)
    except ValidationError as exc:
        raise IntakeError(field_errors(exc)) from None
    refuse_nul([event])
    return event


def parse_event_body(body: bytes) -> TicketEvent:
    """Validate one canonical event straight from the bytes of a request body."""
    try:
        event = TicketEvent.model_validate_json(body)
    except ValidationError as exc:
        raise IntakeError(field_errors(exc)) from None
    if may_hold_nul(body):
        refuse_nul([event])
    return event


def _records(path: Path) -> Iterator[tuple[str, Any]]:
    text = path.read_text(encoding="utf-8")
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            yield f"{path}:{exc.lineno}", IntakeError([FieldError((), f"invalid JSON: {exc.msg}")])
            return
        for i, item in enumerate(items):
            yield f"{path}[{i}]", item
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield f"{path}:{number}", json.loads(line)
        except json.JSONDecodeError as exc:
            if number == 1 and stripped.startswith("{"):
                try:
                    yield f"{path}:1", json.loads(text)
                    return
                except json.JSONDecodeError:
                    pass
            yield f"{path}:{number}", IntakeError([FieldError((), f"invalid JSON: {exc.msg}")])


def read_export(
    path: Path, source: str | None = None
) -> Iterator[tuple[str, TicketEvent | IntakeError]]:
    """Each record of an export file with its location, parsed or with the reason it was not."""
    for where, record in _records(path):
        if isinstance(record, IntakeError):
            record.where = where
            yield where, record
            continue
        try:
            yield where, parse_event(record, source)
        except IntakeError as exc:
            exc.where = where
            yield where, exc
