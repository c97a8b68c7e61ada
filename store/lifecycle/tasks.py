"""Learning tasks and the skills their completion awards."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.lifecycle.common import (
    LifecycleError,
    TaskPlan,
    TaskStatus,
    _assessment,
    _aware,
    _check_trainee,
    _existing,
    _insert_or_read,
    _rows,
)
from store.measurements import append_measurement, append_measurements, measurement
from store.models import (
    AssessmentRow,
    LearningTaskRow,
    SkillRow,
)
from store.upsert import insert_ignore


async def assign_tasks(
    session: AsyncSession,
    assessment_id: int,
    trainee_id: str,
    tasks: list[TaskPlan],
    assigned_at: datetime,
) -> list[LearningTaskRow]:
    """Assign the opportunity's tasks once. Re-assigning returns the rows already there."""
    assessment = await _assessment(session, assessment_id)
    rows, events = await assign_tasks_of(session, assessment, trainee_id, tasks, assigned_at)
    await append_measurements(session, events)
    return rows


async def assign_tasks_of(
    session: AsyncSession,
    assessment: AssessmentRow,
    trainee_id: str,
    tasks: list[TaskPlan],
    assigned_at: datetime,
) -> tuple[list[LearningTaskRow], list[dict[str, Any]]]:
    """`assign_tasks` for a loaded assessment, in one statement (two on a retry); the measurement
    events of the assignment are returned for the caller to append with its own."""
    _aware(assigned_at)
    _check_trainee(assessment, trainee_id)
    keys = [t.key for t in tasks]
    if len(set(keys)) != len(keys):
        raise LifecycleError(f"assessment {assessment.id}: task keys repeat")
    for plan in tasks:
        if plan.due_at < assigned_at:
            raise LifecycleError(f"task {plan.key!r} is due before it is assigned")
        if plan.closes_at is not None and plan.closes_at < plan.due_at:
            raise LifecycleError(f"task {plan.key!r} closes before it is due")
    existing, read = await _insert_or_read(
        session,
        LearningTaskRow,
        assessment.id,
        [
            {
                "assessment_id": assessment.id,
                "task_key": plan.key,
                "title": plan.title,
                "skill": plan.skill,
                "trainee_id": trainee_id,
                "status": "open",
                "assigned_at": assigned_at,
                "due_at": plan.due_at,
                "closes_at": plan.closes_at or plan.due_at,
            }
            for plan in tasks
        ],
        ["assessment_id", "task_key"],
    )
    # A task of another trainee already there fails the caller's whole transaction.
    if read and any(row.trainee_id != trainee_id for row in existing):
        raise LifecycleError(f"assessment {assessment.id} tasks belong to another trainee")
    by_key = {row.task_key: row for row in existing}
    rows = [by_key[key] for key in keys]
    events = [
        measurement(
            kind="task_assigned",
            occurred_at=row.assigned_at,
            key=f"task:{row.id}",
            assessment=assessment,
            data={"task_key": row.task_key, "skill": row.skill, "due_at": row.due_at.isoformat()},
        )
        for row in rows
    ]
    return rows, events


