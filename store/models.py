"""Tables. JSON columns hold nested snapshots; the columns that lists filter on are flat."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from store.types import UTCDateTime


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime()}


class TicketRow(Base):
    __tablename__ = "tickets"
    __table_args__ = (UniqueConstraint("source", "external_id", name="uq_tickets_source_external"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(50))
    external_id: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(String(50))
    channel: Mapped[str | None] = mapped_column(String(50))
    priority: Mapped[str | None] = mapped_column(String(50))
    queue: Mapped[str | None] = mapped_column(String(200))
    product_area: Mapped[str | None] = mapped_column(String(200))
    customer_segment: Mapped[str | None] = mapped_column(String(200))
    agent_id: Mapped[str | None] = mapped_column(String(200), index=True)
    agent_name: Mapped[str | None] = mapped_column(String(200))
    team: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime | None]
    solved_at: Mapped[datetime | None]
    snapshot: Mapped[dict] = mapped_column(JSON)
    last_event_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    messages: Mapped[list[MessageRow]] = relationship(
        back_populates="ticket", order_by="MessageRow.position", lazy="raise"
    )


class MessageRow(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("ticket_id", "external_id", name="uq_messages_ticket_external"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[str] = mapped_column(String(200))
    author_role: Mapped[str] = mapped_column(String(20))
    author_name: Mapped[str | None] = mapped_column(String(200))
    public: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime | None]
    body: Mapped[str] = mapped_column(Text)

    ticket: Mapped[TicketRow] = relationship(back_populates="messages", lazy="raise")


class EventRow(Base):
    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("source", "event_id", name="uq_events_source_event"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(50))
    event_id: Mapped[str] = mapped_column(String(300))
    type: Mapped[str] = mapped_column(String(100))
    occurred_at: Mapped[datetime]
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    change: Mapped[dict | None] = mapped_column(JSON)
    received_at: Mapped[datetime]


class WorkflowStartRow(Base):
    """One row per coaching workflow started: the dedupe window and a replay's answer."""

    __tablename__ = "workflow_starts"

    workflow_id: Mapped[str] = mapped_column(String(600), primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(600), index=True)
    generation: Mapped[int] = mapped_column(Integer)
    opportunity_id: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(50))
    event_id: Mapped[str] = mapped_column(String(300))
    anchor_at: Mapped[datetime]
    started_at: Mapped[datetime]


class AssessmentRow(Base):
    __tablename__ = "assessments"
    __table_args__ = (
        Index(
            "ix_assessments_queue_visible",
            "status",
            "priority",
            "created_at",
            "team",
            "assigned_lead",
            "opportunity_id",
        ),
        Index("ix_assessments_agent_time", "agent_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workflow_id: Mapped[str] = mapped_column(String(600), unique=True)
    opportunity_id: Mapped[str] = mapped_column(String(100), index=True)
    opportunity_version: Mapped[int] = mapped_column(Integer)
    rubric_id: Mapped[str] = mapped_column(String(100))
    rubric_version: Mapped[int] = mapped_column(Integer)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    source: Mapped[str] = mapped_column(String(50))
    ticket_external_id: Mapped[str] = mapped_column(String(200))
    event_id: Mapped[str] = mapped_column(String(300))
    event_type: Mapped[str] = mapped_column(String(100))
    agent_id: Mapped[str | None] = mapped_column(String(200), index=True)
    agent_name: Mapped[str | None] = mapped_column(String(200))
    team: Mapped[str | None] = mapped_column(String(200))
    queue: Mapped[str | None] = mapped_column(String(200))
    product_area: Mapped[str | None] = mapped_column(String(200))
    customer_segment: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str | None] = mapped_column(String(50))
    kb_article: Mapped[str | None] = mapped_column(String(200))
    policy: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(30))
    stop_reason: Mapped[str | None] = mapped_column(Text)
    score: Mapped[float | None] = mapped_column(Float)
    max_score: Mapped[float | None] = mapped_column(Float)
    passed: Mapped[bool | None] = mapped_column(Boolean)
    confidence: Mapped[float] = mapped_column(Float)
    priority: Mapped[int] = mapped_column(Integer)
    flags: Mapped[list] = mapped_column(JSON)
    summary: Mapped[str] = mapped_column(Text)
    coaching_note: Mapped[str] = mapped_column(Text, default="")
    qa_summary: Mapped[str] = mapped_column(Text, default="")
    evidence_report: Mapped[list] = mapped_column(JSON, default=list)
    process_issues: Mapped[list] = mapped_column(JSON, default=list)
    repeat_themes: Mapped[list] = mapped_column(JSON, default=list)
    auto_eligible: Mapped[bool] = mapped_column(Boolean, default=False)
    occurred_at: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    assigned_lead: Mapped[str | None] = mapped_column(String(200))
    # When its agent may first see it: a lead's approval or override, or the virtual coach.
    released_at: Mapped[datetime | None]

    results: Mapped[list[CriterionResultRow]] = relationship(
        order_by="CriterionResultRow.position", lazy="raise"
    )


