"""What every fault scenario ends with: every accepted event has exactly one assessment per
opportunity it matched, every acknowledged decision is applied exactly once, and nothing in the
store is half-written. Each check is an assertion; a failure names workflow ids and counts,
never ticket content."""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client
from temporalio.service import RPCError

from domain.coaching import CoachingState
from domain.events import TicketEvent
from opportunities.catalog import Catalog
from opportunities.matcher import match_event
from service.updates import workflow_not_ready
from store.models import (
    AssessmentRow,
    AuditRow,
    CoachingResponseRow,
    CriterionResultRow,
    DecisionRow,
    EventRow,
    LearningTaskRow,
    MeasurementEventRow,
    MessageRow,
    SkillRow,
    SurveyRow,
    TicketRow,
    WorkflowStartRow,
)
from workflows.coaching import CoachingWorkflow

UNDECIDED = ("awaiting_review", "stopped")
COACHED = ("coaching", "closed_complete", "closed_incomplete")
ONCE_PER_ASSESSMENT = ("assessment_drafted", "assessment_stopped", "coaching_started")
QUERY_CONCURRENCY = 20
READY_WITHIN = 60


@dataclass(frozen=True)
class ExpectedAssessment:
    opportunity_id: str
    source: str
    ticket_id: str
    event_ids: frozenset[str]


def expected_assessments(
    events: Iterable[TicketEvent], catalog: Catalog
) -> dict[str, ExpectedAssessment]:
    """Workflow id → the match it drafts, for every opportunity each event matches. Tests give
    each ticket fresh ids, so every match is the first of its dedupe key and the key is the
    workflow id; later events of a ticket inside the window fold into it."""
    found: dict[str, tuple[str, str, str, set[str]]] = {}
    for event in events:
        for match in match_event(event, catalog):
            if match.matched:
                entry = found.setdefault(
                    match.dedupe_key, (match.opportunity_id, event.source, event.ticket.id, set())
                )
                entry[3].add(event.event_id)
    return {
        workflow_id: ExpectedAssessment(opportunity, source, ticket, frozenset(event_ids))
        for workflow_id, (opportunity, source, ticket, event_ids) in found.items()
    }


async def _rows(sessions: async_sessionmaker, model) -> list:
    async with sessions() as session:
        return list((await session.execute(select(model))).scalars())


async def _coaching_started(sessions: async_sessionmaker) -> set[int]:
    async with sessions() as session:
        query = select(MeasurementEventRow.assessment_id).where(
            MeasurementEventRow.kind == "coaching_started"
        )
        return set((await session.execute(query)).scalars())


async def until_settled(
    sessions: async_sessionmaker,
    catalog: Catalog,
    events: Iterable[TicketEvent],
    decisions: Mapping[int, str],
    seconds: float = 120,
) -> None:
    """Until every expected assessment is drafted and every approved or overridden one has
    started coaching (the workflow does that after the decision's update has returned)."""
    expected = set(expected_assessments(events, catalog))
    coached = {a for a, action in decisions.items() if action in ("approve", "override")}
    async with asyncio.timeout(seconds):
        while True:
            async with sessions() as session:
                drafted = set((await session.execute(select(AssessmentRow.workflow_id))).scalars())
            if expected <= drafted and coached <= await _coaching_started(sessions):
                return
            await asyncio.sleep(0.1)


async def assert_invariants(
    sessions: async_sessionmaker,
    catalog: Catalog,
    events: Iterable[TicketEvent],
    decisions: Mapping[int, str],
    *,
    maybe_decided: Iterable[int] = (),
    client: Client | None = None,
) -> None:
    """`events`: every event the API accepted (202), each once. `decisions`: assessment id →
    the action of each decision the API acknowledged (200). `maybe_decided`: assessments a
    decision was sent to without an answer either way; each holds at most one. With `client`,
    each workflow's own state is compared with its row too."""
    events = list(events)
    expected = expected_assessments(events, catalog)
    assessments = await _rows(sessions, AssessmentRow)
    by_id = {a.id: a for a in assessments}
    await _assert_events(sessions, events)
    _assert_one_assessment_per_match(assessments, expected)
    await _assert_starts(sessions, expected)
    await _assert_drafts_whole(sessions, catalog, assessments)
    decided = await _assert_decisions(sessions, by_id, decisions, set(maybe_decided))
    await _assert_coaching_only_after_a_decision(sessions, by_id, decided)
    await _assert_measurements(sessions, by_id)
    await _assert_no_orphans(sessions, by_id)
    if client is not None:
        await _assert_workflows_agree(client, assessments, decided)


