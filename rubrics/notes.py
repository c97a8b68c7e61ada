"""Render the coaching note (for the agent) and the QA summary (for the lead) with Jinja2.

Both read only the draft, whose quotes are already redacted. A rubric may bring its own
templates; the defaults live in `rubrics/templates/`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, StrictUndefined, Template, TemplateSyntaxError

from domain.assessment import Draft, MessageEvidence
from domain.definitions import Criterion, Opportunity, Rubric
from domain.durations import format_duration

TEMPLATES = Path(__file__).parent / "templates"
DEFAULTS = {"coaching_note": "coaching_note.md.j2", "qa_summary": "qa_summary.md.j2"}
CAUSE_LABELS = {
    "agent_behavior": "agent behaviour",
    "policy": "policy",
    "product": "product",
    "documentation": "documentation",
    "staffing": "staffing",
    "process": "process",
}

STRENGTH_QUOTE_LIMIT = 160
PRAISEWORTHY_KINDS = frozenset(
    {"metric", "reply_gap", "internal_note", "kb_reference", "resolution_confirmed", "llm"}
)

_ENV = Environment(
    undefined=StrictUndefined,
    autoescape=False,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def _num(value: float | int | None) -> str:
    return "-" if value is None else f"{value:g}"


_ENV.filters["num"] = _num
_ENV.filters["cause"] = lambda cause: CAUSE_LABELS.get(cause or "", "")


def template_error(source: str) -> tuple[int, str] | None:
    try:
        _ENV.parse(source)
    except TemplateSyntaxError as exc:
        return exc.lineno or 1, exc.message or "syntax error"
    return None


@lru_cache(maxsize=64)
def _compiled(source: str) -> Template:
    return _ENV.from_string(source)


@lru_cache(maxsize=len(DEFAULTS))
def _default_source(name: str) -> str:
    return (TEMPLATES / DEFAULTS[name]).read_text("utf-8")


def _template(rubric: Rubric, name: str) -> Template:
    return _compiled(rubric.template_sources.get(name) or _default_source(name))


def _quotes(result, limit: int = 2) -> list[str]:
    return [
        " ".join(e.quote.split())
        for e in result.evidence
        if isinstance(e, MessageEvidence) and e.quote
    ][:limit]


def _praiseworthy(criterion: Criterion | None) -> bool:
    """A pass that shows something done well, not merely something bad avoided."""
    if criterion is None:
        return False
    check = criterion.check
    if check.kind == "phrases":
        return bool(check.any)
    return check.kind in PRAISEWORTHY_KINDS


def _overlaps(item: MessageEvidence, failed: list[MessageEvidence]) -> bool:
    return any(
        item.message_id == f.message_id and item.start < f.end and f.start < item.end
        for f in failed
    )


def _strengths(draft: Draft, by_id: dict[str, Criterion]) -> list[dict]:
    """Passed criteria worth praising, each with a short quote that no failure also cites."""
    failed = [
        e
        for r in draft.results
        if r.status == "failed"
        for e in r.evidence
        if isinstance(e, MessageEvidence)
    ]
    out = []
    for r in draft.results:
        if r.status != "passed" or not _praiseworthy(by_id.get(r.criterion_id)):
            continue
        quotes = [e for e in r.evidence if isinstance(e, MessageEvidence) and e.quote]
        clean = [" ".join(e.quote.split()) for e in quotes if not _overlaps(e, failed)]
        if quotes and not clean:
            continue
        quote = clean[0] if clean and len(clean[0]) <= STRENGTH_QUOTE_LIMIT else ""
        out.append({"name": r.name, "quote": quote})
    return out


def _context(
    draft: Draft, rubric: Rubric, opportunity: Opportunity, ticket: str, event_type: str
) -> dict:
    coached = [r for r in draft.results if r.status == "failed" and r.cause == "agent_behavior"]
    coached_ids = {r.criterion_id for r in coached}
    # As `domain.plans.task_plans` assigns them: a task naming no criteria always.
    tasks = [
        t for t in opportunity.learning_tasks if not t.if_failed or set(t.if_failed) & coached_ids
    ]
    by_id = {c.id: c for c in rubric.criteria}
    return {
        "trainee_name": (draft.trainee.name or draft.trainee.id) if draft.trainee else "the agent",
        "opportunity_name": opportunity.name,
        "ticket": ticket,
        "event_type": event_type,
        "rubric": rubric.ref,
        "stopped": draft.status == "stopped",
        "stop_reason": draft.stop_reason,
        "score": draft.score or 0,
        "max_score": draft.max_score or 0,
        "percent": round(100 * (draft.score or 0) / draft.max_score) if draft.max_score else 0,
        "passed": draft.passed,
        "confidence": f"{draft.confidence:.2f}",
        "flags": draft.flags,
        "strengths": _strengths(draft, by_id),
        "points": [
            {
                "name": r.name,
                "explanation": r.explanation,
                "quotes": _quotes(r),
                "coaching": by_id[r.criterion_id].coaching if r.criterion_id in by_id else None,
            }
            for r in coached
        ],
        "tasks": [{"title": t.title, "due": format_duration(t.due)} for t in tasks],
        "issues": draft.process_issues,
        "results": draft.results,
        "evidence": draft.evidence,
        "repeat_themes": draft.repeat_themes,
    }


def render_notes(
    draft: Draft, rubric: Rubric, opportunity: Opportunity, ticket: str, event_type: str
) -> Draft:
    context = _context(draft, rubric, opportunity, ticket, event_type)
    return draft.model_copy(
        update={
            "coaching_note": _template(rubric, "coaching_note").render(context).strip() + "\n",
            "qa_summary": _template(rubric, "qa_summary").render(context).strip() + "\n",
        }
    )
