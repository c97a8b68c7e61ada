"""Durations written as `30m`, `12h`, `3d` or `2w` in definition files."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PATTERN = re.compile(r"^\s*(\d{1,6})\s*([smhdw])\s*$")


def parse_duration(value: object) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError("a duration needs a unit, e.g. 30m, 12h, 3d or 2w")
    if not isinstance(value, str):
        raise ValueError("a duration is a string such as 30m, 12h, 3d or 2w")
    match = _PATTERN.match(value)
    if not match:
        raise ValueError(f"bad duration {value!r}: use a number and one of s, m, h, d, w (e.g. 3d)")
    amount, unit = int(match.group(1)), match.group(2)
    if amount == 0:
        raise ValueError(f"bad duration {value!r}: it must be longer than zero")
    return timedelta(seconds=amount * _UNITS[unit])


def format_duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit in ("w", "d", "h", "m"):
        size = _UNITS[unit]
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
]
