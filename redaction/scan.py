"""Anchored matching: try a pattern only at chosen positions instead of scanning the text."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator


def anchored(pattern: re.Pattern[str], text: str, starts: Iterable[int]) -> Iterator[re.Match]:
    """Matches of `pattern` beginning at one of the ascending `starts`, never overlapping."""
    reached = 0
    for start in starts:
        if start >= reached and (match := pattern.match(text, start)):
            reached = match.end()
            yield match


def with_leads(
    text: str, starts: Iterable[int], lead: Callable[[str], bool], most: int
) -> Iterator[int]:
    """Each start moved back over up to `most` `lead` characters, then forward past spaces."""
    for start in starts:
        back = start
        while back > 0 and start - back < most and lead(text[back - 1]):
            back -= 1
        while back < start and text[back] == " ":
            back += 1
        yield back