class CriterionResultRow(Base):
    __tablename__ = "criterion_results"
    __table_args__ = (
        UniqueConstraint("assessment_id", "criterion_id", name="uq_results_criterion"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    criterion_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    score: Mapped[float] = mapped_column(Float)
    max_score: Mapped[float] = mapped_column(Float)
    weight: Mapped[float] = mapped_column(Float)
    critical: Mapped[bool] = mapped_column(Boolean)
    cause: Mapped[str | None] = mapped_column(String(30))
    confidence: Mapped[float] = mapped_column(Float)
    explanation: Mapped[str] = mapped_column(Text)
    evidence: Mapped[list] = mapped_column(JSON)


class DecisionRow(Base):
    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[str] = mapped_column(String(600), unique=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    lead: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    changes: Mapped[list] = mapped_column(JSON)
    decided_at: Mapped[datetime]


class MeasurementEventRow(Base):
    """Append-only: one row per thing that happened, with the ids to slice by."""

    __tablename__ = "measurement_events"
    __table_args__ = (Index("ix_measurement_kind_time", "kind", "occurred_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(700), unique=True)
    kind: Mapped[str] = mapped_column(String(50))
    occurred_at: Mapped[datetime]
    assessment_id: Mapped[int | None] = mapped_column(ForeignKey("assessments.id"), index=True)
    workflow_id: Mapped[str | None] = mapped_column(String(600))
    opportunity_id: Mapped[str | None] = mapped_column(String(100))
    rubric_id: Mapped[str | None] = mapped_column(String(100))
    rubric_version: Mapped[int | None] = mapped_column(Integer)
    agent_id: Mapped[str | None] = mapped_column(String(200))
    team: Mapped[str | None] = mapped_column(String(200))
    queue: Mapped[str | None] = mapped_column(String(200))
    product_area: Mapped[str | None] = mapped_column(String(200))
    customer_segment: Mapped[str | None] = mapped_column(String(200))
    kb_article: Mapped[str | None] = mapped_column(String(200))
    policy: Mapped[str | None] = mapped_column(String(200))
    data: Mapped[dict] = mapped_column(JSON)


class LearningTaskRow(Base):
    """A learning task assigned after coaching; `closed_at` is set when it stops being open."""

    __tablename__ = "learning_tasks"
    __table_args__ = (
        UniqueConstraint("assessment_id", "task_key", name="uq_learning_tasks_assessment_key"),
        Index("ix_learning_tasks_trainee_status", "trainee_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"))
    task_key: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(Text)
    skill: Mapped[str | None] = mapped_column(String(200))
    trainee_id: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    assigned_at: Mapped[datetime]
    due_at: Mapped[datetime]
    reminded_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    closes_at: Mapped[datetime | None]


class SkillRow(Base):
    """A skill on a trainee's profile, with the assessment (and task) it came from."""

    __tablename__ = "skills"
    __table_args__ = (
        UniqueConstraint(
            "trainee_id", "skill", "assessment_id", name="uq_skills_trainee_skill_assessment"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trainee_id: Mapped[str] = mapped_column(String(200))
    skill: Mapped[str] = mapped_column(String(200))
    awarded_at: Mapped[datetime]
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("learning_tasks.id"))


class SurveyRow(Base):
    __tablename__ = "surveys"
    __table_args__ = (
        UniqueConstraint("assessment_id", "audience", name="uq_surveys_assessment_audience"),
        Index("ix_surveys_respondent_status", "respondent_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"))
    template_id: Mapped[str] = mapped_column(String(100))
    template_version: Mapped[int] = mapped_column(Integer)
    audience: Mapped[str] = mapped_column(String(20))
    respondent_id: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    sent_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    answers: Mapped[dict | None] = mapped_column(JSON)


class CoachingResponseRow(Base):
    """The trainee's one response to a coaching note, and a second lead's resolution."""

    __tablename__ = "coaching_responses"
    __table_args__ = (UniqueConstraint("assessment_id", name="uq_coaching_responses_assessment"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"))
    trainee_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime]
    resolution: Mapped[str | None] = mapped_column(String(20))
    resolved_by: Mapped[str | None] = mapped_column(String(200))
    resolved_at: Mapped[datetime | None]
    resolution_note: Mapped[str | None] = mapped_column(Text)


class UserRow(Base):
    """The user directory: who may act, in which role, for which teams and reviewer groups."""

    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("name", name="uq_users_name"),
        UniqueConstraint("token_hash", name="uq_users_token_hash"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    teams: Mapped[list] = mapped_column(JSON)
    groups: Mapped[list] = mapped_column(JSON)
    token_hash: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime]
    # Page sessions carry the version they began under; moving it on ends them all.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class AuditRow(Base):
    """Append-only: every decision and every change to a definition or a user, and by whom."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    target: Mapped[str] = mapped_column(String(600))
    details: Mapped[dict] = mapped_column(JSON)


class QaSampleRow(Base):
    """One run of the QA sample: its window, what it drew, and the population it drew from."""

    __tablename__ = "qa_samples"
    __table_args__ = (Index("ix_qa_samples_opportunity_window", "opportunity_id", "window_end"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = mapped_column(String(600), unique=True)
    opportunity_id: Mapped[str] = mapped_column(String(100))
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    per_agent: Mapped[int] = mapped_column(Integer)
    seed: Mapped[str] = mapped_column(String(700))
    status: Mapped[str] = mapped_column(String(20))
    population_total: Mapped[int] = mapped_column(Integer)
    eligible: Mapped[int] = mapped_column(Integer)
    skipped_assessed: Mapped[int] = mapped_column(Integer)
    sample_total: Mapped[int] = mapped_column(Integer)
    per_agent_counts: Mapped[dict] = mapped_column(JSON)
    sample_composition: Mapped[dict] = mapped_column(JSON)
    population_composition: Mapped[dict] = mapped_column(JSON)
    backup_used: Mapped[bool] = mapped_column(Boolean)
    backups: Mapped[list] = mapped_column(JSON)
    tickets: Mapped[list] = mapped_column(JSON)
    started: Mapped[list] = mapped_column(JSON)
    duplicates: Mapped[list] = mapped_column(JSON)
    missing: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
