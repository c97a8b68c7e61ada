"""Pattern detectors for each PII label; each yields (start, end, label) candidates.

Everything but e-mail and names needs a digit, so the text is scanned once for digit runs and
the detectors try their patterns only where a run starts (`re.Pattern.match` at a position),
instead of each scanning the whole text.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass

from redaction.checksums import IBAN_LENGTHS, iban_valid, is_card_number
from redaction.phones import phone_candidates
from redaction.scan import anchored, with_leads
from redaction.spans import Candidate

EMAIL = re.compile(
    r"(?<![\w.%+\-])[\w.%+\-]+@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}"
)
_RUN = re.compile(r"[0-9]+")
_DIGIT_GROUP = re.compile(r"\d+")
_CARD_RUN = re.compile(r"(?<![\w\-.,/])\d(?:[ \-]?\d){12,}(?![\w\-]|[.,/]\d)")
_IBAN = re.compile(r"(?i)(?<![A-Z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,32}")
IBAN_MIN_DIGITS = 8
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)")
_IPV6 = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{1,4})?(?![\w:])"
)
_VERSION_BEFORE = re.compile(
    r"(?i)\b(?:v|ver|version|build|release|firmware|update|app|ios|android|os)\s*[:#]?\s*$"
)
_SSN = re.compile(r"(?<![\w\-])(?!000|666|9\d\d)\d{3}([- ])(?!00)\d{2}\1(?!0000)\d{4}(?![\w\-])")
_BARE_SSN = re.compile(r"(?!000|666|9)\d{9}(?!\w)")
_SSN_BEFORE = re.compile(r"(?i)\b(?:ssn|social security(?: number| no\.?)?)\W{0,3}$")
_NINO = re.compile(
    r"(?<![A-Za-z0-9])(?:QQ|(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z])"
    r" ?\d{2} ?\d{2} ?\d{2} ?[A-D](?![A-Za-z0-9])"
)
_SUFFIXES = (
    "Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Boulevard|Blvd|Way|Court|Ct|Place|Pl|"
    "Close|Crescent|Cres|Terrace|Gardens|Grove|Square|Sq|Parkway|Pkwy|Highway|Hwy|Mews|Row|"
    "Hill|Walk|Loop|Circle|Cir|Trail|Park"
)
_WORD = r"(?:[A-Z][A-Za-z'\u2019\-]*|\d{1,3}(?:st|nd|rd|th))"
_POSTCODE = r"(?:[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2})"
_STATE_ZIP = r"(?:[A-Z]{2} \d{5}(?:-\d{4})?)"
_CITY = r"(?:[A-Z][a-z]+(?: [A-Z][a-z]+){0,2},? )"
_ADDRESS = re.compile(
    rf"(?<![\w$£€.,\-])\d{{1,5}}[A-Za-z]?(?:-\d{{1,5}})?,? (?P<street>(?:{_WORD} ){{1,4}})"
    rf"(?:{_SUFFIXES})\b\.?(?: (?:N|S|E|W|NE|NW|SE|SW)\b)?"
    r"(?:,? (?:Apt|Apartment|Suite|Ste|Unit|Flat)\.? ?#?\w+)?"
    rf"(?:,? {_CITY}?(?:{_STATE_ZIP}|{_POSTCODE})(?![A-Za-z0-9]))?"
)
_LONE_POSTCODE = re.compile(r"(?<![A-Za-z0-9])[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}(?![A-Za-z0-9])")
NOT_STREETS = frozenset(
    {"Google", "One", "Shared", "Hard", "Flash", "USB", "External", "Network", "Team", "My"}
)


@dataclass(frozen=True)
class Digits:
    """Where the digit runs of a text start, and how many digits it holds in all."""

    starts: tuple[int, ...]
    total: int

    @classmethod
    def of(cls, text: str) -> Digits:
        spans = [m.span() for m in _RUN.finditer(text)]
        return cls(tuple(s for s, _ in spans), sum(e - s for s, e in spans))


def has_digit(text: str) -> bool:
    return any(d in text for d in "0123456789")


def emails(text: str) -> Iterator[Candidate]:
    if "@" in text:
        yield from ((m.start(), m.end(), "[EMAIL]") for m in EMAIL.finditer(text))


def phones(text: str, digits: Digits) -> Iterator[Candidate]:
    if digits.total >= 7:
        starts = with_leads(text, digits.starts, lambda ch: ch in "+(", 2)
        for start, end in phone_candidates(text, _past_paren_before_plus(text, starts)):
            yield _with_spaced_plus(text, start), end, "[PHONE]"


def _with_spaced_plus(text: str, start: int) -> int:
    """A number written "+ 44 20 7946 0958" opens at its `+`, so no stray `+` is left."""
    if text[max(start - 2, 0) : start] == "+ " and (start == 2 or not text[start - 3].isalnum()):
        return start - 2
    return start


def _past_paren_before_plus(text: str, starts: Iterator[int]) -> Iterator[int]:
    """A bracket opening an international number, as in "(+44 20 7946 0958)", is not part of
    it: the number starts at its `+`."""
    for start in starts:
        yield start + 1 if text.startswith("(+", start) else start


def cards(text: str, digits: Digits) -> Iterator[Candidate]:
    if digits.total < 13:
        return
    for match in anchored(_CARD_RUN, text, digits.starts):
        found = _card_in_run(match.group())
        if found:
            yield match.start() + found[0], match.start() + found[1], "[CARD]"


def _card_in_run(run: str) -> tuple[int, int] | None:
    """The longest stretch of whole digit groups that is a Luhn-valid card number."""
    groups = [(m.start(), m.end()) for m in _DIGIT_GROUP.finditer(run)]
    best: tuple[int, int] | None = None
    for i, (start, _) in enumerate(groups):
        for _, end in groups[i:]:
            number = "".join(_DIGIT_GROUP.findall(run, start, end))
            if len(number) > 19:
                break
            if is_card_number(number) and (best is None or end - start > best[1] - best[0]):
                best = (start, end)
    return best


def ibans(text: str, digits: Digits) -> Iterator[Candidate]:
    if digits.total < IBAN_MIN_DIGITS:
        return
    starts = (s - 2 for s in digits.starts if s >= 2 and text[s - 2 : s].isalpha())
    for match in anchored(_IBAN, text, starts):
        end = _iban_end(text, match)
        if end is not None:
            yield match.start(), end, "[IBAN]"


def _iban_end(text: str, match: re.Match[str]) -> int | None:
    """Where the IBAN starting at `match` ends, judged by its country's length and checksum."""
    need = IBAN_LENGTHS.get(match.group()[:2].upper())
    if need is None:
        return None
    seen = 0
    for index in range(match.start(), match.end()):
        seen += text[index] != " "
        if seen == need:
            end = index + 1
            compact = text[match.start() : end].replace(" ", "").upper()
            boundary = end == len(text) or not text[end].isalnum()
            enough = sum(ch.isdigit() for ch in compact) >= IBAN_MIN_DIGITS
            return end if boundary and enough and iban_valid(compact) else None
    return None


