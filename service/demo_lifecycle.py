"""The demo's SIMULATED people: seed a user directory for the sample, then play the leads and
the trainees through the same workflow updates the CLI sends (`decide`, `complete`, `answer`,
`ack`, `dispute`, `resolve`), and summarise the lifecycle that follows."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from domain.coaching import LeadDecision
from domain.lifecycle import (
    Acknowledge,
    AnswerSurvey,
    CompleteTask,
    Dispute,
    ResolveDispute,
)
from domain.people import TEAM_LEAD, Actor
from opportunities.catalog import Catalog
from store.assessments import list_assessments, results_of
from store.lifecycle import lifecycle_of
from store.models import (
    AssessmentRow,
    CoachingResponseRow,
    LearningTaskRow,
    SkillRow,
    SurveyRow,
)
from store.users import add_user, get_user, resolve_actor
from workflows.coaching import CoachingWorkflow
from workflows.rules import NOT_READY

# Friendly names for the sample's teams and groups; any other gets `lead-<team>`.
TEAM_LEADS = {"tier1": "lee", "tier2": "tara", "new-hires": "nia"}
GROUP_LEADS = {"qa-leads": "quinn"}
ANSWERS = {
    "coach": {"competence": 4, "applied_coaching": 3},
    "trainee": {"usefulness": 4, "fairness": 5},
}
CLOSED = ("closed_complete", "closed_incomplete", "dismissed")


@dataclass
class Seeded:
    added: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    team_leads: dict[str, str] = field(default_factory=dict)
    group_lead: str | None = None


async def seed_users(sessions: async_sessionmaker, catalog: Catalog) -> Seeded:
    """Leads for the teams in the assessments, a lead per reviewer or escalation group, and a
    trainee per agent. A user who already exists is left as they are."""
    async with sessions() as session:
        agents = (
            await session.execute(
                select(AssessmentRow.agent_id, func.min(AssessmentRow.team))
                .where(AssessmentRow.agent_id.is_not(None))
                .group_by(AssessmentRow.agent_id)
                .order_by(AssessmentRow.agent_id)
            )
        ).all()
    teams = sorted({team for _, team in agents if team})
    groups = sorted(
        {o.review.escalate_to for o in catalog.opportunities.values() if o.review.escalate_to}
        | {o.review.by for o in catalog.opportunities.values() if o.review.by != TEAM_LEAD}
    )
    wanted: list[tuple[str, str, list[str], list[str]]] = []
    seeded = Seeded()
    for team in teams:
        name = TEAM_LEADS.get(team, f"lead-{team}")
        seeded.team_leads[team] = name
        wanted.append((name, "lead", [team], []))
    for group in groups:
        name = GROUP_LEADS.get(group, f"lead-{group}")
        seeded.group_lead = seeded.group_lead or name
        wanted.append((name, "lead", [], [group]))
    wanted += [(agent, "trainee", [team] if team else [], []) for agent, team in agents]
    async with sessions() as session, session.begin():
        for name, role, user_teams, user_groups in wanted:
            if await get_user(session, name) is not None:
                seeded.existing.append(name)
                continue
            await add_user(session, name, role, user_teams, user_groups)
            seeded.added.append(name)
    return seeded


def _task_keys(catalog: Catalog, row: AssessmentRow, failed: set[str]) -> list[str]:
    opportunity = catalog.opportunities.get(row.opportunity_id)
    if opportunity is None:
        return []
    return [
        t.id for t in opportunity.learning_tasks if not t.if_failed or failed & set(t.if_failed)
    ]


@dataclass
class Candidate:
    row: AssessmentRow
    failed: set[str]  # failed through the agent's own behaviour
    passed_coachable: list[str]  # passed criteria a learning task covers, for an override


async def _candidates(session: AsyncSession, catalog: Catalog, seeded: Seeded) -> list[Candidate]:
    rows = await list_assessments(session, ["awaiting_review"], limit=1000)
    out = []
    for row in rows:
        if not row.agent_id or row.team not in seeded.team_leads:
            continue
        results = await results_of(session, row.id)
        failed = {
            r.criterion_id
            for r in results
            if r.status == "failed" and r.cause in ("agent_behavior", None)
        }
        opportunity = catalog.opportunities.get(row.opportunity_id)
        tasks = opportunity.learning_tasks if opportunity else []
        covered = {c for t in tasks for c in t.if_failed}
        passed = [r.criterion_id for r in results if r.status == "passed"]
        passed = [c for c in passed if c in covered]
        out.append(Candidate(row, failed, passed))
    return out


def _pick(candidates: list[Candidate], used: set[str], want) -> Candidate | None:
    """The first candidate of a trainee not used yet that `want` accepts, else any unused."""
    fresh = [c for c in candidates if c.row.agent_id not in used]
    chosen = next((c for c in fresh if want(c)), fresh[0] if fresh else None)
    if chosen is not None:
        used.add(chosen.row.agent_id)
    return chosen


@dataclass
class Plan:
    approve: Candidate | None = None
    override: Candidate | None = None
    dismiss: Candidate | None = None
    reassign: Candidate | None = None
    untouched: Candidate | None = None


def plan(candidates: list[Candidate], catalog: Catalog) -> Plan:
    used: set[str] = set()
    return Plan(
        approve=_pick(candidates, used, lambda c: _task_keys(catalog, c.row, c.failed)),
        override=_pick(candidates, used, lambda c: c.passed_coachable),
        dismiss=_pick(candidates, used, lambda c: True),
        reassign=_pick(candidates, used, lambda c: _task_keys(catalog, c.row, c.failed)),
        untouched=_pick(candidates, used, lambda c: True),
    )


class Simulation:
    """Sends each update as a person resolved from the directory, and prints what happened."""

    def __init__(self, client: Client, sessions: async_sessionmaker):
        self.client, self.sessions = client, sessions

    def say(self, text: str) -> None:
        print(f"  SIMULATED  {text}")

    async def actor(self, name: str) -> Actor:
        async with self.sessions() as session:
            return await resolve_actor(session, name)

    async def update(self, row: AssessmentRow, update: Any, arg: Any) -> Any:
        handle = self.client.get_workflow_handle(row.workflow_id)
        for _ in range(50):
            try:
                return await handle.execute_update(update, arg)
            except WorkflowUpdateFailedError as exc:
                cause = exc.cause
                if isinstance(cause, ApplicationError) and cause.type == NOT_READY:
                    await asyncio.sleep(0.1)
                    continue
                raise
        raise RuntimeError(f"assessment {row.id} stayed in drafting")

    async def decide(self, row: AssessmentRow, by: str, action: str, **fields) -> Any:
        lead = await self.actor(by)
        if "to" in fields:
            fields["to"] = await self.actor(fields["to"])
        return await self.update(
            row, CoachingWorkflow.decide, LeadDecision(action=action, by=lead, **fields)
        )

    async def coach(self, row: AssessmentRow, coach: str, dispute_to: str | None = None) -> None:
        """The trainee completes every task and answers their survey, the coach answers
        theirs; then the trainee acknowledges, or disputes and `dispute_to` upholds."""
        trainee = await self.actor(row.agent_id)
        async with self.sessions() as session:
            life = await lifecycle_of(session, row.id)
        for task in life.tasks:
            done = await self.update(
                row, CoachingWorkflow.complete_task, CompleteTask(by=trainee, task_id=task.id)
            )
            skill = f"; skill {done.skill} awarded" if done.skill_awarded else ""
            self.say(f"{trainee.id} completes task {task.id} ({task.task_key}){skill}")
        for survey in life.surveys:
            by = trainee if survey.respondent_id == trainee.id else await self.actor(coach)
            await self.update(
                row,
                CoachingWorkflow.answer_survey,
                AnswerSurvey(by=by, survey_id=survey.id, answers=ANSWERS[survey.audience]),
            )
            self.say(f"{by.id} answers survey {survey.id} ({survey.template_id})")
        if dispute_to is None:
            await self.update(row, CoachingWorkflow.acknowledge, Acknowledge(by=trainee))
            self.say(f"{trainee.id} acknowledges the coaching on assessment {row.id}")
            return
        reason = "the customer's complaint was about the refund policy, not my reply"
        await self.update(row, CoachingWorkflow.dispute, Dispute(by=trainee, reason=reason))
        self.say(f'{trainee.id} disputes assessment {row.id}: "{reason}"')
        resolver = await self.actor(dispute_to)
        await self.update(
            row,
            CoachingWorkflow.resolve_dispute,
            ResolveDispute(by=resolver, resolution="upheld", note=None),
        )
        self.say(f"{resolver.id} (a second lead) upholds the coaching on assessment {row.id}")

    async def until_closed(self, ids: list[int], seconds: float = 10) -> None:
        """The workflow closes the assessment just after the last update; wait for it."""
        deadline = time.monotonic() + seconds
        while ids and time.monotonic() < deadline:
            async with self.sessions() as session:
                statuses = (
                    await session.execute(
                        select(AssessmentRow.status).where(AssessmentRow.id.in_(ids))
                    )
                ).scalars()
                if all(s in CLOSED for s in statuses):
                    return
            await asyncio.sleep(0.05)


def _value(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


@dataclass
class Outcome:
    seeded: Seeded
    plan: Plan
    trainee_next: str | None = None
    trainee_assessment: int | None = None


async def simulate(client: Client, sessions: async_sessionmaker, catalog: Catalog) -> Outcome:
    seeded = await seed_users(sessions, catalog)
    print(
        f"\nSIMULATED user directory: {len(seeded.added)} users added, "
        f"{len(seeded.existing)} already there (team leads "
        + ", ".join(f"{n} for {t}" for t, n in seeded.team_leads.items())
        + (f"; {seeded.group_lead} in the escalation group" if seeded.group_lead else "")
        + "; a trainee per agent)"
    )
    async with sessions() as session:
        chosen = plan(await _candidates(session, catalog, seeded), catalog)
    outcome = Outcome(seeded, chosen)
    sim = Simulation(client, sessions)
    second = seeded.group_lead
    print("\nSIMULATED lead decisions and trainee actions (the workflow updates the CLI sends):")
    closing: list[int] = []
    if chosen.approve:
        row = chosen.approve.row
        lead = seeded.team_leads[row.team]
        result = await sim.decide(row, lead, "approve")
        sim.say(f"{lead} approves assessment {row.id} ({row.agent_id}) -> {result.status}")
        await sim.coach(row, lead)
        closing.append(row.id)
    if chosen.override:
        row, c = chosen.override.row, chosen.override
        lead = seeded.team_leads[row.team]
        if c.passed_coachable:
            criterion = c.passed_coachable[0]
            reason = f"{criterion}: the wording is there, the substance is not"
            fields = {"scores": {criterion: 0}, "reason": reason}
        else:
            fields = {"note": "Let's go through this one together.", "reason": "a clearer note"}
        result = await sim.decide(row, lead, "override", **fields)
        changed = ", ".join(
            f"{x.criterion_id} {_value(x.before)} -> {_value(x.after)}" for x in result.changes
        )
        sim.say(
            f"{lead} overrides assessment {row.id} ({row.agent_id}): {changed or 'the note'}, "
            f"reason {fields['reason']!r} -> {result.status}"
        )
        if second and second != lead:
            await sim.coach(row, lead, dispute_to=second)
            closing.append(row.id)
    if chosen.dismiss:
        row = chosen.dismiss.row
        lead = seeded.team_leads[row.team]
        reason = "the low rating was about pricing, not the conversation"
        result = await sim.decide(row, lead, "dismiss", reason=reason)
        sim.say(f"{lead} dismisses assessment {row.id} (reason: {reason}) -> {result.status}")
    if chosen.reassign and second:
        row = chosen.reassign.row
        lead = seeded.team_leads[row.team]
        if second != lead:
            await sim.decide(row, lead, "reassign", to=second)
            sim.say(f"{lead} reassigns assessment {row.id} to {second}")
            result = await sim.decide(row, second, "approve")
            sim.say(
                f"{second} approves assessment {row.id} ({row.agent_id}) -> {result.status}; "
                "its tasks are left open for you"
            )
            outcome.trainee_next, outcome.trainee_assessment = row.agent_id, row.id
    await sim.until_closed(closing)
    return outcome


@dataclass
class Summary:
    statuses: dict[str, int]
    tasks: dict[str, int]
    skills: list[tuple[str, str]]
    surveys: dict[str, int]
    disputes: dict[str, int]


async def summarize(sessions: async_sessionmaker) -> Summary:
    async def grouped(session: AsyncSession, column) -> dict[str, int]:
        rows = await session.execute(select(column, func.count()).group_by(column))
        return {str(k): n for k, n in rows.all()}

    async with sessions() as session:
        disputes = (
            await session.execute(
                select(CoachingResponseRow.resolution, func.count())
                .where(CoachingResponseRow.kind == "disputed")
                .group_by(CoachingResponseRow.resolution)
            )
        ).all()
        skills = (
            await session.execute(select(SkillRow.trainee_id, SkillRow.skill).order_by(SkillRow.id))
        ).all()
        return Summary(
            statuses=await grouped(session, AssessmentRow.status),
            tasks=await grouped(session, LearningTaskRow.status),
            skills=[(t, s) for t, s in skills],
            surveys=await grouped(session, SurveyRow.status),
            disputes={str(k or "open"): n for k, n in disputes},
        )
