"""The result of a redaction: the redacted text plus a map back to the original offsets."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise

# Ties between equally long overlapping candidates go to the earlier label: checksummed and
# tightly shaped detectors first, context-dependent ones last.
PRIORITY = (
    "[EMAIL]",
    "[IBAN]",
    "[CARD]",
    "[ID_NUMBER]",
    "[IP_ADDRESS]",
    "[PHONE]",
    "[ADDRESS]",
    "[CUSTOMER_NAME]",
)
_RANK = {label: rank for rank, label in enumerate(PRIORITY)}

Candidate = tuple[int, int, str]


@dataclass(frozen=True)
class Span:
    """One replacement: `label` sits at [start, end) and stood for [source_start, source_end)."""

    start: int
    end: int
    source_start: int
    source_end: int
    label: str


@dataclass(frozen=True)
class Redacted:
    source: str
    text: str
    spans: tuple[Span, ...]

    def to_source(self, start: int, end: int) -> tuple[int, int]:
        """Map [start, end) in the redacted text to [source_start, source_end) in the original.

        An offset inside a placeholder maps to the edge of the original value it replaced
        (start → that value's start, end → that value's end).
        """
        if not 0 <= start <= end <= len(self.text):
            raise ValueError(f"[{start}, {end}) is not a range of the redacted text")
        return self._source_start(start), self._source_end(end)

    def _source_start(self, offset: int) -> int:
        index = bisect_right(self.spans, offset, key=lambda span: span.end)
        if index < len(self.spans) and self.spans[index].start <= offset:
            return self.spans[index].source_start
        return self._shifted(offset, index)

    def _source_end(self, offset: int) -> int:
        index = bisect_left(self.spans, offset, key=lambda span: span.end)
        if index < len(self.spans) and self.spans[index].start < offset:
            return self.spans[index].source_end
        return self._shifted(offset, index)

    def _shifted(self, offset: int, index: int) -> int:
        if index == 0:
            return offset
        before = self.spans[index - 1]
        return offset - before.end + before.source_end


def resolve(candidates: Iterable[Candidate]) -> list[Candidate]:
    """Keep one candidate per overlapping group: the longest, ties broken by `PRIORITY`."""
    ordered = sorted(candidates)
    if all(a[1] <= b[0] for a, b in pairwise(ordered)):
        return ordered
    ranked = sorted(set(ordered), key=lambda c: (c[0] - c[1], _RANK[c[2]], c[0]))
    kept: list[Candidate] = []
    for candidate in ranked:
        if not any(candidate[0] < end and start < candidate[1] for start, end, _ in kept):
            kept.append(candidate)
    return sorted(kept)


def apply(source: str, candidates: Iterable[Candidate]) -> Redacted:
    parts: list[str] = []
    spans: list[Span] = []
    cursor = shift = 0
    for start, end, label in resolve(candidates):
        parts += (source[cursor:start], label)
        spans.append(Span(start + shift, start + shift + len(label), start, end, label))
        shift += len(label) - (end - start)
        cursor = end
    parts.append(source[cursor:])
    return Redacted(source=source, text="".join(parts), spans=tuple(spans))
