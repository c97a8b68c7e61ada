"""A low CSAT the agent did not cause is explained by the non-agent cause its evidence
supports, or flagged for the lead when nothing in the evidence explains it."""

from __future__ import annotations

from typing import Any

import pytest

from domain.assessment import Draft
from domain.coaching import CriterionChange
from domain.overrides import UNEXPLAINED_LOW_CSAT, overridden
from domain.virtual_coach import refusal
from opportunities.catalog import Catalog
from tests.drafting import draft_event
from tests.factories import make_event

UNEXPLAINED = (
    "Low CSAT (1/5) with no agent failure and no cause in the evidence: "
    "ask the customer or check the ticket"
)


def _messages(reply: str = "", note: str = "", customer: str = "") -> list[dict[str, Any]]:
    """A thread the agent handles well: prompt, kind, with a next step and a confirmed fix."""
    thread = [
        {
            "id": "m1",
            "author": {"id": "c-9", "role": "customer"},
            "created_at": "2026-11-18T08:00:00Z",
            "body": customer
            or "Hello, my export has failed every night since Tuesday and I need the data. "
            "Maria Lopez",
        },
        {
            "id": "m2",
            "author": {"id": "a-17", "role": "agent"},
            "created_at": "2026-11-18T08:30:00Z",
            "body": reply
            or "Hi Maria, I'm sorry the exports keep failing. I've passed this to our engineers "
            "and I'll update you by Friday.\n\nDana",
        },
    ]
    if note:
        thread.append(
            {
                "id": "m3",
                "author": {"id": "a-17", "role": "agent"},
                "public": False,
                "created_at": "2026-11-18T09:00:00Z",
                "body": note,
            }
        )
    return [
        *thread,
        {
            "id": "m4",
            "author": {"id": "a-17", "role": "agent"},
            "created_at": "2026-11-19T15:00:00Z",
            "body": "Hi Maria, the fix is live and last night's export ran. Let me know if "
            "anything else looks off.\n\nDana",
        },
        {
            "id": "m5",
            "author": {"id": "c-9", "role": "customer"},
            "created_at": "2026-11-19T15:30:00Z",
            "body": "It worked, thanks.",
        },
    ]


def _draft(catalog: Catalog, messages: list[dict] | None = None, **overrides: Any) -> Draft:
    fields = {
        "ticket.metrics.first_response_minutes": 30,
        "ticket.tags": ["exports"],
        "ticket.csat.comment": "Three nights without exports.",
        "ticket.messages": messages or _messages(),
        **overrides,
    }
    return draft_event(make_event(**fields), catalog)


def _csat_issues(drafted: Draft) -> list:
    return [i for i in drafted.process_issues if i.summary.startswith("Low CSAT")]


def _assert_not_coached(drafted: Draft) -> None:
    assert drafted.status == "awaiting_review"
    assert not [r for r in drafted.results if r.status == "failed" and r.cause == "agent_behavior"]
    assert "No coaching points on this ticket" in drafted.coaching_note
    assert "Worth working on" not in drafted.coaching_note


def test_the_escalated_bug_with_a_named_incident_is_a_product_issue_not_coaching(catalog):
    reply = (
        "Hi Maria, I'm sorry the exports keep failing. This is incident INC-4821, which our "
        "engineers are fixing now, and I'll update you by Friday.\n\nDana"
    )
    drafted = _draft(
        catalog,
        _messages(reply=reply),
        **{
            "ticket.tags": ["bug", "exports"],
            "ticket.escalations": [{"to": "engineering", "reason": "nightly export fails"}],
        },
    )
    _assert_not_coached(drafted)
    (issue,) = drafted.process_issues
    assert issue.cause == "product" and issue.criterion_id is None
    assert issue.summary.startswith("Low CSAT (1/5) with a product cause: ")
    for evidence in ("tagged bug", "escalated to engineering", '"INC-4821"'):
        assert evidence in issue.summary
    assert "process_issue" in drafted.flags and UNEXPLAINED_LOW_CSAT not in drafted.flags
    assert "Not your doing" in drafted.coaching_note and issue.summary in drafted.qa_summary


INCIDENT_ASKED = "Hello, is the export failure INC-12 on your status page fixed yet? Maria Lopez"