async def _assert_events(sessions: async_sessionmaker, events: list[TicketEvent]) -> None:
    stored = await _rows(sessions, EventRow)
    keys = Counter((e.source, e.event_id) for e in stored)
    accepted = {(e.source, e.event_id) for e in events}
    assert set(keys) == accepted, (
        f"stored events differ from the accepted ones: missing {sorted(accepted - set(keys))[:5]}, "
        f"unexpected {sorted(set(keys) - accepted)[:5]}"
    )
    assert max(keys.values(), default=1) == 1, "an event is stored more than once"
    tickets = {t.id: t for t in await _rows(sessions, TicketRow)}
    newest: dict[int, datetime] = {}
    for event in stored:
        seen = newest.get(event.ticket_id, event.occurred_at)
        newest[event.ticket_id] = max(event.occurred_at, seen)
    assert set(newest) == set(tickets), "a ticket without events, or an event without its ticket"
    stale = [t.external_id for t in tickets.values() if t.last_event_at != newest[t.id]]
    assert not stale, f"tickets whose snapshot is not their newest event's: {stale[:5]}"


def _assert_one_assessment_per_match(
    assessments: list[AssessmentRow], expected: Mapping[str, ExpectedAssessment]
) -> None:
    counts = Counter(a.workflow_id for a in assessments)
    assert max(counts.values(), default=1) == 1, "a workflow wrote two assessments"
    missing = sorted(set(expected) - set(counts))
    extra = sorted(set(counts) - set(expected))
    assert not missing, f"{len(missing)} matches have no assessment, e.g. {missing[:3]}"
    assert not extra, f"{len(extra)} assessments match nothing accepted, e.g. {extra[:3]}"
    per_ticket = Counter((a.opportunity_id, a.source, a.ticket_external_id) for a in assessments)
    wanted = Counter((e.opportunity_id, e.source, e.ticket_id) for e in expected.values())
    assert per_ticket == wanted, "a ticket has more assessments of one opportunity than matches"
    for row in assessments:
        match = expected[row.workflow_id]
        assert (row.opportunity_id, row.source, row.ticket_external_id) == (
            match.opportunity_id,
            match.source,
            match.ticket_id,
        ), f"{row.workflow_id}: the assessment is of another match"
        assert row.event_id in match.event_ids, f"{row.workflow_id}: drafted from a foreign event"


async def _assert_starts(
    sessions: async_sessionmaker, expected: Mapping[str, ExpectedAssessment]
) -> None:
    starts = await _rows(sessions, WorkflowStartRow)
    started = {s.workflow_id for s in starts}
    assert started == set(expected), "the record of starts and the matches differ"
    keys = Counter(s.dedupe_key for s in starts)
    assert max(keys.values(), default=1) == 1, "a dedupe key started twice"
    assert all(s.generation == 1 for s in starts), "a duplicate delivery opened a new generation"


async def _assert_drafts_whole(
    sessions: async_sessionmaker, catalog: Catalog, assessments: list[AssessmentRow]
) -> None:
    """Each draft is all there: a result per rubric criterion in order (none only for a draft
    stopped before scoring), one drafted-or-stopped event of the right kind and one event per
    process issue."""
    results: dict[int, list[CriterionResultRow]] = defaultdict(list)
    for result in await _rows(sessions, CriterionResultRow):
        results[result.assessment_id].append(result)
    events = {(e.kind, e.dedupe_key): e for e in await _rows(sessions, MeasurementEventRow)}
    for row in assessments:
        rubric = catalog.approved_rubric(f"{row.rubric_id}@{row.rubric_version}")
        criteria = [c.id for c in rubric.criteria]
        mine = sorted(results[row.id], key=lambda r: r.position)
        assert [r.position for r in mine] == list(range(len(mine))), (
            f"{row.workflow_id}: criterion results out of place"
        )
        if mine or row.stop_reason is None:
            assert [r.criterion_id for r in mine] == criteria, (
                f"{row.workflow_id}: {len(mine)} of {len(criteria)} criterion results"
            )
        kind = "assessment_stopped" if row.stop_reason is not None else "assessment_drafted"
        drafted = events.get((kind, f"{kind}:{row.workflow_id}"))
        assert drafted is not None and drafted.assessment_id == row.id, (
            f"{row.workflow_id}: no {kind} measurement event"
        )
        for i in range(len(row.process_issues)):
            key = ("process_issue", f"process_issue:{row.workflow_id}:{i}")
            assert key in events, f"{row.workflow_id}: process issue {i} not measured"


