"""`starter.py metrics`: the coaching metrics, or with `--trends BY` their week-over-week
trends, over a window and any slice, as readable text or (`--json`) as the API gives them.
A flag per MetricsSlice field, whatever the fields are."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, get_args

from service.render import table
from service.runtime import open_store
from service.settings import Settings
from service.updates import CommandError
from store.metrics import Metrics, MetricsSlice, Rate, TrendBy, compute_metrics

if TYPE_CHECKING:
    from web.api.schemas import TrendsOut

WIDTH = 28


def _when(at: datetime | None) -> str:
    return f"{at:%Y-%m-%d %H:%M} UTC" if at else "-"


def window_line(since: datetime | None, until: datetime | None) -> str:
    if since and until:
        return f"Window: from {_when(since)} to {_when(until)}"
    if since:
        return f"Window: from {_when(since)} on"
    if until:
        return f"Window: everything before {_when(until)}"
    return "Window: all time"


def slice_line(chosen: MetricsSlice) -> str:
    given = chosen.model_dump(exclude_none=True)
    parts = [f"{name.replace('_', ' ')} {value}" for name, value in given.items()]
    return f"Slice: {', '.join(parts) or 'none (everything)'}"


def _num(value: float | None, unit: str = "") -> str:
    return "-" if value is None else f"{value:g}{unit}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _rate(rate: Rate) -> str:
    return f"{_pct(rate.rate)} ({rate.part} of {rate.of})"


def _each(items: dict, shown=str) -> str:
    return ", ".join(f"{key} {shown(value)}" for key, value in items.items()) or "-"


def metrics_text(
    m: Metrics, since: datetime | None, until: datetime | None, chosen: MetricsSlice
) -> str:
    csat, tasks, card, repeat = m.csat_recovery, m.tasks, m.scorecard, m.repeat_themes
    scores = {
        f"{audience} {question}": f"{score.mean:g} ({score.count})"
        for audience, questions in sorted(m.surveys.scores.items())
        for question, score in sorted(questions.items())
    }
    sections = {
        "Review": [
            ("drafted for review", f"{m.drafted} (stopped {m.stopped})"),
            ("awaiting a lead now", m.awaiting_review),
            ("tickets reviewed", m.tickets_reviewed),
            ("coaching notes approved", f"{m.notes_approved} (overrides {m.overrides})"),
            ("dismissed", m.dismissed),
            (
                "lead override rate",
                f"{_pct(m.override_rate)} ({m.overrides} of "
                f"{m.notes_approved + m.dismissed} decisions)",
            ),
            (
                "time to review",
                f"mean {_num(m.mean_review_hours, ' h')}, median {_num(m.p50_review_hours, ' h')}",
            ),
            ("override rate by version", _each(m.override_rate_by_rubric_version, _rate)),
            ("override rate by criterion", _each(m.override_rate_by_criterion, _rate)),
        ],
        "Themes and gaps": [
            (
                "repeat themes",
                f"{repeat.repeated} of {repeat.coached} coached themes "
                f"repeated ({_pct(repeat.rate)})",
            ),
            ("repeats by criterion", _each(repeat.by_criterion, _rate)),
            (
                "process issues",
                f"{m.process_issues}; assessments with one: {_each(m.process_issues_by_cause)}",
            ),
            ("documentation gaps", _each(m.documentation_gaps)),
            ("policy gaps", _each(m.policy_gaps)),
            (
                "escalations",
                f"{m.escalations.assessed} assessed, "
                f"{m.escalations.unclear_policy} for unclear policy "
                f"({_pct(m.escalations.share)})",
            ),
        ],
        "Outcomes": [
            (
                "CSAT recovery",
                f"before {_num(csat.before_mean)} ({csat.before_count}), after "
                f"{_num(csat.after_mean)} ({csat.after_count}), change "
                f"{_num(csat.change)} over {csat.coachings} coachings",
            ),
            (
                "CSAT change, both sides",
                f"{_num(csat.paired_mean_change)} ({csat.paired_coachings} coachings)",
            ),
            (
                "learning tasks",
                f"{tasks.assigned} assigned, {tasks.completed} completed "
                f"({_pct(tasks.completion_rate)}), {tasks.on_time} on time "
                f"({_pct(tasks.on_time_rate)}), {tasks.incomplete} incomplete",
            ),
            ("skills awarded", m.skills_awarded),
            (
                "surveys",
                f"{m.surveys.sent} sent, {m.surveys.answered} answered, "
                f"{m.surveys.expired} expired",
            ),
            ("survey scores", ", ".join(f"{k} {v}" for k, v in scores.items()) or "-"),
            (
                "responses",
                f"{m.responses.acknowledged} acknowledged, {m.responses.disputed} "
                f"disputed (upheld {m.responses.upheld}, amended "
                f"{m.responses.amended})",
            ),
        ],
        "Scorecard completion": [
            (
                "completed",
                f"{card.completed} of {card.sampled} sampled ({_pct(card.rate)}): "
                f"{card.with_note} with a QA note, {card.with_exception} with a "
                f"non-agent exception",
            ),
            (f"pilot bar {card.threshold:.0%}", "met" if card.met else "not met"),
        ],
    }
    lines = [window_line(since, until), slice_line(chosen)]
    for title, rows in sections.items():
        lines += ["", title, *(f"  {name:<{WIDTH}}{value}" for name, value in rows)]
    return "\n".join(lines)


def trends_text(found: TrendsOut) -> str:
    from web.api.metrics import trend_lines

    what = (
        "assessments with a process issue"
        if found.by in ("policy", "kb_article")
        else "coaching themes"
    )
    head = [
        f"Week over week: {what} by {found.by.replace('_', ' ')} (weeks from Monday, UTC)",
        window_line(found.since, found.until),
        slice_line(found.slice),
        "",
    ]
    if not found.rows:
        return "\n".join([*head, "Nothing in the window."])
    rows = [
        [
            line.key,
            *map(str, line.counts),
            str(line.total),
            "-" if line.change is None else f"{line.change:+d}",
        ]
        for line in trend_lines(found.weeks, found.rows)
    ]
    headers = [found.by, *(f"{w:%m-%d}" for w in found.weeks), "total", "vs last week"]
    return "\n".join([*head, table(headers, rows)])


async def metrics(
    settings: Settings,
    since: datetime | None,
    until: datetime | None,
    chosen: MetricsSlice,
    trend: TrendBy | None,
    weeks: int | None,
    as_json: bool,
) -> int:
    if since and until and until < since:
        raise CommandError("--until: must not be before --since", 2)
    if weeks is not None and (trend is None or since is not None or weeks < 1):
        raise CommandError("--weeks: a number of weeks from 1, with --trends, not --since", 2)
    from web.api.metrics import weekly_trends  # the web app's imports, for this command only

    async with open_store(settings) as sessions, sessions() as session:
        if trend is None:
            values = await compute_metrics(session, since=since, until=until, slice=chosen)
            text = metrics_text(values, since, until, chosen)
        else:
            values = await weekly_trends(session, trend, since, until, chosen, weeks)
            text = trends_text(values)
    print(values.model_dump_json(indent=2) if as_json else text)
    return 0


def add_metrics_parser(sub: Any, date_type: Callable[[str], datetime]) -> None:
    p = sub.add_parser(
        "metrics",
        help="print the coaching metrics over a window and slice, or their weekly trends",
        description="The coaching metrics (as GET /api/metrics), or with --trends their "
        "week-over-week trends (as GET /api/metrics/trends), over a window and any slice.",
    )
    p.add_argument(
        "--since", type=date_type, metavar="DATE", help="from this date (UTC) or instant, inclusive"
    )
    p.add_argument("--until", type=date_type, metavar="DATE", help="up to this one, exclusive")
    group = p.add_argument_group("slice", "only the records with these values (they combine)")
    for name, info in MetricsSlice.model_fields.items():
        whole = int in get_args(info.annotation)
        group.add_argument(
            f"--{name.replace('_', '-')}",
            dest=f"slice_{name}",
            type=int if whole else str,
            metavar="N" if whole else "ID",
            help=f"only this {name.replace('_', ' ')}",
        )
    p.add_argument(
        "--trends",
        choices=get_args(TrendBy),
        metavar="BY",
        help="week over week instead: coaching themes by agent, team, queue, product_area, "
        "customer_segment or criterion; process issues by policy or kb_article",
    )
    p.add_argument(
        "--weeks",
        type=int,
        metavar="N",
        help="with --trends: the last N weeks up to --until (or now), instead of --since",
    )
    p.add_argument("--json", action="store_true", help="as JSON, the same as the API's")
    p.set_defaults(run=_run)


def _run(args: argparse.Namespace, settings: Settings) -> int:
    chosen = MetricsSlice(
        **{name: getattr(args, f"slice_{name}") for name in MetricsSlice.model_fields}
    )
    return asyncio.run(
        metrics(settings, args.since, args.until, chosen, args.trends, args.weeks, args.json)
    )