@pytest.mark.parametrize(
    ("overrides", "customer", "cited"),
    [
        ({"ticket.tags": ["incident-77"]}, "", "tagged incident-77"),
        ({"ticket.escalations": [{"to": "payments-engineering"}]}, "", "payments-engineering"),
        ({}, INCIDENT_ASKED, 'message m1 names "INC-12"'),
    ],
)
def test_each_product_signal_alone_explains_the_rating(catalog, overrides, customer, cited):
    drafted = _draft(catalog, _messages(customer=customer), **overrides)
    _assert_not_coached(drafted)
    assert [(i.cause, cited in i.summary) for i in drafted.process_issues] == [("product", True)]


def test_an_ambiguous_policy_is_named_once_as_what_explains_the_rating(catalog):
    drafted = _draft(
        catalog, **{"ticket.policies": [{"id": "refund-v2", "version": "2", "ambiguous": True}]}
    )
    _assert_not_coached(drafted)
    (issue,) = drafted.process_issues
    assert (issue.cause, issue.ref) == ("policy", "refund-v2")
    assert "policy refund-v2 is flagged ambiguous" in issue.summary


def test_an_agent_asking_for_guidance_explains_the_rating_as_policy(catalog):
    note = "Not sure if policy allows a refund here, can a lead confirm?"
    drafted = _draft(catalog, _messages(note=note))
    _assert_not_coached(drafted)
    (issue,) = drafted.process_issues
    assert issue.cause == "policy"
    assert "the agent asked for policy guidance" in issue.summary


def test_a_policy_applied_as_written_explains_the_rating(catalog):
    reply = (
        "Hi Maria, I'm sorry this isn't what you hoped for. Our refund window is 14 days, so "
        "I'm not able to refund this order, but I've moved you to the monthly plan and I'll "
        "check in next week.\n\nDana"
    )
    drafted = _draft(
        catalog,
        _messages(reply=reply),
        **{"ticket.policies": [{"id": "refunds", "version": "3"}]},
    )
    _assert_not_coached(drafted)
    (issue,) = drafted.process_issues
    assert (issue.cause, issue.ref) == ("policy", "refunds")
    assert "declined the request under policy refunds v3 (message m2)" in issue.summary


def test_a_stale_article_leads_the_issue_its_failure_already_filed(catalog):
    reply = (
        "Hi Maria, I'm sorry the exports keep failing. The steps are in "
        "https://help.example.com/kb/9 and I'll update you by Friday.\n\nDana"
    )
    article = {
        "id": "kb-9",
        "url": "https://help.example.com/kb/9",
        "updated_at": "2025-01-02T00:00:00Z",
    }
    drafted = _draft(catalog, _messages(reply=reply), **{"ticket.kb_articles": [article]})
    _assert_not_coached(drafted)
    (issue,) = drafted.process_issues
    assert (issue.cause, issue.criterion_id, issue.ref) == ("documentation", "current_kb", "kb-9")
    assert issue.summary.startswith(
        "Low CSAT (1/5) with a documentation cause: the linked help-centre article kb-9 is out "
        "of date (updated 2025-01-02). Points to a current help-centre article: "
    )


def test_a_queue_backlog_explains_the_rating_as_staffing(catalog):
    drafted = _draft(catalog, **{"ticket.queue_backlog_per_agent": 40})
    _assert_not_coached(drafted)
    (issue,) = drafted.process_issues
    assert issue.cause == "staffing"
    assert "the queue had 40 open tickets per agent, over the rubric's 25" in issue.summary


BACKLOGGED = {"ticket.queue_backlog_per_agent": 40, "ticket.metrics.first_response_minutes": 300}


def test_a_long_first_reply_under_backlog_is_cited_with_the_staffing_cause(catalog):
    drafted = _draft(catalog, **BACKLOGGED)
    (issue,) = drafted.process_issues
    assert (issue.cause, issue.criterion_id) == ("staffing", "first_response_sla")
    assert issue.summary.startswith(
        "Low CSAT (1/5) with a staffing cause: the queue had 40 open tickets per agent, over "
        "the rubric's 25; the first reply took 300 minutes (target 240). First reply within SLA: "
    )


def test_several_causes_each_get_an_issue_in_a_fixed_order(catalog):
    drafted = _draft(catalog, **{"ticket.tags": ["outage"], "ticket.queue_backlog_per_agent": 30})
    assert [i.cause for i in _csat_issues(drafted)] == ["product", "staffing"]


