"""Sentences and clauses with their offsets in the message, and negation scoped to its clause.

A sentence ends at `.`, `!` or `?` followed by white space, at a line break, or after a link
that a capitalised word follows, so a link's dots never split it. A clause ends at `,` `;` `:`
or a dash, or before "but", "and" or "so": "No problem, as an exception I will refund" holds
two clauses, and the "No" of the first never negates the promise in the second.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_SENTENCE_END = re.compile(r"[.!?]++(?=[\s\"')\]]|$)|\n|(?<!\S)(?:https?://|www\.)\S++(?=\s+[A-Z])")
_CLAUSE_BREAK = re.compile(r"[,;:()]|\s[-\u2013\u2014]\s|\s(?=(?:but|and|so|although|though)\s)")
NEGATION = re.compile(
    r"(?<![\w'])(not|never|no|unable|cannot|can't|won't|isn't|wasn't|aren't|don't|didn't|"
    r"doesn't|couldn't|wouldn't|shouldn't|without|neither|nor|nothing|nobody|unfortunately)"
    r"(?![\w'])"
)
HANDLES = re.compile(r"^(?:\s*[@.]\w+)+\s*|^[\W_]+(?=\w)")
URL = re.compile(r"(?<![\w.-])(?:(?:https?://|www\.)\S++|[\w-]++(?:\.[\w-]++)++/\S*+)")
"""Possessive and anchored at a word's start: linear even on "a.a.a…" (a message may hold
100,000 characters)."""
_HAS_WORD = re.compile(r"[^\W_]")
APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})


CLOSING_ZONE = 2


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    text: str
    """Lower case, apostrophes straightened, leading @handles and links replaced by `<link>`;
    the same length is not kept, so offsets always come from `start` and `end`."""
    closing: bool = False
    """One of the message's last two sentences (a signature may follow the closing words)."""


def normalise(text: str) -> str:
    return _normalised(text.translate(APOSTROPHES).lower())


def _normalised(lowered: str) -> str:
    if lowered[:1] and not lowered[0].isalnum():
        lowered = HANDLES.sub("", lowered)
    if "." in lowered or "/" in lowered:
        lowered = URL.sub("<link>", lowered)
    return lowered.strip()


@lru_cache(maxsize=512)
def sentences(body: str) -> tuple[Sentence, ...]:
    lowered = body.translate(APOSTROPHES).lower()
    if len(lowered) != len(body):
        lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in body)
        lowered = lowered.translate(APOSTROPHES)
    spans, start = [], 0
    for end in [*(m.end() for m in _SENTENCE_END.finditer(body)), len(body)]:
        first, last = start, end
        while first < last and body[first].isspace():
            first += 1
        while last > first and body[last - 1].isspace():
            last -= 1
        text = _normalised(lowered[first:last])
        if _HAS_WORD.search(text):
            spans.append((first, last, text))
        start = end
    tail = len(spans) - CLOSING_ZONE
    return tuple(Sentence(a, b, text, i >= tail) for i, (a, b, text) in enumerate(spans))


def clause_before(text: str, position: int) -> str:
    """The part of `text`'s clause that comes before `position`."""
    head = text[:position]
    cuts = [m.end() for m in _CLAUSE_BREAK.finditer(head)]
    return head[cuts[-1] :] if cuts else head


def negated(text: str, position: int) -> bool:
    return bool(NEGATION.search(clause_before(text, position)))
