"""Sentences and clauses with their offsets in the message, and negation scoped to its clause.

A sentence ends at `.`, `!` or `?` followed by white space, at a line break, or after a link
that a capitalised word follows, so a link's dots never split it. A clause ends at `,` `;` `:`
or a dash, or before "but", "and" or "so": "No problem, as an exception I will refund" holds
two clauses, and the "No" of the first never negates the promise in the second.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
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
    text = HANDLES.sub("", text.translate(APOSTROPHES).lower())
    return URL.sub("<link>", text).strip()


@lru_cache(maxsize=512)
def sentences(body: str) -> tuple[Sentence, ...]:
    out, start = [], 0
    ends = [m.end() for m in _SENTENCE_END.finditer(body)]
    for end in [*ends, len(body)]:
        nxt = end
        while start < end and body[start].isspace():
            start += 1
        while end > start and body[end - 1].isspace():
            end -= 1
        text = normalise(body[start:end])
        if text and any(c.isalnum() for c in text):
            out.append(Sentence(start, end, text))
        start = nxt
    tail = len(out) - CLOSING_ZONE
    return tuple(replace(x, closing=True) if i >= tail else x for i, x in enumerate(out))


def clause_before(text: str, position: int) -> str:
    """The part of `text`'s clause that comes before `position`."""
    head = text[:position]
    cuts = [m.end() for m in _CLAUSE_BREAK.finditer(head)]
    return head[cuts[-1] :] if cuts else head


def negated(text: str, position: int) -> bool:
    return bool(NEGATION.search(clause_before(text, position)))
