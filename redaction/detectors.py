"""Pattern detectors for each PII label. Each yields (start, end, label) candidates."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

from redaction.checksums import IBAN_LENGTHS, iban_valid, luhn
from redaction.phones import find_phones
from redaction.spans import Candidate

EMAIL = re.compile(
    r"(?<![\w.%+\-])[\w.%+\-]+@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}"
)
_CARD_RUN = re.compile(r"(?<![\w\-.,/])\d(?:[ \-]?\d){12,}(?![\w\-]|[.,/]\d)")
_DIGIT_GROUP = re.compile(r"\d+")
CARD_FIRST_DIGITS = frozenset("23456")
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
_BARE_SSN = re.compile(
    r"(?i)\b(?:ssn|social security(?: number| no\.?)?)\W{0,3}(?P<ssn>(?!000|666|9)\d{9})(?!\w)"
)
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


def emails(text: str) -> Iterator[Candidate]:
    if "@" in text:
        yield from ((m.start(), m.end(), "[EMAIL]") for m in EMAIL.finditer(text))


def phones(text: str) -> Iterator[Candidate]:
    yield from ((start, end, "[PHONE]") for start, end in find_phones(text))


def cards(text: str) -> Iterator[Candidate]:
    for match in _CARD_RUN.finditer(text):
        found = _card_in_run(match.group())
        if found:
            yield match.start() + found[0], match.start() + found[1], "[CARD]"


def _card_in_run(run: str) -> tuple[int, int] | None:
    """The longest run of whole digit groups holding 13-19 digits that passes Luhn."""
    groups = [(m.start(), m.end()) for m in _DIGIT_GROUP.finditer(run)]
    best: tuple[int, int] | None = None
    for i, (start, _) in enumerate(groups):
        for _, end in groups[i:]:
            digits = re.sub(r"\D", "", run[start:end])
            if len(digits) > 19:
                break
            if _card_digits(digits) and (best is None or end - start > best[1] - best[0]):
                best = (start, end)
    return best


def _card_digits(digits: str) -> bool:
    return 13 <= len(digits) <= 19 and digits[0] in CARD_FIRST_DIGITS and luhn(digits)


def ibans(text: str) -> Iterator[Candidate]:
    for match in _IBAN.finditer(text):
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
            digits = sum(ch.isdigit() for ch in compact)
            return end if boundary and digits >= IBAN_MIN_DIGITS and iban_valid(compact) else None
    return None


def ip_addresses(text: str) -> Iterator[Candidate]:
    if "." in text:
        for match in _IPV4.finditer(text):
            if _is_ip(match.group()) and not _VERSION_BEFORE.search(text, 0, match.start()):
                yield match.start(), match.end(), "[IP_ADDRESS]"
    if "::" in text or text.count(":") >= 7:
        for match in _IPV6.finditer(text):
            if _is_ip(match.group()) and len(match.group().replace(":", "")) >= 2:
                yield match.start(), match.end(), "[IP_ADDRESS]"


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def addresses(text: str) -> Iterator[Candidate]:
    for match in _ADDRESS.finditer(text):
        if not NOT_STREETS.intersection(match.group("street").split()):
            yield match.start(), match.end(), "[ADDRESS]"
    yield from ((m.start(), m.end(), "[ADDRESS]") for m in _LONE_POSTCODE.finditer(text))


def id_numbers(text: str) -> Iterator[Candidate]:
    yield from ((m.start(), m.end(), "[ID_NUMBER]") for m in _SSN.finditer(text))
    yield from ((m.start("ssn"), m.end("ssn"), "[ID_NUMBER]") for m in _BARE_SSN.finditer(text))
    yield from ((m.start(), m.end(), "[ID_NUMBER]") for m in _NINO.finditer(text))


DIGIT_DETECTORS = (phones, cards, ibans, ip_addresses, addresses, id_numbers)
