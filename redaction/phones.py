"""Phone numbers: a cheap regex proposes digit runs, `phonenumbers` decides.

The candidate regex is only tried where a digit run starts, and `phonenumbers` is only
consulted for candidates of 7-15 digits. A number must be valid for its region, or possible
and written in an unmistakable phone shape (international `+` form or a UK trunk-prefixed
national form), which admits the reserved drama ranges such as 07700 900123 that the metadata
marks invalid. Ids, money and bare digit runs without a phone word before them are refused;
an id keyword does not refuse a number in international form.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

import phonenumbers
from phonenumbers import NumberParseException, ValidationResult

from redaction.checksums import is_card_number
from redaction.scan import anchored

REGIONS = ("GB", "US")
MIN_DIGITS, MAX_DIGITS = 7, 15

MAX_GROUPS = 8

_CANDIDATE = re.compile(r"(?:(?<![\w+])\+|(?<![\w+#$£€¥@/.\-]))\(?\d[\d ().\-]{5,24}\d(?![\w@])")
_DIGIT = re.compile(r"\d")
_GROUP = re.compile(r"\S+")
_UK_NATIONAL = re.compile(r"\(?0\d{2,4}\)?[ \-]?\d{3,4}[ \-]?\d{3,4}")
_DOTTED = re.compile(r"(?:\+\d{1,3}\.)?\d{2,4}(?:\.\d{2,4}){1,3}")
_NATIONAL_DIGITS = re.compile(r"0[1-9]\d{8,9}")
_ID_BEFORE = re.compile(
    r"(?i)\b(?:order|invoice|inv|ticket|case|ref|reference|tracking|account|acct|transaction|"
    r"confirmation|po|sku|serial|id|batch|lot|receipt|booking)\b"
    r"(?:\s*(?:number|no\.?|num|id|code))?\s*[:#]?\s*$"
)
_PHONE_WORDS = re.compile(
    r"(?i)\b(?:call|phone|tel|telephone|mobile|cell|number|reach|text|ring|whatsapp|sms|"
    r"contact|line|dial|landline)\b"
)
_CURRENCY = frozenset("$£€¥")
_CONTEXT = 40


def phone_candidates(text: str, starts: Iterable[int]) -> Iterator[tuple[int, int]]:
    """Phone numbers among the digit runs that begin at `starts` (ascending)."""
    for match in anchored(_CANDIDATE, text, starts):
        raw = match.group()
        start, end = match.span()
        if _is_phone(raw) and _context_allows(text, start, raw):
            yield start, end
        elif " " in raw and not is_card_number("".join(_DIGIT.findall(raw))):
            yield from _inner_phones(text, start, raw)


def _inner_phones(text: str, offset: int, raw: str) -> Iterator[tuple[int, int]]:
    """The longest space-separated window of a run that is a phone number on its own. A window
    that does not open the run must open like a phone number (`+`, `(` or a trunk `0`)."""
    groups = [(m.start(), m.end()) for m in _GROUP.finditer(raw)]
    if len(groups) > MAX_GROUPS:
        return
    for i, j in _windows(len(groups)):
        piece = raw[groups[i][0] : groups[j][1]]
        if i and piece[0] not in "+(0":
            continue
        if _is_phone(piece) and _context_allows(text, offset + groups[i][0], piece):
            yield offset + groups[i][0], offset + groups[j][1]
            return


def _windows(count: int) -> list[tuple[int, int]]:
    """Proper sub-ranges [i, j] of `count` groups, longest first."""
    ranges = [(i, j) for i in range(count) for j in range(i, count) if j - i < count - 1]
    return sorted(ranges, key=lambda w: w[0] - w[1])


def _digit_count(raw: str) -> int:
    return len(_DIGIT.findall(raw))


def _is_phone(raw: str) -> bool:
    if not MIN_DIGITS <= _digit_count(raw) <= MAX_DIGITS:
        return False
    if "." in raw and not _DOTTED.fullmatch(raw):
        return False
    regions = (None,) if raw.startswith("+") else REGIONS
    for region in regions:
        try:
            number = phonenumbers.parse(raw, region)
        except NumberParseException:
            continue
        if phonenumbers.is_valid_number(number) or _plausible(raw, number):
            return True
    return False


def _plausible(raw: str, number: phonenumbers.PhoneNumber) -> bool:
    shaped = raw.startswith("+") or _UK_NATIONAL.fullmatch(raw) is not None
    return (
        shaped
        and len(str(number.national_number)) >= 9
        and phonenumbers.is_possible_number_with_reason(number) == ValidationResult.IS_POSSIBLE
    )


def _context_allows(text: str, start: int, raw: str) -> bool:
    """No currency sign just before, and no id keyword unless the number is in international
    `+` form, which no order or account id takes; a bare digit run needs a phone word, unless it
    is a trunk-prefixed national number."""
    before = text[max(0, start - _CONTEXT) : start]
    if before.rstrip()[-1:] in _CURRENCY:
        return False
    if not raw.startswith("+") and _ID_BEFORE.search(before):
        return False
    if not raw.isdigit() or _NATIONAL_DIGITS.fullmatch(raw):
        return True
    return _PHONE_WORDS.search(before) is not None
