"""Customer names: the full name (any case) and each name part (exact case) on word boundaries."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import lru_cache

from redaction.spans import Candidate

MIN_PART = 2
HONORIFICS = frozenset(
    {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "jr", "sr", "ii", "iii"}
)
_APOSTROPHE = re.compile(r"['\u2019]")


def customer_names_in(text: str, pattern: re.Pattern[str] | None) -> Iterator[Candidate]:
    if pattern is not None:
        yield from ((m.start(), m.end(), "[CUSTOMER_NAME]") for m in pattern.finditer(text))


@lru_cache(maxsize=4096)
def name_pattern(names: tuple[str, ...], keep: tuple[str, ...] = ()) -> re.Pattern[str] | None:
    """One compiled pattern for all `names`; words in `keep` (agent names) are never parts."""
    kept = {word.casefold() for word in keep}
    fulls: set[str] = set()
    parts: set[str] = set()
    for name in names:
        for variant in _variants(name):
            words = variant.split()
            if len(words) > 1:
                fulls.add(" ".join(words))
            parts.update(w for w in words if _is_part(w, kept))
    if not fulls and not parts:
        return None
    alternatives = [rf"(?i:{_literal(full)})" for full in _longest_first(fulls)]
    alternatives += [_literal(part) for part in _longest_first(parts)]
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)")


def _variants(name: str) -> set[str]:
    name = " ".join(name.split())
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return {name, plain} if len(plain) == len(name) else {name}


def _is_part(word: str, kept: set[str]) -> bool:
    folded = word.casefold().rstrip(".")
    return len(word) >= MIN_PART and folded not in HONORIFICS and word.casefold() not in kept


def _literal(name: str) -> str:
    escaped = re.escape(name).replace(r"\ ", r"\s+")
    return _APOSTROPHE.sub("['\u2019]", escaped)


def _longest_first(items: set[str]) -> list[str]:
    return sorted(items, key=lambda item: (-len(item), item))
