"""The coaching note and QA summary: sections, separation of causes, per-rubric templates."""

from __future__ import annotations

from opportunities.catalog import load_catalog
from rubrics.notes import render_notes
from tests.drafting import draft_event
from tests.factories import make_event


def _late_under_backlog_without_empathy():
    return make_event(
        **{
            "ticket.queue_backlog_per_agent": 40,
            "ticket.messages": [
                {
                    "id": "m1",
                    "author": {"id": "c-9", "role": "customer"},
                    "body": "My refund never arrived. Maria Lopez, maria@example.org",
                },
                {
                    "id": "m2",
                    "author": {"id": "a-17", "role": "agent", "name": "Dana Ruiz"},
                    "body": "Hi Maria. Refunds take ten days. I'll check it and update you Friday.",
                },
            ],
        }
    )


def test_the_note_coaches_the_agent_and_sets_process_issues_apart():
    drafted = draft_event(_late_under_backlog_without_empathy(), load_catalog())
    note = drafted.coaching_note
    coaching, _, not_yours = note.partition("Not your doing")
    assert "Worth working on" in coaching and "Acknowledges the customer's situation" in coaching
    assert "First reply within SLA" not in coaching
    assert "staffing" in not_yours and "First reply within SLA" in not_yours
    assert "Suggested learning" in note and "Empathy in written replies" in note
    assert "Dana" in note
    for raw in ("Maria", "maria@example.org"):
        assert raw not in note and raw not in drafted.qa_summary


def test_the_qa_summary_lists_criteria_evidence_and_issues():
    summary = draft_event(_late_under_backlog_without_empathy(), load_catalog()).qa_summary
    assert summary.startswith("QA summary: ticket generic/35436 (csat.received)")
    assert "[failed] First reply within SLA 0/2, cause: staffing" in summary
    assert "- thread: present (2 messages: 2 public, 0 internal)" in summary
    assert "Process issues for the lead (not coached)" in summary


def test_a_rubric_template_replaces_the_default():
    catalog = load_catalog()
    opportunity = catalog.opportunities["low-csat"]
    rubric = catalog.rubric_for(opportunity).model_copy(
        update={
            "template_sources": {
                "coaching_note": "{{ trainee_name }}: {{ points | length }} point(s)\n"
            }
        }
    )
    drafted = draft_event(_late_under_backlog_without_empathy(), catalog)
    rendered = render_notes(drafted, rubric, opportunity, "generic/35436", "csat.received")
    assert rendered.coaching_note == "Dana Ruiz: 1 point(s)\n"
    assert rendered.qa_summary.startswith("QA summary:")


def test_a_stopped_draft_s_note_is_the_one_a_lead_s_approval_releases():
    """The trainee sees a note only once a lead has decided, so a stopped draft's note holds
    the coaching the approval releases; with nothing scored it claims no clean pass."""
    catalog = load_catalog()
    opportunity = catalog.opportunities["low-csat"]
    rubric = catalog.rubric_for(opportunity)
    drafted = draft_event(_late_under_backlog_without_empathy(), catalog)
    reason = "sensitive: the customer mentions a lawyer"
    stopped = drafted.model_copy(update={"status": "stopped", "stop_reason": reason})
    note = render_notes(
        stopped, rubric, opportunity, "generic/35436", "csat.received"
    ).coaching_note
    assert note == drafted.coaching_note
    assert "Worth working on\n1. Acknowledges the customer's situation" in note

    unscored = stopped.model_copy(update={"results": [], "process_issues": []})
    note = render_notes(
        unscored, rubric, opportunity, "generic/35436", "csat.received"
    ).coaching_note
    assert f"No coaching points: the automated review could not score this ticket ({reason})" in (
        note
    )
    assert "passed" not in note


def test_a_task_that_names_no_criteria_is_suggested_as_it_is_assigned_always():
    catalog = load_catalog()
    opportunity = catalog.opportunities["low-csat"]
    always = opportunity.learning_tasks[0].model_copy(
        update={"id": "csat-review", "title": "Review your low-CSAT tickets", "if_failed": []}
    )
    opportunity = opportunity.model_copy(update={"learning_tasks": [always]})
    rubric = catalog.rubric_for(opportunity)
    drafted = draft_event(_late_under_backlog_without_empathy(), catalog)
    passed = drafted.model_copy(update={"results": [], "process_issues": []})
    note = render_notes(passed, rubric, opportunity, "generic/35436", "csat.received").coaching_note
    assert "No coaching points on this ticket" in note
    assert "Suggested learning\n- Review your low-CSAT tickets (within " in note
