"""Render the coaching note (for the agent) and the QA summary (for the lead) with Jinja2.

Both read only the draft, whose quotes are already redacted. A rubric may bring its own
templates, which render in the sandbox of `rubrics.templating`; the defaults live in
`rubrics/templates/` and render without it. A rubric's own template that fails (a sandbox
refusal, an undefined name) gives way to the default one and flags the draft
`note_template_failed`, so a draft never fails, nor retries for ever, on a template.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

from domain.assessment import Draft, MessageEvidence
from domain.definitions import Criterion, Opportunity, Rubric
from domain.durations import format_duration
from rubrics.note_sample import EVENT_TYPE, TICKET, sample_drafts, sample_opportunity
from rubrics.templating import compiled, compiled_shipped, failure_line, static_problem

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).parent / "templates"
DEFAULTS = {"coaching_note": "coaching_note.md.j2", "qa_summary": "qa_summary.md.j2"}
TEMPLATE_FAILED = "note_template_failed"

STRENGTH_QUOTE_LIMIT = 160
PRAISEWORTHY_KINDS = frozenset(
    {
        "metric",
        "reply_gap",
        "internal_note",
        "kb_reference",
        "resolution_confirmed",
        "llm",
        "meaning",
    }
)


@lru_cache(maxsize=len(DEFAULTS))
def _default_source(name: str) -> str:
    return (TEMPLATES / DEFAULTS[name]).read_text("utf-8")


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


def _render(rubric: Rubric, name: str, context: dict) -> tuple[str, bool]:
    """The note from the rubric's own template, else the default; and whether the own one
    failed."""
    own = rubric.template_sources.get(name)
    if own:
        try:
            return compiled(own).render(context), False
        except Exception as exc:
            log.warning(
                "rubric %s: its %s template failed at line %d (%s); the default one is used",
                rubric.ref,
                name,
                failure_line(exc),
                type(exc).__name__,
            )
    return compiled_shipped(_default_source(name)).render(context), bool(own)


def render_notes(
    draft: Draft, rubric: Rubric, opportunity: Opportunity, ticket: str, event_type: str
) -> Draft:
    context = _context(draft, rubric, opportunity, ticket, event_type)
    note, note_failed = _render(rubric, "coaching_note", context)
    summary, summary_failed = _render(rubric, "qa_summary", context)
    flags = draft.flags
    if (note_failed or summary_failed) and TEMPLATE_FAILED not in flags:
        flags = [*flags, TEMPLATE_FAILED]
    return draft.model_copy(
        update={
            "coaching_note": note.strip() + "\n",
            "qa_summary": summary.strip() + "\n",
            "flags": flags,
        }
    )


def template_error(source: str, rubric: Rubric) -> tuple[int, str] | None:
    """Why a rubric's own template cannot be used, as (line, message): a syntax error, a name
    the sandbox refuses, or a failure on the sample drafts."""
    problem = static_problem(source)
    if problem:
        return problem
    opportunity = sample_opportunity(rubric)
    for draft in sample_drafts(rubric):
        try:
            compiled(source).render(_context(draft, rubric, opportunity, TICKET, EVENT_TYPE))
        except Exception as exc:
            return failure_line(exc), f"on a sample draft: {str(exc)[:200]}"
    return None
