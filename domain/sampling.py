"""The fair QA sample: a stratified, deterministic draw of resolved conversations.

Pure: the same population and seed always draw the same sample, whatever the order the
population comes in, so a retried or replayed run decides the same way.

Per agent, up to `per_agent` tickets. The agent's quota is spread evenly over the CSAT bands
the population has (`low` 1-2, `mid` 3, `high` 4-5, `none` without a rating; other scales are
rescaled to five points), the extra picks going to the bands least represented so far; picks
alternate between bands (round-robin), and inside a band between channels, least used first.
When the agent has too few tickets in a band (a short stratum), the backup fills the quota
from the agent's other bands and channels, and the draw records that it did.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Band = Literal["low", "mid", "high", "none"]
BANDS: tuple[Band, ...] = ("low", "mid", "high", "none")
NO_CHANNEL = "unknown"

DRAW_QA_SAMPLE = "draw_qa_sample"
START_QA_SAMPLE = "start_qa_sample"
RECORD_QA_SAMPLE = "record_qa_sample"
QA_SAMPLED = "qa.sampled"
DEFAULT_OPPORTUNITY = "weekly-qa-sample"


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


def csat_band(score: float | None, scale: int | None = 5) -> Band:
    """low 1-2, mid 3, high 4-5 on a five-point scale; other scales rescaled to it."""
    if score is None:
        return "none"
    points = score * 5 / scale if scale and scale != 5 else score
    if points < 2.5:
        return "low"
    if points < 3.5:
        return "mid"
    return "high"


class Candidate(Model):
    """A resolved ticket of the window; `assessed` ones count in the population only."""

    source: str
    ticket_id: str
    agent_id: str | None = None
    team: str | None = None
    channel: str | None = None
    csat_score: float | None = None
    csat_scale: int | None = 5
    solved_at: datetime | None = None
    assessed: bool = False

    @property
    def band(self) -> Band:
        return csat_band(self.csat_score, self.csat_scale)

    @property
    def channel_name(self) -> str:
        return self.channel or NO_CHANNEL


class SampledTicket(Model):
    source: str
    ticket_id: str
    agent_id: str
    channel: str
    band: Band
    backup: bool = False


class Composition(Model):
    total: int = 0
    bands: dict[str, int] = Field(default_factory=dict)
    channels: dict[str, int] = Field(default_factory=dict)
    agents: dict[str, int] = Field(default_factory=dict)


class Backup(Model):
    """An agent with short strata: how many picks each band lacked (`short`), how many the
    backup drew from the agent's other bands instead (`filled`), and how many stayed
    unfilled because the agent had no more tickets."""

    agent_id: str
    short: dict[str, int] = Field(default_factory=dict)
    filled: dict[str, int] = Field(default_factory=dict)
    unfilled: int = 0


class SampleDraw(Model):
    seed: str
    per_agent: int
    tickets: list[SampledTicket] = Field(default_factory=list)
    sample: Composition = Field(default_factory=Composition)
    population: Composition = Field(default_factory=Composition)
    eligible: int = 0
    skipped_assessed: int = 0
    unassigned: int = 0
    backups: list[Backup] = Field(default_factory=list)

    @property
    def backup_used(self) -> bool:
        return any(b.filled for b in self.backups)


def _hash(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def composition(items: list[tuple[str | None, str, Band]]) -> Composition:
    """Counts by band (all four, zeros included), channel and agent of (agent, channel, band)."""
    bands = Counter(band for _, _, band in items)
    return Composition(
        total=len(items),
        bands={band: bands.get(band, 0) for band in BANDS},
        channels=dict(sorted(Counter(channel for _, channel, _ in items).items())),
        agents=dict(sorted(Counter(agent for agent, _, _ in items if agent).items())),
    )


class _Agent:
    """One agent's strata: (band, channel) → tickets in a stable, seeded order."""

    def __init__(self, agent_id: str, tickets: list[Candidate], seed: str):
        self.agent_id = agent_id
        self.seed = seed
        self.strata: dict[Band, dict[str, list[Candidate]]] = defaultdict(dict)
        ordered = sorted(tickets, key=lambda t: _hash(seed, t.source, t.ticket_id))
        for ticket in ordered:
            self.strata[ticket.band].setdefault(ticket.channel_name, []).append(ticket)
        self.taken: Counter[str] = Counter()
        self.channels_used: Counter[str] = Counter()

    def available(self, band: Band) -> int:
        return sum(len(tickets) for tickets in self.strata.get(band, {}).values())

    def take(self, band: Band, global_channels: Counter[str]) -> Candidate:
        """One ticket of `band`, from the channel this agent (then the sample) used least."""
        channels = [c for c, tickets in self.strata[band].items() if tickets]
        channel = min(
            channels,
            key=lambda c: (
                self.channels_used[c],
                global_channels[c],
                _hash(self.seed, self.agent_id, band, c),
            ),
        )
        self.channels_used[channel] += 1
        self.taken[band] += 1
        return self.strata[band][channel].pop(0)


def _quotas(
    agent: _Agent, bands: list[Band], per_agent: int, global_bands: Counter[str]
) -> dict[Band, int]:
    """`per_agent` spread evenly over the population's bands; the picks that do not divide
    evenly go to the bands the sample has least of so far, so every band is reached."""
    quota: dict[Band, int] = dict.fromkeys(bands, 0)
    for _ in range(per_agent):
        band = min(
            bands,
            key=lambda b: (
                quota[b],
                global_bands[b] if agent.available(b) else 1 << 30,
                _hash(agent.seed, agent.agent_id, b),
            ),
        )
        quota[band] += 1
    return quota


