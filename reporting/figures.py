"""The pilot report's charts, as server-rendered SVG (reporting.charts)."""

from __future__ import annotations

from markupsafe import Markup

from reporting.charts import Bar, bar_chart
from reporting.model import PilotReport
from store.metrics_model import Rate


def percent(value: float | None) -> str:
    """A share with one decimal at most: 0.6667 is 66.7%, 0.85 is 85%."""
    if value is None:
        return "-"
    return f"{value * 100:.1f}".removesuffix(".0") + "%"


def _share(label: str, part: int, of: int, tone: str = "primary") -> Bar:
    value = part / of if of else 0.0
    return Bar(label, value, tone, f"{part} of {of}" if of else "-")


def _rates(rates: dict[str, Rate], tone: str) -> list[Bar]:
    return [Bar(k, r.rate or 0.0, tone, f"{percent(r.rate)} of {r.of}") for k, r in rates.items()]


def _mean(label: str, mean: float | None, tone: str) -> Bar:
    return Bar(label, mean or 0.0, tone, "-" if mean is None else f"{mean:g}")


def _counts(counts: dict[str, int], tone: str) -> list[Bar]:
    return [Bar(k, n, tone) for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def pilot_charts(report: PilotReport) -> dict[str, Markup]:
    m, checks, csat = report.metrics, report.checks, report.metrics.csat_recovery
    card = m.scorecard

    def against_bar(rate: float | None, met: bool) -> Bar:
        return Bar("Completed", rate or 0.0, "good" if met else "bad", percent(rate))

    threshold = Bar("Threshold", card.threshold, "muted", percent(card.threshold))
    n = checks.conversations
    charts = {
        "scorecard": bar_chart(
            "Scorecard completion against the threshold",
            [against_bar(card.rate, card.met), threshold],
            maximum=1,
        ),
        "checks": bar_chart(
            "The workflow test, conversation by conversation",
            [
                _share("Criteria scored", checks.scored, n),
                _share("Evidence excerpts", checks.evidence, n),
                _share("Coaching action", checks.coaching_action, n),
                _share("Reviewer edit", checks.reviewer_edit, n, "warn"),
                _share("Policy or KB flag", checks.gap_flag, n, "warn"),
                _share("Note or exception", checks.completed, n, "good" if checks.met else "bad"),
            ],
            maximum=1,
        ),
        "flow": bar_chart(
            "Assessments in the window",
            [
                Bar("Drafted", m.drafted),
                Bar("Stopped", m.stopped, "bad"),
                Bar("Tickets reviewed", m.tickets_reviewed),
                Bar("Notes approved", m.notes_approved, "good"),
                Bar("Overrides", m.overrides, "warn"),
                Bar("Dismissed", m.dismissed, "muted"),
                Bar("Waiting for a lead now", m.awaiting_review, "warn"),
            ],
        ),
        "overrides": bar_chart(
            "Override rate by criterion", _rates(m.override_rate_by_criterion, "warn"), maximum=1
        ),
        "policy": bar_chart("Policy gaps by policy", _counts(m.policy_gaps, "warn")),
        "kb": bar_chart("Documentation gaps by article", _counts(m.documentation_gaps, "warn")),
        "themes": bar_chart("Coaching themes by criterion", _counts(report.themes, "primary")),
        "weeks": bar_chart(
            "Coaching themes week by week",
            [Bar(f"week of {w.week:%d %b}", w.themes) for w in report.weeks],
        ),
        "csat": bar_chart(
            "CSAT (five points) around approved coaching",
            [
                _mean(f"30 days before ({csat.before_count})", csat.before_mean, "muted"),
                _mean(f"30 days after ({csat.after_count})", csat.after_mean, "good"),
            ],
            maximum=5,
        ),
        "surveys": bar_chart(
            "Survey answers, mean",
            [
                Bar(f"{audience}: {question} ({score.count})", score.mean)
                for audience, questions in sorted(m.surveys.scores.items())
                for question, score in questions.items()
            ],
        ),
    }
    if report.qa_sample:
        sample, population = report.qa_sample.sample, report.qa_sample.population
        charts["qa_sample"] = bar_chart(
            "The QA sample against its population, by CSAT band",
            [
                bar
                for band, count in sample.bands.items()
                for bar in (
                    _share(f"{band}: sample", count, sample.total),
                    _share(
                        f"{band}: population",
                        population.bands.get(band, 0),
                        population.total,
                        "muted",
                    ),
                )
            ],
            maximum=1,
        )
    return charts