async def _assert_decisions(
    sessions: async_sessionmaker,
    by_id: Mapping[int, AssessmentRow],
    acknowledged: Mapping[int, str],
    maybe: set[int],
) -> dict[int, DecisionRow]:
    """One decision row, one audit entry and one measurement event per decision; the
    assessment's status and decision time follow from it. Returns the decisions by assessment."""
    rows = await _rows(sessions, DecisionRow)
    per_assessment = Counter(d.assessment_id for d in rows)
    twice = [by_id[a].workflow_id for a, n in per_assessment.items() if n > 1 and a in by_id]
    assert not twice, f"decided more than once: {twice[:3]}"
    decided = {d.assessment_id: d for d in rows}
    missing = sorted(set(acknowledged) - set(decided))
    assert not missing, f"{len(missing)} acknowledged decisions were not applied: {missing[:5]}"
    unasked = sorted(set(decided) - set(acknowledged) - maybe)
    assert not unasked, f"decisions nobody acknowledged or sent: {unasked[:5]}"
    for assessment_id, action in acknowledged.items():
        assert decided[assessment_id].action == action, f"assessment {assessment_id}: wrong action"
    audits = Counter(
        (a.action, a.target, a.details.get("request_id"))
        for a in await _rows(sessions, AuditRow)
        if a.action.startswith("decision.")
    )
    measured = Counter(
        (e.kind, e.dedupe_key, e.assessment_id)
        for e in await _rows(sessions, MeasurementEventRow)
        if e.kind.startswith("decision_")
    )
    assert sum(audits.values()) == sum(measured.values()) == len(rows), (
        f"{len(rows)} decisions, {sum(audits.values())} audit entries, "
        f"{sum(measured.values())} decision events"
    )
    for decision in rows:
        audit_key = (
            f"decision.{decision.action}",
            f"assessment:{decision.assessment_id}",
            decision.request_id,
        )
        assert audits[audit_key] == 1, f"decision {decision.request_id}: not audited once"
        kind = f"decision_{decision.action}"
        event_key = (kind, f"{kind}:{decision.request_id}", decision.assessment_id)
        assert measured[event_key] == 1, f"decision {decision.request_id}: not measured once"
    for row in by_id.values():
        decision = decided.get(row.id)
        if decision is None:
            assert row.status in UNDECIDED and row.decided_at is None, (
                f"{row.workflow_id}: {row.status} without a decision"
            )
        elif decision.action == "dismiss":
            assert row.status == "dismissed", f"{row.workflow_id}: dismissed but {row.status}"
        else:
            assert row.status in COACHED, f"{row.workflow_id}: {decision.action}d but {row.status}"
        if decision is not None:
            assert row.decided_at == decision.decided_at, f"{row.workflow_id}: decided_at differs"
    return decided


async def _assert_coaching_only_after_a_decision(
    sessions: async_sessionmaker,
    by_id: Mapping[int, AssessmentRow],
    decided: Mapping[int, DecisionRow],
) -> None:
    """Coaching starts once per approved or overridden assessment, never for any other, and
    assigns exactly the tasks and surveys it reports."""
    coached = {a for a, d in decided.items() if d.action in ("approve", "override")}
    started = [
        e for e in await _rows(sessions, MeasurementEventRow) if e.kind == "coaching_started"
    ]
    assert Counter(e.assessment_id for e in started) == Counter(coached), (
        "coaching started for an undecided assessment, twice, or not at all"
    )
    tasks: dict[int, list[str]] = defaultdict(list)
    for task in await _rows(sessions, LearningTaskRow):
        tasks[task.assessment_id].append(task.task_key)
    surveys: dict[int, list[str]] = defaultdict(list)
    for survey in await _rows(sessions, SurveyRow):
        surveys[survey.assessment_id].append(survey.audience)
    assert set(tasks) <= coached and set(surveys) <= coached, (
        "learning tasks or surveys for an assessment no lead approved"
    )
    for event in started:
        name = by_id[event.assessment_id].workflow_id
        assert sorted(tasks[event.assessment_id]) == sorted(event.data["tasks"]), (
            f"{name}: the tasks assigned differ from the coaching record"
        )
        assert sorted(surveys[event.assessment_id]) == sorted(event.data["surveys"]), (
            f"{name}: the surveys sent differ from the coaching record"
        )