def ip_addresses(text: str, digits: Digits) -> Iterator[Candidate]:
    if len(digits.starts) >= 4 and "." in text:
        for match in anchored(_IPV4, text, digits.starts):
            before = text[max(0, match.start() - 20) : match.start()]
            if _is_ip(match.group()) and not _VERSION_BEFORE.search(before):
                yield match.start(), match.end(), "[IP_ADDRESS]"
    if "::" in text or text.count(":") >= 7:
        for match in _IPV6.finditer(text):
            if len(match.group().replace(":", "")) >= 2 and _is_ip(match.group()):
                yield match.start(), match.end(), "[IP_ADDRESS]"


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def addresses(text: str, digits: Digits) -> Iterator[Candidate]:
    for match in anchored(_ADDRESS, text, digits.starts):
        if not NOT_STREETS.intersection(match.group("street").split()):
            yield match.start(), match.end(), "[ADDRESS]"
    if len(digits.starts) >= 2:
        starts = with_leads(text, digits.starts, str.isupper, 2)
        for match in anchored(_LONE_POSTCODE, text, starts):
            yield match.start(), match.end(), "[ADDRESS]"


def id_numbers(text: str, digits: Digits) -> Iterator[Candidate]:
    if digits.total >= 9:
        for match in anchored(_SSN, text, digits.starts):
            yield match.start(), match.end(), "[ID_NUMBER]"
        for match in anchored(_BARE_SSN, text, digits.starts):
            if _SSN_BEFORE.search(text[max(0, match.start() - 30) : match.start()]):
                yield match.start(), match.end(), "[ID_NUMBER]"
    if digits.total >= 6:
        starts = with_leads(text, digits.starts, lambda ch: ch.isupper() or ch == " ", 3)
        for match in anchored(_NINO, text, starts):
            yield match.start(), match.end(), "[ID_NUMBER]"


DIGIT_DETECTORS = (phones, cards, ibans, ip_addresses, addresses, id_numbers)
