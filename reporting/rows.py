"""The pilot report as rows, one per metric, for the CSV: section, metric, value, and for a
keyed metric its key (a criterion, policy, article, week...); for a rate or a mean, the
count it rests on (`count`) and, for a rate, the whole it is a share of (`of`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from reporting.model import PilotReport
from store.metrics_model import Rate, ratio

HEADER = ["section", "metric", "value", "key", "count", "of"]


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


class _Rows:
    def __init__(self) -> None:
        self.rows: list[list[Any]] = [HEADER]

    def add(self, section: str, metric: str, value: Any, key: str = "", count=None, of=None):
        self.rows.append([_cell(v) for v in (section, metric, value, key, count, of)])

    def rate(self, section: str, metric: str, rate: Rate, key: str = "") -> None:
        self.add(section, metric, rate.rate, key, rate.part, rate.of)

    def keyed(self, section: str, metric: str, counts: dict[str, int]) -> None:
        for key, n in counts.items():
            self.add(section, metric, n, key)


def metric_rows(report: PilotReport) -> list[list[Any]]:
    out = _Rows()
    w, scope, m = report.window, report.scope, report.metrics
    out.add("pilot", "since", w.since)
    out.add("pilot", "until", w.until)
    out.add("pilot", "days", w.days)
    out.add("pilot", "elapsed_days", w.elapsed_days)
    out.add("pilot", "scope", scope.kind, scope.queue or "")
    if scope.conversations is not None:
        out.add("pilot", "conversations_limit", scope.conversations)
    out.add("pilot", "generated_at", report.generated_at)

    card = m.scorecard
    out.add("scorecard", "sampled", card.sampled)
    out.add("scorecard", "with_note", card.with_note)
    out.add("scorecard", "with_exception", card.with_exception)
    out.add("scorecard", "completion", card.rate, "", card.completed, card.sampled)
    out.add("scorecard", "threshold", card.threshold)
    out.add("scorecard", "met", card.met)

    c = report.checks
    out.add("workflow_test", "conversations", c.conversations)
    for check in ("scored", "evidence", "coaching_action", "reviewer_edit", "gap_flag"):
        part = getattr(c, check)
        out.add("workflow_test", check, ratio(part, c.conversations), "", part, c.conversations)
    out.add("workflow_test", "completion", c.rate, "", c.completed, c.conversations)
    out.add("workflow_test", "threshold", c.threshold)
    out.add("workflow_test", "met", c.met)

    decided = m.notes_approved + m.dismissed
    out.add("reviewer_edits", "overrides", m.overrides)
    out.add("reviewer_edits", "override_rate", m.override_rate, "", m.overrides, decided)
    for key, rate in m.override_rate_by_criterion.items():
        out.rate("reviewer_edits", "override_rate_by_criterion", rate, key)
    for key, rate in m.override_rate_by_rubric_version.items():
        out.rate("reviewer_edits", "override_rate_by_rubric_version", rate, key)

    out.keyed("gaps", "policy", m.policy_gaps)
    out.keyed("gaps", "documentation", m.documentation_gaps)

    plan = "measurement"
    for name in (
        "drafted",
        "stopped",
        "awaiting_review",
        "tickets_reviewed",
        "notes_approved",
        "dismissed",
        "mean_review_hours",
        "p50_review_hours",
        "process_issues",
        "skills_awarded",
    ):
        out.add(plan, name, getattr(m, name))
    out.keyed(plan, "process_issues_by_cause", m.process_issues_by_cause)
    themes = m.repeat_themes
    out.add(plan, "repeat_themes", themes.rate, "", themes.repeated, themes.coached)
    for key, rate in themes.by_criterion.items():
        out.rate(plan, "repeat_themes_by_criterion", rate, key)
    csat = m.csat_recovery
    out.add(plan, "csat_coachings", csat.coachings)
    out.add(plan, "csat_before_mean", csat.before_mean, "", csat.before_count)
    out.add(plan, "csat_after_mean", csat.after_mean, "", csat.after_count)
    out.add(plan, "csat_change", csat.change)
    out.add(plan, "csat_paired_mean_change", csat.paired_mean_change, "", csat.paired_coachings)
    tasks = m.tasks
    out.add(plan, "tasks_assigned", tasks.assigned)
    closed = tasks.completed + tasks.incomplete
    out.add(plan, "task_completion", tasks.completion_rate, "", tasks.completed, closed)
    out.add(plan, "task_on_time", tasks.on_time_rate, "", tasks.on_time, tasks.completed)
    out.add(plan, "surveys_sent", m.surveys.sent)
    out.add(plan, "surveys_answered", m.surveys.answered)
    out.add(plan, "surveys_expired", m.surveys.expired)
    for audience, questions in sorted(m.surveys.scores.items()):
        for question, score in questions.items():
            out.add(plan, "survey_score", score.mean, f"{audience}/{question}", score.count)
    esc = m.escalations
    out.add(plan, "escalations_unclear_policy", esc.share, "", esc.unclear_policy, esc.assessed)
    for name in ("acknowledged", "disputed", "upheld", "amended"):
        out.add(plan, f"responses_{name}", getattr(m.responses, name))

    out.keyed("themes", "coaching_themes", report.themes)
    for week in report.weeks:
        key = week.week.isoformat()
        out.add("weeks", "coaching_themes", week.themes, key)
        out.add("weeks", "policy_issues", week.policy_issues, key)
        out.add("weeks", "kb_issues", week.kb_issues, key)

    if report.qa_sample:
        qa = report.qa_sample
        out.add("qa_sample", "run", qa.run_id)
        for name, composition in (("sample", qa.sample), ("population", qa.population)):
            out.add("qa_sample", f"{name}_total", composition.total)
            for band, n in composition.bands.items():
                out.add("qa_sample", f"{name}_band", n, band, None, composition.total)
            for channel, n in sorted(composition.channels.items()):
                out.add("qa_sample", f"{name}_channel", n, channel, None, composition.total)
    return out.rows