async def _assert_measurements(
    sessions: async_sessionmaker, by_id: Mapping[int, AssessmentRow]
) -> None:
    events = await _rows(sessions, MeasurementEventRow)
    assert all(e.dedupe_key.startswith(f"{e.kind}:") for e in events), "a malformed dedupe key"
    once = Counter((e.assessment_id, e.kind) for e in events if e.kind in ONCE_PER_ASSESSMENT)
    assert max(once.values(), default=1) == 1, "a once-per-assessment event counted twice"
    for event in events:
        if event.assessment_id is None:
            continue
        row = by_id.get(event.assessment_id)
        assert row is not None, f"a {event.kind} event of a missing assessment"
        assert event.workflow_id == row.workflow_id, f"{row.workflow_id}: {event.kind} misfiled"
    tasks = await _rows(sessions, LearningTaskRow)
    surveys = await _rows(sessions, SurveyRow)
    keys = {e.dedupe_key for e in events}
    assert all(f"task_assigned:task:{t.id}" in keys for t in tasks), "a task not measured"
    assert all(f"survey_sent:survey:{s.id}" in keys for s in surveys), "a survey not measured"


async def _orphans(sessions: async_sessionmaker, child, column, parent) -> int:
    async with sessions() as session:
        query = (
            select(func.count())
            .select_from(child)
            .outerjoin(parent, column == parent.id)
            .where(parent.id.is_(None))
        )
        return (await session.execute(query)).scalar_one()


async def _assert_no_orphans(
    sessions: async_sessionmaker, by_id: Mapping[int, AssessmentRow]
) -> None:
    links = [
        (CriterionResultRow, CriterionResultRow.assessment_id, AssessmentRow),
        (DecisionRow, DecisionRow.assessment_id, AssessmentRow),
        (LearningTaskRow, LearningTaskRow.assessment_id, AssessmentRow),
        (SurveyRow, SurveyRow.assessment_id, AssessmentRow),
        (SkillRow, SkillRow.assessment_id, AssessmentRow),
        (CoachingResponseRow, CoachingResponseRow.assessment_id, AssessmentRow),
        (AssessmentRow, AssessmentRow.ticket_id, TicketRow),
        (EventRow, EventRow.ticket_id, TicketRow),
        (MessageRow, MessageRow.ticket_id, TicketRow),
    ]
    for child, column, parent in links:
        orphans = await _orphans(sessions, child, column, parent)
        assert orphans == 0, f"{orphans} {child.__tablename__} without their {parent.__tablename__}"
    tickets = {t.id: t for t in await _rows(sessions, TicketRow)}
    for row in by_id.values():
        ticket = tickets[row.ticket_id]
        assert (ticket.source, ticket.external_id) == (row.source, row.ticket_external_id), (
            f"{row.workflow_id}: linked to another ticket"
        )


async def _state_when_ready(client: Client, workflow_id: str) -> CoachingState:
    """The workflow's state. A worker killed while holding its workflow task leaves the task to
    be retried, and the server refuses queries until a worker completes it; a workflow still
    refusing after READY_WITHIN seconds fails the check with the server's error."""
    handle = client.get_workflow_handle(workflow_id)
    deadline = asyncio.get_running_loop().time() + READY_WITHIN
    while True:
        try:
            return await handle.query(CoachingWorkflow.state)
        except RPCError as exc:
            if not workflow_not_ready(exc) or asyncio.get_running_loop().time() > deadline:
                raise
        await asyncio.sleep(0.2)


async def _assert_workflows_agree(
    client: Client, assessments: list[AssessmentRow], decided: Mapping[int, DecisionRow]
) -> None:
    """Temporal and the store tell the same story: each workflow's state names its row, the
    row's status and the decision applied."""
    gate = asyncio.Semaphore(QUERY_CONCURRENCY)

    async def check(row: AssessmentRow) -> None:
        async with gate:
            state = await _state_when_ready(client, row.workflow_id)
        decision = decided.get(row.id)
        assert state.assessment_id == row.id, f"{row.workflow_id}: another assessment id"
        assert state.status == row.status, (
            f"{row.workflow_id}: the workflow is {state.status}, the store says {row.status}"
        )
        assert (state.decision.action if state.decision else None) == (
            decision.action if decision else None
        ), f"{row.workflow_id}: the workflow and the store disagree on the decision"

    await asyncio.gather(*(check(row) for row in assessments))