def test_nothing_explaining_the_rating_flags_it_for_the_lead(catalog):
    drafted = _draft(catalog)
    _assert_not_coached(drafted)
    assert drafted.process_issues == []
    assert UNEXPLAINED_LOW_CSAT in drafted.flags and "process_issue" not in drafted.flags
    assert UNEXPLAINED in drafted.summary
    assert drafted.summary.startswith("Scored 12 of 12")
    assert drafted.priority == 2 and not drafted.auto_eligible
    reason = refusal(drafted.model_copy(update={"auto_eligible": True}), True, False)
    assert reason == "nothing in the evidence explains the low CSAT"


def test_an_agent_failure_explains_the_rating_itself(catalog):
    drafted = _draft(
        catalog,
        **{"ticket.tags": ["bug"], "ticket.metrics.first_response_minutes": 312},
    )
    assert any(r.cause == "agent_behavior" for r in drafted.results if r.status == "failed")
    assert _csat_issues(drafted) == [] and UNEXPLAINED_LOW_CSAT not in drafted.flags


@pytest.mark.parametrize(
    ("score", "scale", "low"),
    [(1, 5, True), (2, 5, True), (3, 5, False), (4, 10, True), (5, 10, False), (9, 100, True)],
)
def test_low_is_at_most_two_fifths_of_the_scale(catalog, score, scale, low):
    drafted = _draft(catalog, **{"ticket.csat.score": score, "ticket.csat.scale": scale})
    assert (UNEXPLAINED_LOW_CSAT in drafted.flags) is low
    assert ("Low CSAT" in drafted.summary) is low


def test_no_rating_is_nothing_to_explain(catalog):
    drafted = _draft(catalog, **{"ticket.csat": None, "ticket.tags": ["bug"]})
    assert drafted.process_issues == [] and UNEXPLAINED_LOW_CSAT not in drafted.flags


def test_a_stopped_draft_is_already_with_the_lead_so_it_is_not_flagged_again(catalog):
    drafted = _draft(catalog, **{"ticket.csat.comment": "Great service, thank you so much!"})
    assert drafted.status == "stopped"
    assert UNEXPLAINED_LOW_CSAT not in drafted.flags and "Low CSAT" not in drafted.summary


def test_the_explanation_is_deterministic(catalog):
    overrides = {"ticket.tags": ["bug"], "ticket.queue_backlog_per_agent": 30}
    assert _draft(catalog, **overrides) == _draft(catalog, **overrides)


def test_an_override_keeps_the_flag_until_the_lead_fails_a_criterion(catalog):
    drafted = _draft(catalog)
    rubric = catalog.rubric_for(catalog.opportunities["low-csat"])
    kept = overridden(drafted, [], rubric)
    assert UNEXPLAINED_LOW_CSAT in kept.flags and kept.summary == drafted.summary
    failed = overridden(
        drafted, [CriterionChange(criterion_id="tone", field="score", before=2, after=0)], rubric
    )
    assert UNEXPLAINED_LOW_CSAT not in failed.flags
    assert "Low CSAT" not in failed.summary and "Failed: tone (agent behavior)" in failed.summary


def test_an_override_keeps_the_causes_found_for_the_rating(catalog):
    drafted = _draft(catalog, **{"ticket.tags": ["bug"]})
    rubric = catalog.rubric_for(catalog.opportunities["low-csat"])
    change = CriterionChange(criterion_id="tone", field="score", before=2, after=0)
    decided = overridden(drafted, [change], rubric)
    assert decided.process_issues == drafted.process_issues
    assert [i.cause for i in decided.process_issues] == ["product"]
    assert "process_issue" in decided.flags


def test_an_override_giving_the_failure_back_to_the_agent_withdraws_its_cause(catalog):
    drafted = _draft(catalog, **BACKLOGGED)
    rubric = catalog.rubric_for(catalog.opportunities["low-csat"])
    change = CriterionChange(
        criterion_id="first_response_sla", field="cause", before="staffing", after="agent_behavior"
    )
    decided = overridden(drafted, [change], rubric)
    assert decided.process_issues == [] and "process_issue" not in decided.flags
    assert UNEXPLAINED_LOW_CSAT not in decided.flags
