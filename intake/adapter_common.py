"""Shared helpers for the help-desk adapters: read source JSON with field paths in errors.

Every problem becomes an `IntakeError` naming the source field (`ticket.assignee_id`,
`result.opened_at`, `audits[2].events[0].value`) and never the rejected value, which may be
customer PII. Readers raise on the first problem they meet.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, NoReturn

from pydantic import ValidationError

from domain.errors import FieldError, field_errors
from domain.events import EVENT_TYPES, TicketEvent
from intake.errors import IntakeError

Loc = tuple[str | int, ...]

# Canonical limits (domain/events.py) the adapters enforce on source paths or clip to.
ID_MAX = 200
NAME_MAX = 200
EMAIL_MAX = 320
SUBJECT_MAX = 1000
BODY_MAX = 100_000
COMMENT_MAX = 10_000
LABEL_MAX = 50
QUEUE_MAX = 200
TAGS_MAX = 200
MESSAGES_MAX = 2000
EVENT_ID_MAX = 300

_INTEGER = re.compile(r"-?[0-9]{1,18}")


def fail(loc: Loc, message: str) -> NoReturn:
    raise IntakeError([FieldError(loc, message)])


def load_json(body: bytes | bytearray | memoryview | str) -> Any:
    """The request body as JSON; IntakeError (never the text) when it is not."""
    if isinstance(body, str):
        text = body
    elif isinstance(body, bytes | bytearray | memoryview):
        try:
            text = bytes(body).decode("utf-8-sig")
        except UnicodeDecodeError:
            fail((), "the body is not UTF-8 text")
    else:
        fail((), "the body is not bytes")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        fail((), f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})")
    except RecursionError:
        fail((), "invalid JSON: nested too deeply")
    except ValueError:
        # e.g. an integer literal longer than Python's digit limit
        fail((), "invalid JSON: a number is out of range")


def parse_time(text: str, *, naive_utc: bool = False) -> datetime | None:
    """ISO 8601 (with `Z` or an offset, seconds optional) or `YYYY/MM/DD HH:MM:SS +hhmm`, in
    UTC. A time without a zone is UTC only when `naive_utc` (ServiceNow); else None."""
    text = text.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = datetime.strptime(text, "%Y/%m/%d %H:%M:%S %z")
        except ValueError:
            return None
    if parsed.tzinfo is None:
        if not naive_utc:
            return None
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def minutes_between(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None or end < start:
        return None
    return round((end - start).total_seconds() / 60, 2)


def clip(text: str | None, limit: int) -> str | None:
    return text if text is None or len(text) <= limit else text[:limit]


def make_event_id(*parts: str) -> str:
    """Parts joined by `:`; a digest when that would be longer than the canonical limit."""
    joined = ":".join(parts)
    if len(joined) <= EVENT_ID_MAX:
        return joined
    return "sha256:" + hashlib.sha256(joined.encode()).hexdigest()


class Obj:
    """A JSON object being read, with its location for error messages."""

    def __init__(self, data: dict[str, Any], loc: Loc = ()):
        self.data = data
        self.loc = loc

    @classmethod
    def of(cls, value: Any, loc: Loc, *, required: bool = False) -> Obj | None:
        if value is None or value == "":
            if required:
                fail(loc, "required field is missing")
            return None
        if not isinstance(value, dict):
            fail(loc, "must be a JSON object")
        return cls(value, loc)

    def at(self, key: str | int) -> Loc:
        return (*self.loc, key)

    def __contains__(self, key: str) -> bool:
        return key in self.data

    def raw(self, key: str) -> Any:
        return self.data.get(key)

    def _missing(self, key: str, required: bool) -> None:
        if required:
            fail(self.at(key), "required field is missing")

    def obj(self, key: str, *, required: bool = False) -> Obj | None:
        return type(self).of(self.raw(key), self.at(key), required=required)

    def objects(self, key: str, *, limit: int | None = None) -> list[Obj]:
        """A list of objects; missing, null or `""` is an empty list."""
        value = self.raw(key)
        if value is None or value == "":
            return []
        if not isinstance(value, list):
            fail(self.at(key), "must be a list")
        items = value if limit is None else value[:limit]
        return [
            type(self).of(item, (*self.at(key), i), required=True) for i, item in enumerate(items)
        ]

    def text(
        self,
        key: str,
        *,
        required: bool = False,
        clip_to: int | None = None,
        max_length: int | None = None,
    ) -> str | None:
        """A string, stripped; `""` and null are None. `clip_to` cuts long text (message bodies,
        subjects); `max_length` rejects it (names, labels)."""
        value = self.raw(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            self._missing(key, required)
            return None
        if not isinstance(value, str):
            fail(self.at(key), "must be a string")
        value = value.strip()
        if clip_to is not None:
            value = value[:clip_to]
        if max_length is not None and len(value) > max_length:
            fail(self.at(key), f"must be at most {max_length} characters")
        return value

    def ident(self, key: str, *, required: bool = False) -> str | None:
        """An id: a string or an integer, as a string; `""` and null are None."""
        value = self.raw(key)
        if isinstance(value, bool) or (value is not None and not isinstance(value, str | int)):
            fail(self.at(key), "must be a string or an integer id")
        text = value.strip() if isinstance(value, str) else None if value is None else str(value)
        if not text:
            self._missing(key, required)
            return None
        if len(text) > ID_MAX:
            fail(self.at(key), f"must be at most {ID_MAX} characters")
        return text

    def integer(self, key: str, *, minimum: int = 0) -> int | None:
        """A whole number, or a string of digits (ServiceNow sends numbers as strings)."""
        value = self.raw(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, str):
            value = int(value) if _INTEGER.fullmatch(value.strip()) else None
        elif isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            fail(self.at(key), "must be a whole number")
        if value < minimum:
            fail(self.at(key), f"must be at least {minimum}")
        return value

    def number(self, key: str) -> float | None:
        """A non-negative number, or a string holding one."""
        value = self.raw(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, str):
            try:
                value = float(value.strip())
            except ValueError:
                fail(self.at(key), "must be a number")
        if isinstance(value, bool) or not isinstance(value, int | float):
            fail(self.at(key), "must be a number")
        if not math.isfinite(value) or value < 0:
            fail(self.at(key), "must be a finite number, at least 0")
        return float(value)

    def boolean(self, key: str) -> bool | None:
        value = self.raw(key)
        if value is None:
            return None
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        if not isinstance(value, bool):
            fail(self.at(key), "must be true or false")
        return value

    def time(self, key: str, *, required: bool = False, naive_utc: bool = False) -> datetime | None:
        value = self.raw(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            self._missing(key, required)
            return None
        if not isinstance(value, str):
            fail(self.at(key), "must be a date-time string")
        parsed = parse_time(value, naive_utc=naive_utc)
        if parsed is None:
            expected = "YYYY-MM-DD HH:MM:SS (UTC)" if naive_utc else "ISO 8601 with a time zone"
            fail(self.at(key), f"must be a date-time, {expected}")
        return parsed


def event_type(root: Obj, key: str = "event_type") -> str | None:
    """An optional explicit canonical event type set by whoever configured the webhook."""
    value = root.text(key)
    if value is not None and value not in EVENT_TYPES:
        fail(root.at(key), f"unknown event type; known types are {', '.join(EVENT_TYPES)}")
    return value


def person(
    pid: str | None, name: str | None = None, email: str | None = None
) -> dict[str, Any] | None:
    if pid is None:
        return None
    out: dict[str, Any] = {"id": pid}
    if name:
        out["name"] = name
    if email:
        out["email"] = email
    return out


def unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def build_event(data: dict[str, Any]) -> TicketEvent:
    """The canonical event; the adapters check source fields first, so a failure here names a
    canonical path (a bug or a limit the adapter does not check)."""
    try:
        return TicketEvent.model_validate(data)
    except ValidationError as exc:
        raise IntakeError(field_errors(exc)) from None