class _Sampler:
    """The draw's running state: the picks, and how often each band and channel was picked."""

    def __init__(self, bands: list[Band], per_agent: int, seed: str):
        self.bands, self.per_agent, self.seed = bands, per_agent, seed
        self.picked: list[SampledTicket] = []
        self.backups: list[Backup] = []
        self.band_counts: Counter[str] = Counter()
        self.channel_counts: Counter[str] = Counter()

    def _pick(self, agent: _Agent, band: Band, backup: bool) -> None:
        ticket = agent.take(band, self.channel_counts)
        self.band_counts[band] += 1
        self.channel_counts[ticket.channel_name] += 1
        self.picked.append(
            SampledTicket(
                source=ticket.source,
                ticket_id=ticket.ticket_id,
                agent_id=agent.agent_id,
                channel=ticket.channel_name,
                band=band,
                backup=backup,
            )
        )

    def _backup_band(self, agent: _Agent) -> Band | None:
        """The agent's band to fill from: the one least taken from, then the sample's rarest."""
        bands = [b for b in self.bands if agent.available(b)]
        if not bands:
            return None
        return min(
            bands,
            key=lambda b: (
                agent.taken[b],
                self.band_counts[b],
                _hash(self.seed, agent.agent_id, b),
            ),
        )

    def agent(self, agent: _Agent) -> None:
        quota = _quotas(agent, self.bands, self.per_agent, self.band_counts)
        # Round-robin over the bands, up to each band's quota.
        progress = True
        while progress:
            progress = False
            for band in self.bands:
                if agent.taken[band] < quota[band] and agent.available(band):
                    self._pick(agent, band, backup=False)
                    progress = True
        short = {b: quota[b] - agent.taken[b] for b in self.bands if agent.taken[b] < quota[b]}
        if not short:
            return
        # Backup: the rest of the quota from the agent's other bands and channels.
        missing = sum(short.values())
        filled: Counter[str] = Counter()
        while missing and (band := self._backup_band(agent)) is not None:
            self._pick(agent, band, backup=True)
            filled[band] += 1
            missing -= 1
        self.backups.append(
            Backup(
                agent_id=agent.agent_id,
                short=short,
                filled=dict(sorted(filled.items())),
                unfilled=missing,
            )
        )


def draw_sample(population: list[Candidate], per_agent: int, seed: str) -> SampleDraw:
    """Up to `per_agent` not yet assessed tickets per agent, stratified across CSAT bands and
    channels; see the module docstring."""
    if per_agent < 1:
        raise ValueError("per_agent must be at least 1")
    # A ticket listed twice counts once; the input order never matters.
    unique = {(c.source, c.ticket_id): c for c in population}
    everyone = sorted(unique.values(), key=lambda c: (c.source, c.ticket_id))
    eligible = [c for c in everyone if not c.assessed and c.agent_id]
    by_agent: dict[str, list[Candidate]] = defaultdict(list)
    for ticket in eligible:
        by_agent[ticket.agent_id or ""].append(ticket)
    sampler = _Sampler([b for b in BANDS if any(c.band == b for c in everyone)], per_agent, seed)
    for agent_id in sorted(by_agent):
        sampler.agent(_Agent(agent_id, by_agent[agent_id], seed))
    return SampleDraw(
        seed=seed,
        per_agent=per_agent,
        tickets=sampler.picked,
        sample=composition([(t.agent_id, t.channel, t.band) for t in sampler.picked]),
        population=composition([(c.agent_id, c.channel_name, c.band) for c in everyone]),
        eligible=len(eligible),
        skipped_assessed=sum(1 for c in everyone if c.assessed),
        unassigned=sum(1 for c in everyone if not c.assessed and not c.agent_id),
        backups=sampler.backups,
    )


# Workflow and activity messages.


class QASampleInput(Model):
    """One run of the QA sample. `scheduled_at` is for starts outside a Schedule; under one,
    the run takes the schedule's scheduled time."""

    opportunity_id: str = DEFAULT_OPPORTUNITY
    per_agent: int = Field(default=5, ge=1, le=100)
    window: timedelta = timedelta(days=7)
    scheduled_at: datetime | None = None


class DrawRequest(Model):
    run_id: str
    opportunity_id: str
    per_agent: int
    window_start: datetime
    window_end: datetime
    seed: str


class StartSampleRequest(Model):
    run_id: str
    opportunity_id: str
    occurred_at: datetime
    tickets: list[SampledTicket]


class StartSampleResult(Model):
    started: list[str] = Field(default_factory=list)
    duplicates: list[str] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list)


class RecordSampleRequest(Model):
    run_id: str
    started: list[str] = Field(default_factory=list)
    duplicates: list[str] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list)
    finished_at: datetime


class RecordSampleResult(Model):
    recorded: bool


class QASampleResult(Model):
    run_id: str
    opportunity_id: str
    window_start: datetime
    window_end: datetime
    per_agent: int
    sample: Composition
    population: Composition
    eligible: int
    skipped_assessed: int
    backup_used: bool
    backups: list[Backup] = Field(default_factory=list)
    started: list[str] = Field(default_factory=list)
    duplicates: list[str] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list)


def sampled_event_id(run_id: str, source: str, ticket_id: str) -> str:
    """The `qa.sampled` event's id: the same for a retried start, so Intake dedupes it."""
    return f"qa.sampled:{_hash(run_id, source, ticket_id)[:32]}"
