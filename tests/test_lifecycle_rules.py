"""The lifecycle's pure rules: who may decide, what gets assigned, what the virtual coach takes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.assessment import CriterionResult, Draft, ProcessIssue, Trainee
from domain.coaching import CriterionChange
from domain.definitions import Opportunity, ReviewSpec, Rubric
from domain.overrides import overridden, totals
from domain.people import Actor, reviewer_problem
from domain.plans import coachable_failures, survey_plans, task_plans
from domain.virtual_coach import HIGH_CONFIDENCE, refusal
from opportunities.catalog import load_catalog
from tests.people import ADMIN, LEAD, OUTSIDE_LEAD, QA_LEAD, TRAINEE

T0 = datetime(2026, 11, 1, 9, tzinfo=UTC)
TEAM_REVIEW = ReviewSpec(by="team-lead", escalate_to="qa-leads")


def _result(criterion_id: str, status: str, cause: str | None = "agent_behavior", **kw):
    return CriterionResult(
        criterion_id=criterion_id,
        name=criterion_id,
        status=status,
        score=1.0 if status == "passed" else 0.0,
        max_score=1.0,
        weight=1.0,
        cause=cause if status == "failed" else None,
        **kw,
    )


def _draft(**kw) -> Draft:
    base = {
        "status": "awaiting_review",
        "trainee": Trainee(id="a-17", team="tier1"),
        "results": [_result("empathy", "passed"), _result("tone", "passed")],
        "confidence": 0.95,
        "auto_eligible": True,
    }
    return Draft(**(base | kw))


@pytest.mark.parametrize(
    ("actor", "escalated", "assignee", "problem"),
    [
        (LEAD, False, None, None),
        (TRAINEE, False, None, "only a lead can decide"),
        (ADMIN, False, None, "only a lead can decide"),
        (OUTSIDE_LEAD, False, None, "does not lead team tier1"),
        (QA_LEAD, False, None, "does not lead team tier1"),
        (QA_LEAD, True, None, None),
        (Actor(id="a-17", role="lead", teams=["tier1"]), False, None, "their own assessment"),
        (LEAD, False, "olga", "reassigned to olga"),
        (OUTSIDE_LEAD, False, "olga", None),
        (QA_LEAD, True, "olga", None),
    ],
)
def test_who_may_decide(actor, escalated, assignee, problem):
    found = reviewer_problem(actor, TEAM_REVIEW, "tier1", "a-17", escalated, assignee)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


def test_a_named_reviewer_group_and_an_unknown_team():
    group_review = ReviewSpec(by="billing-qa")
    member = Actor(id="bo", role="lead", groups=["billing-qa"])
    assert reviewer_problem(member, group_review, "tier1", "a-17", False, None) is None
    assert "reviewer group billing-qa" in reviewer_problem(
        LEAD, group_review, "tier1", "a-17", False, None
    )
    assert reviewer_problem(OUTSIDE_LEAD, TEAM_REVIEW, None, "a-17", False, None) is None


def test_only_the_agents_own_failures_assign_tasks_after_the_leads_changes():
    draft = _draft(
        results=[
            _result("empathy", "failed"),
            _result("tone", "passed"),
            _result("current_kb", "failed", cause="documentation"),
        ]
    )
    assert coachable_failures(draft, []) == {"empathy"}
    changes = [
        CriterionChange(criterion_id="empathy", field="score", before=0.0, after=1.0),
        CriterionChange(criterion_id="tone", field="score", before=1.0, after=0.0),
        CriterionChange(
            criterion_id="current_kb", field="cause", before="documentation", after="agent_behavior"
        ),
    ]
    assert coachable_failures(draft, changes) == {"tone", "current_kb"}


def _rubric(pass_score: float) -> Rubric:
    return load_catalog().rubrics["support-core@2"].model_copy(update={"pass_score": pass_score})


def test_an_override_counts_the_totals_again_and_its_process_issues_follow_the_causes():
    standing = ProcessIssue(cause="staffing", summary="queue backlog 40 per agent")
    kb_issue = ProcessIssue(
        cause="documentation", criterion_id="current_kb", summary="kb: stale", ref="kb-12"
    )
    draft = _draft(
        results=[
            _result("empathy", "passed"),
            _result("tone", "passed", critical=True),
            _result(
                "current_kb",
                "failed",
                cause="documentation",
                explanation="kb-12 is 200 days old (not the agent's doing: the article is stale)",
            ),
            _result("handoff", "not_applicable"),
        ],
        process_issues=[kb_issue, standing],
        score=2.0,
        max_score=3.0,
        passed=False,
    )
    changes = [
        CriterionChange(criterion_id="empathy", field="score", before=1.0, after=0.0),
        CriterionChange(criterion_id="empathy", field="cause", before=None, after="policy"),
        CriterionChange(criterion_id="current_kb", field="score", before=0.0, after=1.0),
    ]
    after = overridden(draft, changes, _rubric(0.6))
    empathy, tone, kb, handoff = after.results
    lead_s = "scored 0 of 1 by the lead (not the agent's doing: put down to policy by the lead)"
    assert (empathy.status, empathy.cause, empathy.explanation) == ("failed", "policy", lead_s)
    assert (kb.status, kb.score, kb.evidence) == ("passed", 1.0, [])
    assert (tone, handoff) == tuple(draft.results[1:2] + draft.results[3:])
    assert (after.score, after.max_score, after.passed) == (2.0, 3.0, True)
    assert after.summary == "Scored 2 of 3 against support-core@2. Failed: empathy (policy)."
    assert after.process_issues == [
        ProcessIssue(cause="policy", criterion_id="empathy", summary=f"empathy: {lead_s}"),
        standing,
    ]

    assert after.flags == ["process_issue"]

    critical = [CriterionChange(criterion_id="tone", field="score", before=1.0, after=0.0)]
    failed_tone = overridden(draft, critical, _rubric(0.1))
    assert failed_tone.results[1].cause == "agent_behavior"
    assert (failed_tone.score, failed_tone.passed) == (1.0, False)
    assert failed_tone.flags == ["critical_failed", "process_issue"]

    back_to_the_agent = [
        CriterionChange(
            criterion_id="current_kb", field="cause", before="documentation", after="agent_behavior"
        )
    ]
    kb = overridden(draft, back_to_the_agent, _rubric(0.6)).results[2]
    assert (kb.cause, kb.explanation) == ("agent_behavior", "kb-12 is 200 days old")
    assert totals([], 0.5) == (0, 0, False)


def test_tasks_follow_their_criteria_and_carry_due_and_closing_dates(catalog):
    opportunity = Opportunity.model_validate(
        {
            "id": "o",
            "name": "O",
            "version": 1,
            "on": ["csat.received"],
            "rubric": "support-core",
            "learning_tasks": [
                {"id": "always", "title": "Always", "due": "3d", "closes_after": "2d"},
                {"id": "empathy", "title": "E", "skill": "empathy", "if_failed": ["empathy"]},
                {"id": "tone", "title": "T", "if_failed": ["tone"]},
            ],
            "surveys": {"coach": "coach-rates-trainee", "trainee": "trainee-rates-coaching"},
        }
    )
    plans = task_plans(opportunity, {"empathy"}, T0)
    assert [p.key for p in plans] == ["always", "empathy"]
    assert plans[0].due_at == T0 + timedelta(days=3)
    assert plans[0].closes_at == T0 + timedelta(days=5)
    assert plans[1].closes_at == T0 + timedelta(days=21)
    templates = catalog.surveys_for(opportunity)
    surveys = survey_plans(opportunity, templates, None, "a-17", T0)
    assert [(s.audience, s.respondent_id) for s in surveys] == [("trainee", "a-17")]
    both = survey_plans(opportunity, templates, "lee", "a-17", T0)
    assert [(s.audience, s.respondent_id) for s in both] == [("coach", "lee"), ("trainee", "a-17")]
    assert both[0].expires_at == T0 + timedelta(days=7)


@pytest.mark.parametrize(
    ("change", "virtual", "manual", "reason"),
    [
        ({}, True, False, None),
        ({}, False, False, "no virtual coach"),
        ({}, True, True, "manual assessment"),
        ({"status": "stopped", "stop_reason": "evidence stale"}, True, False, "stop rule"),
        ({"trainee": None}, True, False, "trainee is unknown"),
        ({"flags": ["customer_risk"]}, True, False, "customer is at risk"),
        ({"flags": ["policy_exception"]}, True, False, "policy exception"),
        ({"flags": ["pii_exposed"]}, True, False, "customer data"),
        ({"confidence": HIGH_CONFIDENCE - 0.01}, True, False, "below"),
        ({"auto_eligible": False}, True, False, "not eligible"),
        (
            {"results": [_result("tone", "failed", critical=True)]},
            True,
            False,
            "critical criterion failed",
        ),
    ],
)
def test_the_virtual_coach_takes_only_low_stakes_cases(change, virtual, manual, reason):
    found = refusal(_draft(**change), virtual, manual)
    if reason is None:
        assert found is None
    else:
        assert found is not None and reason in found
