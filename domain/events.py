"""The canonical ticket event every adapter produces (DESIGN §3)."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

EVENT_TYPES = (
    "ticket.created",
    "ticket.first_response",
    "ticket.reassigned",
    "ticket.escalated",
    "ticket.solved",
    "ticket.reopened",
    "ticket.updated",
    "csat.received",
    "qa.sampled",
)

AuthorRole = Literal["customer", "agent", "system", "lead"]


class Strict(BaseModel):
    """Unknown keys and non-finite numbers (which PostgreSQL's JSON cannot store) are refused;
    NUL characters are refused at intake (`intake/nul.py`)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)


class Person(Strict):
    id: str = Field(min_length=1, max_length=200)
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    team: str | None = Field(default=None, max_length=200)


class Author(Strict):
    id: str = Field(min_length=1, max_length=200)
    role: AuthorRole
    name: str | None = Field(default=None, max_length=200)


class Message(Strict):
    id: str = Field(min_length=1, max_length=200)
    author: Author
    public: bool = True
    created_at: AwareDatetime | None = None
    body: str = Field(max_length=100_000)


class Metrics(Strict):
    first_response_minutes: float | None = Field(default=None, ge=0)
    resolution_minutes: float | None = Field(default=None, ge=0)
    reassignment_count: int | None = Field(default=None, ge=0)
    reopens: int | None = Field(default=None, ge=0)


class Csat(Strict):
    score: float = Field(ge=0)
    scale: int = Field(default=5, ge=1, le=100)
    comment: str | None = Field(default=None, max_length=10_000)
    received_at: AwareDatetime | None = None


class KbArticle(Strict):
    id: str = Field(min_length=1, max_length=200)
    title: str | None = Field(default=None, max_length=500)
    url: str | None = Field(default=None, max_length=2000)
    updated_at: AwareDatetime | None = None


class PolicyRef(Strict):
    id: str = Field(min_length=1, max_length=200)
    version: str | None = Field(default=None, max_length=50)
    ambiguous: bool = False


class Escalation(Strict):
    at: AwareDatetime | None = None
    to: str | None = Field(default=None, max_length=200)
    reason: str | None = Field(default=None, max_length=2000)


class Ticket(Strict):
    id: str = Field(min_length=1, max_length=200)
    subject: str | None = Field(default=None, max_length=1000)
    status: str | None = Field(default=None, max_length=50)
    channel: str | None = Field(default=None, max_length=50)
    priority: str | None = Field(default=None, max_length=50)
    queue: str | None = Field(default=None, max_length=200)
    product_area: str | None = Field(default=None, max_length=200)
    customer_segment: str | None = Field(default=None, max_length=200)
    tags: list[str] = Field(default_factory=list, max_length=200)
    created_at: AwareDatetime | None = None
    solved_at: AwareDatetime | None = None
    agent: Person | None = None
    requester: Person | None = None
    participants: list[Person] = Field(default_factory=list, max_length=100)
    metrics: Metrics = Field(default_factory=Metrics)
    queue_backlog_per_agent: float | None = Field(default=None, ge=0)
    csat: Csat | None = None
    messages: list[Message] = Field(default_factory=list, max_length=2000)
    kb_articles: list[KbArticle] = Field(default_factory=list, max_length=200)
    policies: list[PolicyRef] = Field(default_factory=list, max_length=200)
    escalations: list[Escalation] = Field(default_factory=list, max_length=200)


class StoredTicket(Ticket):
    """A ticket as stored: its thread is every message its events brought, so it may be longer
    than one event may carry."""

    messages: list[Message] = Field(default_factory=list)


class Change(Strict):
    field: str = Field(min_length=1, max_length=100)
    # `from` is a Python keyword; the wire name stays `from`.
    from_: str | None = Field(default=None, alias="from", max_length=200)
    to: str | None = Field(default=None, max_length=200)

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class TicketEvent(Strict):
    event_id: str = Field(min_length=1, max_length=300)
    source: str = Field(min_length=1, max_length=50, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    type: str = Field(min_length=1, max_length=100, pattern=r"^[a-z_]+\.[a-z_]+$")
    occurred_at: AwareDatetime
    ticket: Ticket
    change: Change | None = None

    def ticket_key(self) -> str:
        return f"{self.source}/{self.ticket.id}"
