"""What the coaching phase assigns, and when its next deadline falls: pure functions of the
workflow's state, so the workflow stays deterministic."""

from __future__ import annotations

from datetime import datetime

from domain.assessment import Draft
from domain.coaching import CriterionChange
from domain.definitions import Opportunity, SurveyTemplate
from domain.lifecycle import SurveyPlan, TaskPlan
from domain.overrides import changed_results


def coachable_failures(draft: Draft, changes: list[CriterionChange]) -> set[str]:
    """Criteria that failed through the agent's own behaviour, after the lead's changes.
    A failure the lead or the draft put down to policy, product, docs or staffing is a process
    issue, never a reason to assign the agent a task."""
    return {
        r.criterion_id
        for r in changed_results(draft.results, changes)
        if r.status == "failed" and r.cause in ("agent_behavior", None)
    }


def task_plans(opportunity: Opportunity, failed: set[str], at: datetime) -> list[TaskPlan]:
    """Tasks that name no criteria always; the others when one of their criteria failed."""
    return [
        TaskPlan(
            key=spec.id,
            title=spec.title,
            skill=spec.skill,
            due_at=at + spec.due,
            closes_at=at + spec.due + spec.closes_after,
        )
        for spec in opportunity.learning_tasks
        if not spec.if_failed or failed & set(spec.if_failed)
    ]


def survey_plans(
    opportunity: Opportunity,
    templates: list[SurveyTemplate],
    coach_id: str | None,
    trainee_id: str | None,
    at: datetime,
) -> list[SurveyPlan]:
    """The coach's survey to the deciding lead, the trainee's to the trainee; a survey whose
    respondent is unknown (the virtual coach has no coach) is not sent."""
    by_id = {t.id: t for t in templates}
    plans = []
    for audience, respondent in (("coach", coach_id), ("trainee", trainee_id)):
        template = by_id.get(getattr(opportunity.surveys, audience) or "")
        if template is None or respondent is None:
            continue
        plans.append(
            SurveyPlan(
                template_id=template.id,
                template_version=template.version,
                audience=audience,
                respondent_id=respondent,
                expires_at=at + template.expires,
            )
        )
    return plans
