"""Every metric of compute_metrics and trends, on a known history built in the database:
the full window, a narrower window, and slices by team, agent and rubric version."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest

from store.measurements import append_measurement
from store.metrics import Metrics, MetricsSlice, compute_metrics, trends
from store.models import AssessmentRow, CriterionResultRow, EventRow, TicketRow

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
HOUR, DAY = timedelta(hours=1), timedelta(days=1)
AGENTS = {
    "a-1": {"team": "tier1", "queue": "billing", "product_area": "invoices", "segment": "smb"},
    "a-2": {"team": "tier2", "queue": "tech", "product_area": "api", "segment": "enterprise"},
}
_keys = itertools.count()


@dataclass
class Case:
    """One assessment: its conversation, criterion results (after any override) and events."""

    name: str
    agent: str
    opportunity: str
    event_type: str
    rubric_version: int
    occurred: timedelta
    status: str
    results: list[tuple[str, str, str | None]] = field(default_factory=list)
    stopped: bool = False

    @property
    def occurred_at(self) -> datetime:
        return T0 + self.occurred

    @property
    def drafted_at(self) -> datetime:
        return self.occurred_at + HOUR


async def add_ticket(session, name: str, agent: str | None, csat=None) -> TicketRow:
    snapshot: dict = {"status": "solved"}
    if csat is not None:
        snapshot["csat"] = csat
    profile = AGENTS.get(agent or "", {})
    row = TicketRow(
        source="generic",
        external_id=name,
        agent_id=agent,
        team=profile.get("team"),
        queue=profile.get("queue"),
        product_area=profile.get("product_area"),
        customer_segment=profile.get("segment"),
        snapshot=snapshot,
        last_event_at=T0,
        updated_at=T0,
    )
    session.add(row)
    await session.flush()
    return row


async def add_assessment(session, case: Case, ticket: TicketRow | None = None) -> AssessmentRow:
    ticket = ticket or await add_ticket(session, f"t-{case.name}", case.agent)
    profile = AGENTS[case.agent]
    row = AssessmentRow(
        workflow_id=f"coaching/{case.opportunity}/generic/{case.name}",
        opportunity_id=case.opportunity,
        opportunity_version=1,
        rubric_id="support-core",
        rubric_version=case.rubric_version,
        ticket_id=ticket.id,
        source="generic",
        ticket_external_id=ticket.external_id,
        event_id=f"e-{case.name}",
        event_type=case.event_type,
        agent_id=case.agent,
        team=profile["team"],
        queue=profile["queue"],
        product_area=profile["product_area"],
        customer_segment=profile["segment"],
        status=case.status,
        confidence=0.9,
        priority=0,
        flags=[],
        summary="",
        occurred_at=case.occurred_at,
        created_at=case.drafted_at,
        updated_at=case.drafted_at,
    )
    session.add(row)
    await session.flush()
    for position, (criterion, status, cause) in enumerate(case.results):
        session.add(
            CriterionResultRow(
                assessment_id=row.id,
                position=position,
                criterion_id=criterion,
                name=criterion,
                status=status,
                score=1.0 if status == "passed" else 0.0,
                max_score=1.0,
                weight=1.0,
                critical=False,
                cause=cause,
                confidence=0.9,
                explanation="",
                evidence=[],
            )
        )
    await event(
        session,
        "assessment_stopped" if case.stopped else "assessment_drafted",
        case.drafted_at,
        row,
        event_type=case.event_type,
    )
    return row


async def event(session, kind: str, at: datetime, assessment=None, **data) -> None:
    assert await append_measurement(session, kind, at, f"k{next(_keys)}", assessment, data)


async def decide(session, row: AssessmentRow, action: str, hours: float, **data) -> datetime:
    at = row.created_at + timedelta(hours=hours)
    await event(session, f"decision_{action}", at, row, review_seconds=hours * 3600, **data)
    return at


async def issue(session, row: AssessmentRow, cause: str, ref: str | None) -> None:
    await event(session, "process_issue", row.created_at, row, cause=cause, ref=ref, summary="")


async def surveys(session, row: AssessmentRow, at: datetime, audiences=("coach", "trainee")):
    for audience in audiences:
        await event(session, "survey_sent", at, row, audience=audience, template_id="x")


async def answer(session, row: AssessmentRow, at: datetime, audience: str, **answers) -> None:
    await event(session, "survey_answered", at, row, audience=audience, answers=answers)


async def build_history(sessions) -> None:
    """The history every test reads (T0 is Monday 2 March 2026, 09:00 UTC):

    A1  a-1 low-csat         v1  T0       overridden after 4 h; empathy and tone coached
    A2  a-1 weekly-qa-sample v1  T0+10d   qa.sampled, approved after 2 h: empathy again
    A3  a-2 escalation       v2  T0+2d    unclear refund policy, dismissed after 10 h
    A4  a-2 weekly-qa-sample v2  T0+3d    stopped, an outdated article kb-101
    A5  a-2 weekly-qa-sample v2  T0+4d    waiting for a lead
    A6  a-1 weekly-qa-sample v1  T0+20d   ticket.solved, dismissed after 1 h, no cause named
    A7  a-2 weekly-qa-sample v2  T0+5d    the virtual coach
    A8  a-1 weekly-qa-sample v1  T0+6d    dismissed after 3 h as a staffing problem
    A9  a-1 low-csat         v1  T0+48d   a Sunday; approved after 6 h
    A10 a-1 escalation       v1  T0+8d    policy guidance asked for, kb-101 and kb-202 outdated
    A11 a-2 escalation       v2  T0+9d    waiting for a lead
    """
    failed = "failed", "agent_behavior"
    async with sessions() as session, session.begin():
        # CSAT responses are tickets with a csat.received event: the score is the snapshot's
        # (five points unless said), the time the ticket's latest csat.received event.
        t1 = await add_ticket(session, "t1", "a-1", {"score": 1, "scale": 5})
        t2 = await add_ticket(session, "t2", "a-1", {"score": 3})
        t3 = await add_ticket(session, "t3", "a-1", {"score": 8, "scale": 10})
        t4 = await add_ticket(session, "t4", "a-1", {"score": 5})
        t5 = await add_ticket(session, "t5", "a-1", {"score": 2})
        t6 = await add_ticket(session, "t6", "a-2", {"score": 1})
        t7 = await add_ticket(session, "t7", None, {"score": 1})
        # No csat.received event: not a response, whatever its snapshot says.
        await add_ticket(session, "t8", "a-1", {"score": 1})
        for ticket, at in (
            (t1, T0),
            (t2, T0 - 12 * DAY),
            (t2, T0 - 10 * DAY),
            (t3, T0 + 7 * DAY),
            (t4, T0 + 15 * DAY),
            (t5, T0 - 40 * DAY),
            (t6, T0 + DAY),
            (t7, T0 + DAY),
        ):
            session.add(
                EventRow(
                    source="generic",
                    event_id=f"csat-{ticket.external_id}-{at:%d}",
                    type="csat.received",
                    occurred_at=at,
                    ticket_id=ticket.id,
                    received_at=at,
                )
            )

        a1 = await add_assessment(
            session,
            Case(
                "A1",
                "a-1",
                "low-csat",
                "csat.received",
                1,
                timedelta(0),
                "coaching",
                [
                    ("empathy", *failed),
                    ("first_response_sla", "failed", "staffing"),
                    ("tone", *failed),
                ],
            ),
            t1,
        )
        d1 = await decide(
            session,
            a1,
            "override",
            4,
            reason="the delay was a backlog",
            changes=[
                {"criterion_id": "first_response_sla", "field": "cause", "before": "agent_behavior"}
                | {"after": "staffing"},
                {"criterion_id": "first_response_sla", "field": "score", "before": 0, "after": 0.5},
                {"criterion_id": "tone", "field": "score", "before": 1, "after": 0},
            ],
        )
        await event(session, "coaching_started", d1, a1, by="coaching")
        await event(session, "task_assigned", d1, a1, task_key="empathy-refresher")
        await event(session, "task_completed", d1 + 2 * DAY, a1, on_time=True)
        await event(session, "skill_awarded", d1 + 2 * DAY, a1, skill="empathy")
        await surveys(session, a1, d1)
        await answer(session, a1, d1 + DAY, "coach", competence=4, clarity=5)
        await answer(session, a1, d1 + DAY, "trainee", usefulness=5)
        await event(session, "acknowledged", d1 + DAY, a1)

        a2 = await add_assessment(
            session,
            Case(
                "A2",
                "a-1",
                "weekly-qa-sample",
                "qa.sampled",
                1,
                10 * DAY,
                "closed_incomplete",
                [("empathy", *failed), ("tone", "passed", None)],
            ),
        )
        d2 = await decide(session, a2, "approve", 2, changes=[])
        await event(session, "coaching_started", d2, a2, by="coaching")
        await event(session, "task_assigned", d2, a2, task_key="empathy-refresher")
        await event(session, "task_incomplete", d2 + 21 * DAY, a2)
        await surveys(session, a2, d2)
        await answer(session, a2, d2 + DAY, "trainee", usefulness=3)
        await event(session, "survey_expired", d2 + 7 * DAY, a2, audience="coach")
        await event(session, "disputed", d2 + DAY, a2)
        await event(session, "dispute_upheld", d2 + 2 * DAY, a2, lead="quinn")

        a3 = await add_assessment(
            session,
            Case(
                "A3",
                "a-2",
                "escalation",
                "ticket.escalated",
                2,
                2 * DAY,
                "dismissed",
                [("policy_exception", "failed", "policy"), ("empathy", "passed", None)],
            ),
        )
        await issue(session, a3, "policy", "refund-policy")
        await decide(session, a3, "dismiss", 10, reason="unclear refund rules", changes=[])

        a4 = await add_assessment(
            session,
            Case(
                "A4",
                "a-2",
                "weekly-qa-sample",
                "qa.sampled",
                2,
                3 * DAY,
                "stopped",
                [("kb_reference", "failed", "documentation")],
                stopped=True,
            ),
        )
        await issue(session, a4, "documentation", "kb-101")

        a5 = await add_assessment(
            session,
            Case(
                "A5",
                "a-2",
                "weekly-qa-sample",
                "qa.sampled",
                2,
                4 * DAY,
                "awaiting_review",
                [("empathy", *failed)],
            ),
        )
        del a5

        a6 = await add_assessment(
            session,
            Case(
                "A6",
                "a-1",
                "weekly-qa-sample",
                "ticket.solved",
                1,
                20 * DAY,
                "dismissed",
                [("empathy", *failed), ("handoff_note", "not_applicable", None)],
            ),
        )
        await decide(session, a6, "dismiss", 1, reason="Not worth coaching", changes=[])

        a7 = await add_assessment(
            session,
            Case(
                "A7",
                "a-2",
                "weekly-qa-sample",
                "qa.sampled",
                2,
                5 * DAY,
                "virtual_coach",
                [("empathy", "passed", None)],
            ),
        )
        await event(session, "coaching_started", a7.created_at, a7, by="virtual_coach")
        await event(session, "task_assigned", a7.created_at, a7, task_key="tone")
        await event(session, "task_completed", a7.created_at + 20 * DAY, a7, on_time=False)
        await surveys(session, a7, a7.created_at, ("trainee",))
        await answer(session, a7, a7.created_at + DAY, "trainee", usefulness=4)

        a8 = await add_assessment(
            session,
            Case(
                "A8",
                "a-1",
                "weekly-qa-sample",
                "qa.sampled",
                1,
                6 * DAY,
                "dismissed",
                [("empathy", "passed", None)],
            ),
        )
        await decide(session, a8, "dismiss", 3, reason="A STAFFING backlog, not the agent")

        a9 = await add_assessment(
            session,
            Case(
                "A9",
                "a-1",
                "low-csat",
                "csat.received",
                1,
                48 * DAY,
                "coaching",
                [("empathy", *failed)],
            ),
        )
        d9 = await decide(session, a9, "approve", 6, changes=[])
        await event(session, "coaching_started", d9, a9, by="coaching")
        await event(session, "task_assigned", d9, a9, task_key="empathy-refresher")
        await surveys(session, a9, d9)

        a10 = await add_assessment(
            session,
            Case(
                "A10",
                "a-1",
                "escalation",
                "ticket.escalated",
                1,
                8 * DAY,
                "awaiting_review",
                [("kb_reference", "failed", "documentation")],
            ),
        )
        await issue(session, a10, "policy", None)
        await issue(session, a10, "documentation", "kb-101")
        await issue(session, a10, "documentation", "kb-202")
        await event(session, "review_reminder", a10.created_at + 3 * DAY, a10, reviewers="x")

        await add_assessment(
            session,
            Case(
                "A11",
                "a-2",
                "escalation",
                "ticket.escalated",
                2,
                9 * DAY,
                "awaiting_review",
                [("handoff_note", *failed)],
            ),
        )


def rate(part: int, of: int, value: float | None) -> dict:
    return {"of": of, "part": part, "rate": value}


FULL = {
    "drafted": 10,
    "stopped": 1,
    "awaiting_review": 4,
    "tickets_reviewed": 6,
    "notes_approved": 3,
    "overrides": 1,
    "dismissed": 3,
    "override_rate": 0.1667,
    "mean_review_hours": 4.33,
    "p50_review_hours": 3.5,
    "process_issues": 5,
    "process_issues_by_cause": {"documentation": 3, "policy": 2},
    "override_rate_by_criterion": {
        "empathy": rate(0, 6, 0.0),
        "first_response_sla": rate(1, 1, 1.0),
        "policy_exception": rate(0, 1, 0.0),
        "tone": rate(1, 2, 0.5),
    },
    "override_rate_by_rubric_version": {
        "support-core@1": rate(1, 5, 0.2),
        "support-core@2": rate(0, 1, 0.0),
    },
    "repeat_themes": {
        "coached": 4,
        "repeated": 1,
        "rate": 0.25,
        "by_criterion": {"empathy": rate(1, 3, 0.3333), "tone": rate(0, 1, 0.0)},
    },
    "documentation_gaps": {"kb-101": 2, "kb-202": 1},
    "policy_gaps": {"(none)": 1, "refund-policy": 1},
    "escalations": {"assessed": 3, "unclear_policy": 2, "share": 0.6667},
    "csat_recovery": {
        "coachings": 3,
        "before_count": 5,
        "before_mean": 2.4,
        "after_count": 3,
        "after_mean": 4.667,
        "change": 2.267,
        "paired_coachings": 2,
        "paired_mean_change": 2.417,
    },
    "tasks": {
        "assigned": 4,
        "completed": 2,
        "on_time": 1,
        "incomplete": 1,
        "completion_rate": 0.6667,
        "on_time_rate": 0.5,
    },
    "skills_awarded": 1,
    "surveys": {
        "sent": 7,
        "answered": 4,
        "expired": 1,
        "scores": {
            "coach": {
                "clarity": {"mean": 5.0, "count": 1},
                "competence": {"mean": 4.0, "count": 1},
            },
            "trainee": {"usefulness": {"mean": 4.0, "count": 3}},
        },
    },
    "responses": {"acknowledged": 1, "disputed": 1, "upheld": 1, "amended": 0},
    "scorecard": {
        "sampled": 6,
        "with_note": 2,
        "with_exception": 2,
        "completed": 4,
        "rate": 0.6667,
        "threshold": 0.85,
        "met": False,
    },
}


@pytest.fixture
async def history(sessions):
    await build_history(sessions)
    return sessions


async def metrics(sessions, **kwargs) -> Metrics:
    async with sessions() as session:
        return await compute_metrics(session, **kwargs)


async def test_every_metric_over_the_whole_history(history):
    got = (await metrics(history)).model_dump()
    assert got == FULL
    # The dashboard and the CLI read these by position too: the ordering is by key.
    assert list(got["override_rate_by_criterion"]) == sorted(FULL["override_rate_by_criterion"])


async def test_an_empty_database_has_no_rates(sessions):
    got = await metrics(sessions)
    assert got.drafted == got.tickets_reviewed == got.awaiting_review == 0
    assert got.override_rate is got.mean_review_hours is got.p50_review_hours is None
    assert got.repeat_themes.rate is got.escalations.share is got.scorecard.rate is None
    assert got.csat_recovery.model_dump() == {
        "coachings": 0,
        "before_count": 0,
        "before_mean": None,
        "after_count": 0,
        "after_mean": None,
        "change": None,
        "paired_coachings": 0,
        "paired_mean_change": None,
    }
    assert got.scorecard.met is False and got.surveys.scores == {} and got.documentation_gaps == {}


async def test_a_window_counts_only_the_events_inside_it(history):
    # From T0+7d to T0+30d: A2's drafting and approval, A6, A10, A11, and the lifecycle
    # events dated inside (A1's were earlier; A7's task completion at T0+25d is inside).
    got = await metrics(history, since=T0 + 7 * DAY, until=T0 + 30 * DAY)
    assert (got.drafted, got.stopped, got.tickets_reviewed, got.notes_approved) == (4, 0, 2, 1)
    assert (got.dismissed, got.override_rate) == (1, 0.0)
    assert (got.mean_review_hours, got.p50_review_hours) == (1.5, 1.5)
    assert got.awaiting_review == 4, "the queue as it is now, whatever the window"
    assert got.process_issues_by_cause == {"documentation": 2, "policy": 1}
    assert got.documentation_gaps == {"kb-101": 1, "kb-202": 1}
    assert got.policy_gaps == {"(none)": 1}
    assert got.model_dump()["override_rate_by_rubric_version"] == {
        "support-core@1": rate(0, 2, 0.0)
    }
    assert got.repeat_themes.model_dump() == {
        "coached": 1,
        "repeated": 0,
        "rate": 0.0,
        "by_criterion": {"empathy": rate(0, 1, 0.0)},
    }
    assert got.escalations.model_dump() == {"assessed": 2, "unclear_policy": 1, "share": 0.5}
    assert got.csat_recovery.model_dump() == {
        "coachings": 1,
        "before_count": 3,
        "before_mean": 2.667,
        "after_count": 1,
        "after_mean": 5.0,
        "change": 2.333,
        "paired_coachings": 1,
        "paired_mean_change": 2.333,
    }
    assert got.tasks.model_dump() == {
        "assigned": 1,
        "completed": 1,
        "on_time": 0,
        "incomplete": 0,
        "completion_rate": 1.0,
        "on_time_rate": 0.0,
    }
    assert got.responses.model_dump() == {
        "acknowledged": 0,
        "disputed": 1,
        "upheld": 1,
        "amended": 0,
    }
    assert got.surveys.model_dump() == {
        "sent": 2,
        "answered": 1,
        "expired": 1,
        "scores": {"trainee": {"usefulness": {"mean": 3.0, "count": 1}}},
    }
    assert got.scorecard.model_dump() == {
        "sampled": 2,
        "with_note": 1,
        "with_exception": 0,
        "completed": 1,
        "rate": 0.5,
        "threshold": 0.85,
        "met": False,
    }


async def test_the_scorecard_counts_only_what_happened_before_until(history):
    # A2 was drafted at T0+10d 10:00 and approved at 12:00: cut at 11:00, it has no note yet.
    got = await metrics(history, since=T0, until=T0 + 10 * DAY + 2 * HOUR)
    assert got.scorecard.model_dump() == {
        "sampled": 5,
        "with_note": 1,
        "with_exception": 2,
        "completed": 3,
        "rate": 0.6,
        "threshold": 0.85,
        "met": False,
    }


async def test_a_slice_by_team(history):
    got = await metrics(history, slice=MetricsSlice(team="tier2"))
    assert (got.drafted, got.stopped, got.awaiting_review) == (4, 1, 3)
    assert (got.tickets_reviewed, got.notes_approved, got.dismissed) == (1, 0, 1)
    assert (got.override_rate, got.mean_review_hours, got.p50_review_hours) == (0.0, 10.0, 10.0)
    assert got.model_dump()["override_rate_by_rubric_version"] == {
        "support-core@2": rate(0, 1, 0.0)
    }
    assert got.override_rate_by_criterion["policy_exception"].model_dump() == rate(0, 1, 0.0)
    assert got.documentation_gaps == {"kb-101": 1}
    assert got.policy_gaps == {"refund-policy": 1}
    assert got.escalations.model_dump() == {"assessed": 2, "unclear_policy": 1, "share": 0.5}
    assert got.repeat_themes.coached == 0 and got.csat_recovery.coachings == 0
    assert got.tasks.model_dump() == {
        "assigned": 1,
        "completed": 1,
        "on_time": 0,
        "incomplete": 0,
        "completion_rate": 1.0,
        "on_time_rate": 0.0,
    }
    assert got.surveys.model_dump() == {
        "sent": 1,
        "answered": 1,
        "expired": 0,
        "scores": {"trainee": {"usefulness": {"mean": 4.0, "count": 1}}},
    }
    assert got.scorecard.model_dump() == {
        "sampled": 3,
        "with_note": 1,
        "with_exception": 1,
        "completed": 2,
        "rate": 0.6667,
        "threshold": 0.85,
        "met": False,
    }


async def test_a_slice_by_rubric_version_and_by_agent_in_a_window(history):
    v2 = await metrics(history, slice=MetricsSlice(rubric_id="support-core", rubric_version=2))
    assert (v2.drafted, v2.stopped, v2.tickets_reviewed) == (4, 1, 1)
    assert list(v2.override_rate_by_rubric_version) == ["support-core@2"]
    v1 = await metrics(history, slice=MetricsSlice(rubric_version=1))
    assert (v1.drafted, v1.tickets_reviewed, v1.overrides, v1.override_rate) == (6, 5, 1, 0.2)
    # Five decisions after 1, 2, 3, 4 and 6 hours: the median is the middle one.
    assert (v1.mean_review_hours, v1.p50_review_hours) == (3.2, 3.0)
    assert v1.repeat_themes.model_dump() == FULL["repeat_themes"]
    assert v1.csat_recovery.model_dump() == FULL["csat_recovery"]
    assert v1.scorecard.sampled == 3 and v1.scorecard.completed == 2

    early = await metrics(history, until=T0 + 7 * DAY, slice=MetricsSlice(agent="a-1"))
    assert (early.drafted, early.tickets_reviewed, early.overrides) == (2, 2, 1)
    assert early.repeat_themes.model_dump() == {
        "coached": 2,
        "repeated": 1,
        "rate": 0.5,
        "by_criterion": {"empathy": rate(1, 1, 1.0), "tone": rate(0, 1, 0.0)},
    }
    assert early.csat_recovery.model_dump() == {
        "coachings": 1,
        "before_count": 2,
        "before_mean": 2.0,
        "after_count": 2,
        "after_mean": 4.5,
        "change": 2.5,
        "paired_coachings": 1,
        "paired_mean_change": 2.5,
    }
    assert early.scorecard.model_dump()["completed"] == 1  # A8, dismissed as staffing
    # A slice picks the coachings; the failure that repeats a theme may lie outside it (A1's
    # empathy fails again on A2, of the weekly QA sample).
    low_csat = await metrics(history, slice=MetricsSlice(opportunity="low-csat"))
    assert low_csat.repeat_themes.model_dump() == {
        "coached": 3,
        "repeated": 1,
        "rate": 0.3333,
        "by_criterion": {"empathy": rate(1, 2, 0.5), "tone": rate(0, 1, 0.0)},
    }
    nobody = await metrics(history, slice=MetricsSlice(agent="a-9", queue="billing"))
    assert nobody.drafted == nobody.awaiting_review == nobody.scorecard.sampled == 0


async def test_csat_windows_end_at_the_decision_and_30_days_after(sessions):
    """Before is (t-30d, t], after is (t, t+30d], at the boundaries too, on both databases."""
    second = timedelta(seconds=1)
    async with sessions() as session, session.begin():
        row = await add_assessment(
            session,
            Case("B1", "a-1", "low-csat", "csat.received", 1, timedelta(0), "coaching"),
        )
        t = await decide(session, row, "approve", 2)
        for i, (at, score) in enumerate(
            (
                (t - 30 * DAY, 1),  # not in either
                (t - 30 * DAY + second, 2),  # before
                (t, 3),  # before
                (t + second, 4),  # after
                (t + 30 * DAY, 5),  # after
                (t + 30 * DAY + second, 1),  # not in either
            )
        ):
            ticket = await add_ticket(session, f"c{i}", "a-1", {"score": score})
            session.add(
                EventRow(
                    source="generic",
                    event_id=f"csat-c{i}",
                    type="csat.received",
                    occurred_at=at,
                    ticket_id=ticket.id,
                    received_at=at,
                )
            )
    got = (await metrics(sessions)).csat_recovery
    assert (got.before_count, got.before_mean, got.after_count, got.after_mean) == (2, 2.5, 2, 4.5)
    assert (got.change, got.paired_coachings, got.paired_mean_change) == (2.0, 1, 2.0)


def rows(found) -> list[tuple]:
    return [(r.week, r.key, r.count) for r in found]


async def test_trends_week_by_week(history):
    async with history() as session:
        by_agent = await trends(session, "agent")
        by_kb = await trends(session, "kb_article")
        by_policy = await trends(session, "policy")
        by_product = await trends(session, "product_area", since=T0 + 7 * DAY)
        by_criterion = await trends(session, "criterion", slice=MetricsSlice(team="tier1"))
        with pytest.raises(ValueError, match="by: must be one of"):
            await trends(session, "colour")  # type: ignore[arg-type]
    mar2, mar9, apr13 = date(2026, 3, 2), date(2026, 3, 9), date(2026, 4, 13)
    assert rows(by_agent) == [
        (mar2, "a-1", 2),
        (mar2, "a-2", 1),
        (mar9, "a-1", 1),
        (mar9, "a-2", 1),
        (apr13, "a-1", 1),  # A9, drafted on a Sunday, belongs to the week of Monday 13 April
    ]
    assert rows(by_kb) == [(mar2, "kb-101", 1), (mar9, "kb-101", 1), (mar9, "kb-202", 1)]
    assert rows(by_policy) == [(mar2, "refund-policy", 1), (mar9, None, 1)]
    assert rows(by_product) == [(mar9, "api", 1), (mar9, "invoices", 1), (apr13, "invoices", 1)]
    assert rows(by_criterion) == [
        (mar2, "empathy", 1),
        (mar2, "tone", 1),
        (mar9, "empathy", 1),
        (apr13, "empathy", 1),
    ]
