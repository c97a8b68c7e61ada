"""Customer names: the full name (any case, any whitespace between words) and each name part,
on word boundaries. A part matches in lower, upper and capitalised case too ("- zoe" in a
chat), unless it is also an ordinary English word ("Will", "Rose"): those match in the case
the ticket gives, so "I will" is never redacted for a customer called Will.

Every ticket has different customers, so the matcher is plain `str.find` over a few literals:
nothing to compile per ticket, and the per-text cost is a handful of substring searches.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from redaction.spans import Candidate

LABEL = "[CUSTOMER_NAME]"
MIN_PART = 2
HONORIFICS = frozenset(
    {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "jr", "sr", "ii", "iii"}
)
APOSTROPHES = ("'", "\u2019")
PARTICLES = frozenset(
    {
        "de",
        "da",
        "del",
        "della",
        "van",
        "von",
        "der",
        "den",
        "la",
        "le",
        "di",
        "du",
        "dos",
        "das",
        "bin",
        "al",
        "el",
        "st",
    }
)
ORDINARY_WORDS = frozenset(
    {
        "will",
        "may",
        "june",
        "april",
        "august",
        "rose",
        "mark",
        "bill",
        "grace",
        "hope",
        "joy",
        "faith",
        "summer",
        "rich",
        "frank",
        "pat",
        "sue",
        "art",
        "don",
        "guy",
        "jack",
        "dawn",
        "holly",
        "ivy",
        "lily",
        "iris",
        "max",
        "sky",
        "amber",
        "ruby",
        "pearl",
        "jean",
        "ray",
        "victor",
        "miles",
        "chase",
        "hunter",
        "read",
        "rob",
        "bob",
        "penny",
        "sunny",
        "honey",
        "cherry",
        "cliff",
        "dale",
        "glen",
        "heath",
        "lane",
        "north",
        "page",
        "reed",
        "rock",
        "stone",
        "wood",
        "young",
        "king",
        "white",
        "black",
        "brown",
        "green",
        "gray",
        "grey",
        "long",
        "hill",
        "ford",
        "price",
        "cash",
        "bell",
        "park",
        "hall",
        "field",
        "star",
        "love",
        "noble",
        "gay",
        "gene",
        "lance",
        "rusty",
        "sandy",
        "spring",
        "storm",
        "river",
        "autumn",
        "winter",
        "honor",
        "justice",
        "major",
        "baker",
        "cook",
        "smith",
        "mason",
        "porter",
    }
)


@dataclass(frozen=True)
class NameMatcher:
    """`parts` pairs each name part, folded, with the exact spellings that count as a match:
    one search over the folded text per part, then a look at how the hit is written."""

    parts: tuple[tuple[str, frozenset[str]], ...]
    fulls: tuple[tuple[str, ...], ...]

    def find(self, text: str) -> list[Candidate]:
        folded = _fold(text)
        if len(folded) != len(text):
            return [
                (start, start + len(spelling), LABEL)
                for _part, spellings in self.parts
                for spelling in spellings
                if spelling in text
                for start in _occurrences(text, spelling)
            ]
        found = [
            (start, start + len(part), LABEL)
            for part, spellings in self.parts
            if part in folded
            for start in _occurrences(folded, part)
            if text[start : start + len(part)] in spellings
        ]
        if self.fulls:
            found += _full_names(folded, self.fulls)
        return found


def _occurrences(text: str, word: str) -> Iterator[int]:
    """Where `word` occurs in `text` as a whole word."""
    start = text.find(word)
    while start >= 0:
        end = start + len(word)
        if _boundary(text, start) and _boundary(text, end):
            yield start
        start = text.find(word, start + 1)


def _boundary(text: str, index: int) -> bool:
    """No word character on both sides of `index` at once."""
    if index == 0 or index == len(text):
        return True
    return not (_is_word_char(text[index - 1]) and _is_word_char(text[index]))


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _full_names(folded: str, fulls: tuple[tuple[str, ...], ...]) -> Iterator[Candidate]:
    for first, *rest in fulls:
        if first not in folded:
            continue
        for start in _occurrences(folded, first):
            end = _rest_end(folded, start + len(first), rest)
            if end is not None:
                yield start, end, LABEL


def _rest_end(folded: str, pos: int, rest: list[str]) -> int | None:
    """Where `rest` ends if it follows `pos` word by word, separated by whitespace."""
    for word in rest:
        gap = pos
        while gap < len(folded) and folded[gap].isspace():
            gap += 1
        if gap == pos or not folded.startswith(word, gap):
            return None
        pos = gap + len(word)
    return pos if _boundary(folded, pos) else None


def _fold(text: str) -> str:
    return text.lower().replace(APOSTROPHES[1], APOSTROPHES[0])


def name_matcher(names: Iterable[str], keep: Iterable[str] = ()) -> NameMatcher | None:
    return _cached_matcher(tuple(names), tuple(keep))


@lru_cache(maxsize=4096)
def _cached_matcher(names: tuple[str, ...], keep: tuple[str, ...]) -> NameMatcher | None:
    """Words of `keep` (agent names) are never matched as bare name parts."""
    kept = {_fold(word) for phrase in keep if phrase for word in phrase.split()}
    fulls: set[tuple[str, ...]] = set()
    parts: dict[str, set[str]] = {}
    for name in names:
        for variant in _variants(name or ""):
            words = variant.split()
            if len(words) > 1:
                fulls.add(tuple(_fold(word) for word in words))
            for word in words:
                if _is_part(word, kept):
                    parts.setdefault(_fold(word), set()).update(_spellings(word))
    if not fulls and not parts:
        return None
    return NameMatcher(
        parts=tuple((part, frozenset(spellings)) for part, spellings in sorted(parts.items())),
        fulls=tuple(sorted(fulls)),
    )


def _variants(name: str) -> set[str]:
    name = " ".join(name.split())
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return {name, plain} if len(plain) == len(name) else {name}


def _is_part(word: str, kept: set[str]) -> bool:
    folded = _fold(word)
    return (
        len(word) >= MIN_PART
        and folded.rstrip(".") not in HONORIFICS
        and folded not in PARTICLES
        and folded not in kept
    )


def _spellings(word: str) -> tuple[str, ...]:
    """The word with each apostrophe style (O'Connell, O\u2019Connell) and, unless it is an
    ordinary word, in lower, upper and capitalised case."""
    cases = (
        {word}
        if _fold(word) in ORDINARY_WORDS
        else {word, word.lower(), word.upper(), word[:1].upper() + word[1:].lower()}
    )
    return tuple(
        sorted(
            {
                c.replace(APOSTROPHES[1], a).replace(APOSTROPHES[0], a)
                for c in cases
                for a in APOSTROPHES
            }
        )
    )
