"""The raw thread with the evidence quotes marked, for leads.

Evidence items carry the redacted quote and, in `source`, where that quote sits in the original
message. The thread is the original text, so the marks use the `source` offsets; an item
without them (or whose offsets do not fit the message any more) is listed without a mark.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from domain.events import Ticket
from store.models import CriterionResultRow


@dataclass
class Excerpt:
    """One message quote of a criterion's evidence, as the criteria table lists it."""

    quote: str
    message_id: str
    anchor: str | None = None


@dataclass
class Segment:
    text: str
    criteria: list[str] = field(default_factory=list)
    anchors: list[str] = field(default_factory=list)
    failed: bool = False


@dataclass
class ThreadMessage:
    id: str
    author: str
    role: str
    public: bool
    at: Any
    segments: list[Segment]


@dataclass(frozen=True)
class _Span:
    message_id: str
    start: int
    end: int
    criterion: str
    failed: bool
    anchor: str


def excerpts(results: list[CriterionResultRow], with_anchors: bool) -> dict[str, list[Excerpt]]:
    """Each criterion's message quotes; with anchors into the thread when it is shown."""
    out: dict[str, list[Excerpt]] = {}
    for result in results:
        items = []
        for i, item in enumerate(result.evidence or []):
            if not isinstance(item, dict) or item.get("kind") != "message":
                continue
            anchor = f"ev-{result.position}-{i}" if with_anchors and item.get("source") else None
            items.append(Excerpt(str(item.get("quote") or ""), str(item.get("message_id")), anchor))
        out[result.criterion_id] = items
    return out


def metric_evidence(results: list[CriterionResultRow]) -> dict[str, list[dict]]:
    return {
        r.criterion_id: [
            e for e in (r.evidence or []) if isinstance(e, dict) and e.get("kind") == "metric"
        ]
        for r in results
    }


def _spans(results: list[CriterionResultRow], bodies: dict[str, str]) -> list[_Span]:
    spans = []
    for result in results:
        for i, item in enumerate(result.evidence or []):
            if not isinstance(item, dict) or item.get("kind") != "message":
                continue
            source = item.get("source") or {}
            message_id = str(item.get("message_id"))
            start, end = source.get("start"), source.get("end")
            body = bodies.get(message_id)
            if body is None or not isinstance(start, int) or not isinstance(end, int):
                continue
            if not 0 <= start < end <= len(body):
                continue
            spans.append(
                _Span(
                    message_id,
                    start,
                    end,
                    result.criterion_id,
                    result.status == "failed",
                    f"ev-{result.position}-{i}",
                )
            )
    return spans


def marked(body: str, spans: list[_Span]) -> list[Segment]:
    """The body cut at every span boundary; each piece names the criteria that quote it."""
    cuts = sorted({0, len(body), *(s.start for s in spans), *(s.end for s in spans)})
    segments = []
    for start, end in pairwise(cuts):
        covering = [s for s in spans if s.start <= start and end <= s.end]
        segments.append(
            Segment(
                text=body[start:end],
                criteria=sorted({s.criterion for s in covering}),
                anchors=[s.anchor for s in spans if s.start == start],
                failed=any(s.failed for s in covering),
            )
        )
    return segments or [Segment(text="")]


def thread(ticket: Ticket | None, results: list[CriterionResultRow]) -> list[ThreadMessage]:
    if ticket is None:
        return []
    bodies = {m.id: m.body for m in ticket.messages}
    spans = _spans(results, bodies)
    out = []
    for message in ticket.messages:
        author = message.author.name or message.author.id
        out.append(
            ThreadMessage(
                id=message.id,
                author=author,
                role=message.author.role,
                public=message.public,
                at=message.created_at,
                segments=marked(message.body, [s for s in spans if s.message_id == message.id]),
            )
        )
    return out
