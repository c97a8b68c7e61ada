"""What the pilot report holds: the brief's pilot view of one window, as one pydantic model
that every format (HTML, Markdown, CSV) renders."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel

from domain.sampling import Composition
from store.metrics_model import SCORECARD_THRESHOLD, Metrics

PILOT_DAYS = 45
PILOT_CONVERSATIONS = 100


class Window(BaseModel):
    """[since, until); `elapsed_days` is how much of it had passed when the report was made."""

    since: datetime
    until: datetime
    days: float
    elapsed_days: float


class Scope(BaseModel):
    """One queue (every resolved conversation of it assessed in the window), or the first
    `conversations` resolved conversations assessed in the window, in the order of their first
    assessment, from every queue."""

    kind: Literal["queue", "conversations"]
    queue: str | None = None
    conversations: int | None = None


class ConversationChecks(BaseModel):
    """The brief's workflow test over the scope's resolved conversations: how many have
    criteria scored, evidence behind a scored criterion, a coaching action, a reviewer edit, a
    policy or knowledge-gap flag; and how many an evidence-backed QA note or a non-agent
    root-cause exception (the threshold's measure, as the scorecard counts it)."""

    conversations: int
    scored: int
    evidence: int
    coaching_action: int
    reviewer_edit: int
    gap_flag: int
    completed: int
    rate: float | None
    threshold: float = SCORECARD_THRESHOLD
    met: bool


class EditChange(BaseModel):
    criterion_id: str
    field: Literal["score", "cause"]
    drafted: float | str | None
    final: float | str | None
    max_score: float | None = None


class EditExample(BaseModel):
    """One lead override: what it changed (the draft's value and the final one) and why, the
    reason with customer data replaced by placeholders."""

    assessment_id: int
    agent_id: str | None
    decided_at: datetime
    reason: str | None
    changes: list[EditChange]


class WeekRow(BaseModel):
    """Per week (Monday, UTC): coaching themes (criteria failed through the agent's behaviour)
    and process issues put down to policy and to documentation."""

    week: date
    themes: int
    policy_issues: int
    kb_issues: int


class QaSampleView(BaseModel):
    """The latest fair QA sample drawn for the window, next to the population it came from."""

    run_id: str
    opportunity_id: str
    window_start: datetime
    window_end: datetime
    per_agent: int
    sample: Composition
    population: Composition


class PilotReport(BaseModel):
    generated_at: datetime
    window: Window
    scope: Scope
    metrics: Metrics
    checks: ConversationChecks
    edit_examples: list[EditExample]
    themes: dict[str, int]
    weeks: list[WeekRow]
    qa_sample: QaSampleView | None
