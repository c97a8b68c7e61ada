"""Plain-text views of the queue, an assessment and the metrics."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.definitions import SurveyTemplate
from store.metrics import Metrics
from store.models import (
    AssessmentRow,
    CriterionResultRow,
    DecisionRow,
    LearningTaskRow,
    SkillRow,
    SurveyRow,
    UserRow,
)


def _age(then: datetime, now: datetime | None = None) -> str:
    seconds = int(((now or datetime.now(UTC)) - then).total_seconds())
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{max(seconds, 0)}s"


def _score(row: AssessmentRow) -> str:
    if row.score is None or not row.max_score:
        return "-"
    return f"{row.score:g}/{row.max_score:g}"


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)


def queue_table(rows: list[AssessmentRow]) -> str:
    if not rows:
        return "The review queue is empty."
    return table(
        ["id", "pri", "status", "opportunity", "ticket", "agent", "score", "conf", "age", "flags"],
        [
            [
                str(r.id),
                str(r.priority),
                r.status,
                r.opportunity_id,
                f"{r.source}/{r.ticket_external_id}",
                r.agent_name or r.agent_id or "-",
                _score(r),
                f"{r.confidence:.2f}",
                _age(r.created_at),
                ",".join(r.flags) or "-",
            ]
            for r in rows
        ],
    )


def counts_table(counts: list[tuple[str, str, int]]) -> str:
    states = sorted({s for _, s, _ in counts})
    opportunities = sorted({o for o, _, _ in counts})
    grid = {(o, s): n for o, s, n in counts}
    rows = [
        [
            o,
            *(str(grid.get((o, s), 0)) for s in states),
            str(sum(grid.get((o, s), 0) for s in states)),
        ]
        for o in opportunities
    ]
    rows.append(
        [
            "total",
            *(str(sum(grid.get((o, s), 0) for o in opportunities)) for s in states),
            str(sum(n for _, _, n in counts)),
        ]
    )
    return table(["opportunity", *states, "total"], rows)


def assessment_text(
    row: AssessmentRow, results: list[CriterionResultRow], decisions: list[DecisionRow]
) -> str:
    out = [
        f"Assessment {row.id}  [{row.status}]  priority {row.priority}",
        f"  workflow     {row.workflow_id}",
        f"  ticket       {row.source}/{row.ticket_external_id}  ({row.event_type})",
        f"  agent        {row.agent_name or '-'} ({row.agent_id or '-'}), team {row.team or '-'}",
        f"  opportunity  {row.opportunity_id} v{row.opportunity_version}  "
        f"rubric {row.rubric_id}@{row.rubric_version}",
        f"  score        {_score(row)}  passed={row.passed}  confidence={row.confidence:.2f}",
        f"  flags        {', '.join(row.flags) or '-'}",
    ]
    if row.stop_reason:
        out.append(f"  stopped      {row.stop_reason}")
    out += ["", row.summary, ""]
    for r in results:
        cause = f"  cause: {r.cause}" if r.cause else ""
        out.append(f"  [{r.status:>14}] {r.criterion_id} {r.score:g}/{r.max_score:g}{cause}")
        out.append(f"                   {r.explanation}")
        for ev in r.evidence:
            if ev.get("kind") == "message":
                quote = " ".join(ev["quote"].split())
                out.append(f'                   > {ev["message_id"]}: "{quote}"')
            else:
                value = "missing" if ev.get("value") is None else f"{ev['value']:g}"
                limit = ev.get("threshold")
                threshold = f" ({ev.get('bound')} {limit:g})" if limit is not None else ""
                out.append(f"                   > {ev['metric']} = {value}{threshold}")
    if row.evidence_report:
        out += [
            "",
            "Evidence: " + " · ".join(f"{e['name']} {e['status']}" for e in row.evidence_report),
        ]
    if row.process_issues:
        out += ["", "Process issues for the lead (not the agent's doing, never coached):"]
        out += [f"  - {i['cause']}: {i['summary']}" for i in row.process_issues]
    if row.repeat_themes:
        out += ["", f"Repeat themes (failed in the last 30 days): {', '.join(row.repeat_themes)}"]
    if row.coaching_note:
        out += ["", "Coaching note draft (what the agent will see once a lead approves):", ""]
        out += ["  " + line if line else "" for line in row.coaching_note.rstrip().splitlines()]
    for d in decisions:
        out += ["", f"Decision: {d.action} by {d.lead} at {d.decided_at:%Y-%m-%d %H:%M} UTC"]
        if d.reason:
            out.append(f"  reason: {d.reason}")
        for c in d.changes:
            out.append(f"  {c['criterion_id']}.{c['field']}: {c['before']} -> {c['after']}")
        if d.note:
            out.append(f"  note: {d.note}")
    return "\n".join(out)


def metrics_text(m: Metrics) -> str:
    rate = f"{m.override_rate:.0%}" if m.override_rate is not None else "-"
    hours = f"{m.mean_review_hours:g} h" if m.mean_review_hours is not None else "-"
    causes = ", ".join(f"{k} {v}" for k, v in sorted(m.process_issues_by_cause.items())) or "-"
    return "\n".join(
        [
            f"  drafted for review     {m.drafted}",
            f"  stopped (to a lead)    {m.stopped}",
            f"  awaiting a lead        {m.awaiting_review}",
            f"  tickets reviewed       {m.tickets_reviewed}",
            f"  coaching notes approved {m.notes_approved}",
            f"  dismissed              {m.dismissed}",
            f"  lead override rate     {rate}",
            f"  mean time to review    {hours}",
            f"  process issues         {m.process_issues}; assessments with one: {causes}",
        ]
    )


def _when(at: datetime | None) -> str:
    return f"{at:%Y-%m-%d %H:%M} UTC" if at else "-"


def user_dict(row: UserRow) -> dict:
    return {
        "name": row.name,
        "role": row.role,
        "teams": list(row.teams),
        "groups": list(row.groups),
        "created_at": row.created_at,
    }


def users_table(rows: list[UserRow]) -> str:
    if not rows:
        return "No users yet; add one with `starter.py users add NAME --role lead --team T`."
    return table(
        ["name", "role", "teams", "groups"],
        [[r.name, r.role, ",".join(r.teams) or "-", ",".join(r.groups) or "-"] for r in rows],
    )


def task_dict(row: LearningTaskRow) -> dict:
    return {
        "id": row.id,
        "assessment_id": row.assessment_id,
        "key": row.task_key,
        "title": row.title,
        "skill": row.skill,
        "trainee_id": row.trainee_id,
        "status": row.status,
        "assigned_at": row.assigned_at,
        "due_at": row.due_at,
        "closes_at": row.closes_at or row.due_at,
        "reminded": row.reminded_at is not None,
        "completed_at": row.completed_at,
    }


def tasks_table(rows: list[LearningTaskRow]) -> str:
    return table(
        ["id", "assessment", "status", "due", "task", "skill"],
        [
            [
                str(r.id),
                str(r.assessment_id),
                r.status + (" (reminded)" if r.reminded_at and r.status == "open" else ""),
                _when(r.due_at),
                f"{r.task_key}: {r.title}",
                r.skill or "-",
            ]
            for r in rows
        ],
    )


def survey_dict(row: SurveyRow, template: SurveyTemplate | None) -> dict:
    """A survey with the questions of its template (None when the template is gone)."""
    return {
        "id": row.id,
        "assessment_id": row.assessment_id,
        "audience": row.audience,
        "template_id": row.template_id,
        "template_version": row.template_version,
        "name": template.name if template else None,
        "respondent_id": row.respondent_id,
        "status": row.status,
        "sent_at": row.sent_at,
        "expires_at": row.expires_at,
        "answered_at": row.answered_at,
        "questions": [q.model_dump(mode="json") for q in template.questions] if template else [],
    }


def _question_line(q: dict) -> str:
    if q["kind"] == "scale":
        labels = q.get("labels") or {}
        ends = f" ({labels.get('low') or q['min']} .. {labels.get('high') or q['max']})"
        shape = f"whole number {q['min']}-{q['max']}" + (ends if labels else "")
    elif q["kind"] == "choice":
        shape = "one of " + ", ".join(q["options"])
    else:
        shape = f"text, at most {q['max_length']} characters"
    need = "required" if q["required"] else "optional"
    return f"    {q['id']}: {q['text']}\n        {shape}; {need}"


def surveys_text(items: list[dict], respondent: str) -> str:
    out = []
    for s in items:
        out.append(
            f"survey {s['id']}  [{s['status']}]  {s['name'] or s['template_id']} "
            f"({s['template_id']} v{s['template_version']}), assessment {s['assessment_id']}, "
            f"expires {_when(s['expires_at'])}"
        )
        out += [_question_line(q) for q in s["questions"]]
        if s["status"] == "open" and s["questions"]:
            pairs = " ".join(f"--answer {q['id']}=..." for q in s["questions"] if q["required"])
            out.append(f"  answer with: starter.py answer {s['id']} --as {respondent} {pairs}")
        out.append("")
    return "\n".join(out).rstrip()


def skill_dict(row: SkillRow) -> dict:
    return {
        "skill": row.skill,
        "awarded_at": row.awarded_at,
        "assessment_id": row.assessment_id,
        "task_id": row.task_id,
    }


def skills_table(rows: list[SkillRow]) -> str:
    return table(
        ["skill", "awarded", "assessment", "task"],
        [[r.skill, _when(r.awarded_at), str(r.assessment_id), str(r.task_id or "-")] for r in rows],
    )


def _counted(counts: dict[str, int]) -> str:
    return " · ".join(f"{k} {n}" for k, n in sorted(counts.items())) or "none"


def lifecycle_text(
    statuses: dict[str, int],
    tasks: dict[str, int],
    skills: list[tuple[str, str]],
    surveys: dict[str, int],
    disputes: dict[str, int],
) -> str:
    awarded = ", ".join(f"{skill} to {trainee}" for trainee, skill in skills)
    return "\n".join(
        [
            f"  assessments by status  {_counted(statuses)}",
            f"  learning tasks         {tasks.get('completed', 0)} completed of "
            f"{sum(tasks.values())} ({_counted(tasks)})",
            f"  skills awarded         {len(skills)}" + (f" ({awarded})" if awarded else ""),
            f"  surveys answered       {surveys.get('answered', 0)} of {sum(surveys.values())}",
            f"  disputes               {sum(disputes.values())}"
            + (f" ({_counted(disputes)})" if disputes else ""),
        ]
    )
