"""CSV that a spreadsheet opens as data, never as formulas: a text cell starting with `=`, `+`,
`-`, `@` (or their full-width forms), a tab or a carriage return gets a leading `'`, as OWASP
advises against CSV injection. Numbers stay numbers, negative ones included. Rows end in CRLF
(RFC 4180), so that a carriage return inside a cell is quoted too and cannot start a row of its
own. Every CSV the project writes goes through `csv_line`."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_line(row: Iterable[Any]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow([safe_cell(v) for v in row])
    return out.getvalue()