async def _skill_for(session: AsyncSession, task: LearningTaskRow) -> SkillRow | None:
    if task.skill is None:
        return None
    return (
        await session.execute(
            select(SkillRow)
            .where(
                SkillRow.trainee_id == task.trainee_id,
                SkillRow.skill == task.skill,
                SkillRow.assessment_id == task.assessment_id,
            )
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()


async def complete_task(
    session: AsyncSession, task_id: int, trainee_id: str, at: datetime
) -> tuple[LearningTaskRow, SkillRow | None]:
    """Complete an open task and award its skill. Completing it again returns the same rows.

    A skill is held once per (trainee, skill, assessment): when two tasks of one assessment teach
    the same skill, the first completion awards it and both return that row.
    """
    _aware(at)
    task = await _existing(session, LearningTaskRow, task_id, "task")
    if task.trainee_id != trainee_id:
        raise LifecycleError(f"task {task_id} belongs to another trainee")
    if task.status == "open":
        await session.execute(
            update(LearningTaskRow)
            .where(LearningTaskRow.id == task_id, LearningTaskRow.status == "open")
            .values(status="completed", completed_at=at, closed_at=at)
            .execution_options(synchronize_session=False)
        )
        task = await _existing(session, LearningTaskRow, task_id, "task")
    if task.status != "completed":
        raise LifecycleError(f"task {task_id} is {task.status} and can no longer be completed")
    completed_at = task.completed_at or at
    assessment = await _assessment(session, task.assessment_id)
    if task.skill is not None:
        await insert_ignore(
            session,
            SkillRow,
            {
                "trainee_id": task.trainee_id,
                "skill": task.skill,
                "awarded_at": completed_at,
                "assessment_id": task.assessment_id,
                "task_id": task.id,
            },
            ["trainee_id", "skill", "assessment_id"],
        )
    skill = await _skill_for(session, task)
    await append_measurement(
        session,
        kind="task_completed",
        occurred_at=completed_at,
        key=f"task:{task.id}",
        assessment=assessment,
        data={
            "task_key": task.task_key,
            "skill": task.skill,
            "on_time": completed_at <= task.due_at,
            "days_to_complete": round((completed_at - task.assigned_at).total_seconds() / 86400, 2),
        },
    )
    if skill is not None:
        await append_measurement(
            session,
            kind="skill_awarded",
            occurred_at=skill.awarded_at,
            key=f"skill:{skill.id}",
            assessment=assessment,
            data={"skill": skill.skill, "task_key": task.task_key},
        )
    return task, skill


async def remind_task(session: AsyncSession, task_id: int, at: datetime) -> LearningTaskRow:
    """Remind the trainee of an open task, once; a repeat returns the task unchanged."""
    _aware(at)
    task = await _existing(session, LearningTaskRow, task_id, "task")
    if task.reminded_at is None:
        if task.status != "open":
            raise LifecycleError(f"task {task_id} is {task.status}; there is nothing to remind")
        await session.execute(
            update(LearningTaskRow)
            .where(
                LearningTaskRow.id == task_id,
                LearningTaskRow.status == "open",
                LearningTaskRow.reminded_at.is_(None),
            )
            .values(reminded_at=at)
            .execution_options(synchronize_session=False)
        )
        task = await _existing(session, LearningTaskRow, task_id, "task")
        if task.reminded_at is None:
            raise LifecycleError(f"task {task_id} is {task.status}; there is nothing to remind")
    assessment = await _assessment(session, task.assessment_id)
    await append_measurement(
        session,
        kind="task_reminded",
        occurred_at=task.reminded_at,
        key=f"task:{task.id}",
        assessment=assessment,
        data={"task_key": task.task_key},
    )
    return task


async def close_task(session: AsyncSession, task_id: int, at: datetime) -> LearningTaskRow:
    """Close one open task as incomplete at its deadline. A completed task is returned as it is,
    so a completion that won the race is never undone; a retry appends nothing twice."""
    _aware(at)
    task = await _existing(session, LearningTaskRow, task_id, "task")
    if task.status == "open":
        if at < (task.closes_at or task.due_at):
            raise LifecycleError(f"task {task_id} is not past its deadline")
        await session.execute(
            update(LearningTaskRow)
            .where(LearningTaskRow.id == task_id, LearningTaskRow.status == "open")
            .values(status="incomplete", closed_at=at)
            .execution_options(synchronize_session=False)
        )
        task = await _existing(session, LearningTaskRow, task_id, "task")
    if task.status == "incomplete":
        assessment = await _assessment(session, task.assessment_id)
        await append_measurement(
            session,
            kind="task_incomplete",
            occurred_at=task.closed_at or at,
            key=f"task:{task.id}",
            assessment=assessment,
            data={"task_key": task.task_key, "skill": task.skill},
        )
    return task


async def close_overdue_tasks(
    session: AsyncSession, assessment_id: int, at: datetime
) -> list[LearningTaskRow]:
    """Mark open tasks whose deadline is at or before `at` incomplete. Returns all of the
    assessment's incomplete tasks, so a retry returns the same list."""
    _aware(at)
    assessment = await _assessment(session, assessment_id)
    await session.execute(
        update(LearningTaskRow)
        .where(
            LearningTaskRow.assessment_id == assessment_id,
            LearningTaskRow.status == "open",
            func.coalesce(LearningTaskRow.closes_at, LearningTaskRow.due_at) <= at,
        )
        .values(status="incomplete", closed_at=at)
        .execution_options(synchronize_session=False)
    )
    rows = await _rows(
        session,
        select(LearningTaskRow)
        .where(
            LearningTaskRow.assessment_id == assessment_id,
            LearningTaskRow.status == "incomplete",
        )
        .order_by(LearningTaskRow.id),
    )
    for row in rows:
        await append_measurement(
            session,
            kind="task_incomplete",
            occurred_at=row.closed_at or at,
            key=f"task:{row.id}",
            assessment=assessment,
            data={"task_key": row.task_key, "skill": row.skill},
        )
    return rows


async def tasks_for(
    session: AsyncSession, trainee_id: str, status: TaskStatus | None = None
) -> list[LearningTaskRow]:
    query = select(LearningTaskRow).where(LearningTaskRow.trainee_id == trainee_id)
    if status is not None:
        query = query.where(LearningTaskRow.status == status)
    return await _rows(session, query.order_by(LearningTaskRow.due_at, LearningTaskRow.id))


async def skills_of(session: AsyncSession, trainee_id: str) -> list[SkillRow]:
    return await _rows(
        session,
        select(SkillRow)
        .where(SkillRow.trainee_id == trainee_id)
        .order_by(SkillRow.awarded_at, SkillRow.id),
    )
