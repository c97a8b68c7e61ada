"""The draft as a lead's override leaves it: pure, so the workflow can compute it and the
decision's activity render the notes from it."""

from __future__ import annotations

from domain.assessment import CriterionResult, Draft, ProcessIssue
from domain.coaching import CriterionChange
from domain.definitions import Cause, Rubric

SCORED = ("passed", "failed")
NOT_THE_AGENTS = " (not the agent's doing: "
UNEXPLAINED_LOW_CSAT = "unexplained_low_csat"
# The flags an override can make true or false; the others describe the ticket.
RECOUNTED_FLAGS = ("critical_failed", "process_issue", UNEXPLAINED_LOW_CSAT)


def totals(results: list[CriterionResult], pass_score: float) -> tuple[float, float, bool]:
    """Score, maximum and pass of the scored criteria: the bar is `pass_score` of the maximum,
    and a failed critical criterion fails the whole."""
    scored = [r for r in results if r.status in SCORED]
    score = sum(r.score for r in scored)
    max_score = sum(r.max_score for r in scored)
    critical_failed = any(r.critical for r in scored if r.status == "failed")
    passed = bool(max_score) and not critical_failed and score / max_score >= pass_score
    return score, max_score, passed


def attributed(explanation: str, cause: Cause | None, why: str) -> str:
    """A failure's explanation, saying why when it was not the agent's doing."""
    base = explanation.split(NOT_THE_AGENTS)[0]
    if cause in (None, "agent_behavior") or not why:
        return base
    return f"{base}{NOT_THE_AGENTS}{why})"


def summary_line(
    rubric: Rubric,
    results: list[CriterionResult],
    score: float,
    max_score: float,
    stop_reason: str | None = None,
) -> str:
    """The one line a lead reads in the queue: the score and what failed, with its cause."""
    failed = [r for r in results if r.status == "failed"]
    line = f"Scored {score:g} of {max_score:g} against {rubric.ref}."
    if not failed:
        line += " Every scored criterion passed."
    else:
        listed = ", ".join(
            f"{r.criterion_id} ({(r.cause or 'agent_behavior').replace('_', ' ')})" for r in failed
        )
        line += f" Failed: {listed}."
    return f"Stopped: {stop_reason}. {line}" if stop_reason else line


def changed_results(
    results: list[CriterionResult], changes: list[CriterionChange]
) -> list[CriterionResult]:
    """A new score passes its criterion once it reaches the weight; a new cause replaces the
    drafted one. A criterion whose verdict the lead turned is explained by the lead's score,
    without the draft's excerpts; a failure with no cause, one the lead made of a pass, is the
    agent's, as the drafted failures without another cause are."""
    updates: dict[str, dict] = {}
    for change in changes:
        update = updates.setdefault(change.criterion_id, {})
        if change.field == "score" and isinstance(change.after, int | float):
            passed = change.after >= _weight(results, change.criterion_id)
            update.update(
                score=float(change.after),
                max_score=_weight(results, change.criterion_id),
                status="passed" if passed else "failed",
            )
        elif change.field == "cause":
            update["cause"] = change.after
    return [
        _changed(r, updates[r.criterion_id]) if r.criterion_id in updates else r for r in results
    ]


def _changed(result: CriterionResult, update: dict) -> CriterionResult:
    changed = result.model_copy(update=update)
    if changed.status == "failed" and changed.cause is None:
        changed = changed.model_copy(update={"cause": "agent_behavior"})
    if changed.status != result.status:
        # The drafted explanation and excerpts argued for the other verdict.
        explanation = f"scored {changed.score:g} of {changed.weight:g} by the lead"
        changed = changed.model_copy(update={"explanation": explanation, "evidence": []})
    if changed.status == "failed" and changed.cause != result.cause:
        why = f"put down to {(changed.cause or '').replace('_', ' ')} by the lead"
        explanation = attributed(changed.explanation, changed.cause, why)
        changed = changed.model_copy(update={"explanation": explanation})
    return changed


def _weight(results: list[CriterionResult], criterion_id: str) -> float:
    return next(r.weight for r in results if r.criterion_id == criterion_id)


def overridden(draft: Draft, changes: list[CriterionChange], rubric: Rubric) -> Draft:
    """The draft with the lead's scores and causes, its totals and summary counted again, and
    its process issues and the flags they raise following the causes: a failure the lead puts
    down to policy, product, docs or staffing becomes one, one the lead gives back to the agent
    stops being one. A low CSAT left unexplained stays so, with the draft's line saying so,
    until the lead fails a criterion. The notes are left as drafted, for the activity to
    render again."""
    results = changed_results(draft.results, changes)
    score, max_score, passed = totals(results, rubric.pass_score)
    stop_reason = draft.stop_reason if draft.status == "stopped" else None
    issues = _issues(draft.process_issues, results)
    flags = [f for f in draft.flags if f not in RECOUNTED_FLAGS]
    if any(r.critical for r in results if r.status == "failed"):
        flags.append("critical_failed")
    if issues:
        flags.append("process_issue")
    summary = summary_line(rubric, results, score, max_score, stop_reason)
    failed = any(r.status == "failed" for r in results)
    if UNEXPLAINED_LOW_CSAT in draft.flags and not issues and not failed:
        flags.append(UNEXPLAINED_LOW_CSAT)
        summary += _drafted_tail(draft, rubric, stop_reason)
    return draft.model_copy(
        update={
            "results": results,
            "score": score,
            "max_score": max_score,
            "passed": passed,
            "flags": flags,
            "summary": summary,
            "process_issues": issues,
        }
    )


def _drafted_tail(draft: Draft, rubric: Rubric, stop_reason: str | None) -> str:
    """What the draft's summary says past its summary line."""
    line = summary_line(rubric, draft.results, draft.score or 0, draft.max_score or 0, stop_reason)
    return draft.summary.removeprefix(line) if draft.summary.startswith(line) else ""


def _issues(drafted: list[ProcessIssue], results: list[CriterionResult]) -> list[ProcessIssue]:
    kept = {(i.criterion_id, i.cause): i for i in drafted if i.criterion_id is not None}
    issues = [
        kept.get(
            (r.criterion_id, r.cause),
            ProcessIssue(
                cause=r.cause, criterion_id=r.criterion_id, summary=f"{r.name}: {r.explanation}"
            ),
        )
        for r in results
        if r.status == "failed" and r.cause not in (None, "agent_behavior")
    ]
    return issues + [i for i in drafted if i.criterion_id is None]
