"""The fair QA sample's draw, pure: strata, the backup, skipping assessed tickets, determinism."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from domain.sampling import BANDS, Candidate, csat_band, draw_sample

CHANNELS = ("email", "chat", "voice")
SCORES = (None, 1, 2, 3, 4, 5)


def population(size: int = 400, agents: int = 12, seed: int = 7, **weights) -> list[Candidate]:
    """Skewed like a real queue: mostly happy or unrated customers, a few angry ones."""
    rng = random.Random(seed)
    score_weights = weights.get("scores", (30, 4, 4, 6, 20, 36))
    out = []
    for i in range(size):
        out.append(
            Candidate(
                source="generic",
                ticket_id=f"t{i}",
                agent_id=f"a-{rng.randrange(agents)}",
                channel=rng.choices(CHANNELS, weights=(60, 30, 10))[0],
                csat_score=rng.choices(SCORES, weights=score_weights)[0],
            )
        )
    return out


def test_csat_bands():
    assert [csat_band(s) for s in (None, 0, 1, 2, 3, 4, 5)] == [
        "none",
        "low",
        "low",
        "low",
        "mid",
        "high",
        "high",
    ]
    assert [csat_band(s, 10) for s in (2, 4, 6, 8, 10)] == ["low", "low", "mid", "high", "high"]
    assert csat_band(2.4) == "low" and csat_band(3.4) == "mid" and csat_band(4.6) == "high"


@pytest.mark.parametrize("per_agent", [1, 2, 3, 5, 8])
def test_no_agent_is_over_sampled_and_each_gets_its_share(per_agent):
    pop = population()
    draw = draw_sample(pop, per_agent, "week-1")
    handled = Counter(c.agent_id for c in pop)
    per_agent_counts = Counter(t.agent_id for t in draw.tickets)
    assert per_agent_counts == {agent: min(per_agent, n) for agent, n in handled.items()}
    assert draw.sample.agents == dict(sorted(per_agent_counts.items()))
    assert len({(t.source, t.ticket_id) for t in draw.tickets}) == len(draw.tickets)


@pytest.mark.parametrize("per_agent", [1, 2, 5])
def test_all_csat_bands_are_present_when_the_population_has_them(per_agent):
    # Angry customers are 4% of this population; unrated ones are the largest group.
    pop = population(scores=(40, 2, 2, 6, 20, 30))
    assert all(pop_count > 0 for pop_count in draw_sample(pop, 1, "s").population.bands.values())
    for week in range(10):
        draw = draw_sample(pop, per_agent, f"week-{week}")
        assert all(n > 0 for n in draw.sample.bands.values()), draw.sample.bands


def test_the_sample_is_spread_across_bands_not_drawn_in_proportion():
    pop = population()
    draw = draw_sample(pop, 4, "week-1")
    bands = draw.sample.bands
    # Four bands, four per agent: every agent who has all four bands gets one of each.
    assert max(bands.values()) - min(bands.values()) <= len(draw.sample.agents)
    share_low_sample = bands["low"] / draw.sample.total
    share_low_population = draw.population.bands["low"] / draw.population.total
    assert share_low_sample > share_low_population
    for agent in draw.sample.agents:
        theirs = [t for t in draw.tickets if t.agent_id == agent]
        available = {c.band for c in pop if c.agent_id == agent}
        assert len({t.band for t in theirs}) == min(len(available), len(theirs))


def test_a_band_missing_from_the_population_is_not_a_stratum():
    pop = [c for c in population() if c.csat_score is not None and c.csat_score != 3]
    draw = draw_sample(pop, 4, "week-1")
    assert draw.population.bands["mid"] == draw.population.bands["none"] == 0
    assert draw.sample.bands["mid"] == draw.sample.bands["none"] == 0
    # Two bands, four per agent: two each, and a short band is one of those two.
    assert {band for b in draw.backups for band in b.short} <= {"low", "high"}


def test_channels_are_spread_within_an_agent():
    # One agent, one band, three channels: five picks rotate through the channels.
    pop = [
        Candidate(source="generic", ticket_id=f"{ch}{i}", agent_id="a-1", channel=ch, csat_score=5)
        for ch in CHANNELS
        for i in range(10)
    ]
    draw = draw_sample(pop, 5, "s")
    assert sorted(Counter(t.channel for t in draw.tickets).values()) == [1, 2, 2]
    draw = draw_sample(pop, 3, "s")
    assert Counter(t.channel for t in draw.tickets) == dict.fromkeys(CHANNELS, 1)
    # Across the sample, the least-used channels come first: email-heavy queues do not
    # crowd out chat and voice.
    draw = draw_sample(population(), 3, "s")
    assert set(draw.sample.channels) == set(CHANNELS)
    assert draw.sample.channels["voice"] / draw.sample.total > (
        draw.population.channels["voice"] / draw.population.total
    )


def test_the_backup_fills_a_short_stratum_from_the_agents_other_bands():
    def ticket(i: int, agent: str, score: int | None, channel: str = "email") -> Candidate:
        return Candidate(
            source="generic", ticket_id=f"{agent}-{i}", agent_id=agent, channel=channel,
            csat_score=score,
        )  # fmt: skip

    # a-1 has every band; a-2 has no low or mid ticket, only high and unrated ones.
    pop = [ticket(i, "a-1", score) for i, score in enumerate((1, 2, 3, 3, 4, 5, None, None))]
    pop += [ticket(i, "a-2", score) for i, score in enumerate((4, 5, 5, None, None, None))]
    draw = draw_sample(pop, 4, "s")
    assert draw.sample.agents == {"a-1": 4, "a-2": 4}
    a1 = [t for t in draw.tickets if t.agent_id == "a-1"]
    assert sorted(t.band for t in a1) == sorted(BANDS) and not any(t.backup for t in a1)
    a2 = [t for t in draw.tickets if t.agent_id == "a-2"]
    assert {t.band for t in a2} == {"high", "none"} and sum(t.backup for t in a2) == 2
    assert draw.backup_used
    (backup,) = draw.backups
    assert backup.agent_id == "a-2"
    assert backup.short == {"low": 1, "mid": 1}
    assert sum(backup.filled.values()) == 2 and backup.unfilled == 0


def test_an_agent_with_too_few_tickets_gives_all_and_the_gap_is_recorded():
    pop = [
        Candidate(source="generic", ticket_id="x1", agent_id="a-1", csat_score=1),
        Candidate(source="generic", ticket_id="x2", agent_id="a-1", csat_score=5),
        Candidate(source="generic", ticket_id="y1", agent_id="a-2", csat_score=3),
    ]
    draw = draw_sample(pop, 5, "s")
    assert draw.sample.agents == {"a-1": 2, "a-2": 1}
    gaps = {b.agent_id: b.unfilled for b in draw.backups}
    assert gaps == {"a-1": 3, "a-2": 4}
    assert not draw.backup_used  # nothing was left to fill from


def test_already_assessed_and_unassigned_tickets_are_never_drawn_but_counted():
    pop = population(size=120, agents=4)
    for i, candidate in enumerate(pop):
        if i % 3 == 0:
            pop[i] = candidate.model_copy(update={"assessed": True})
    pop.append(Candidate(source="generic", ticket_id="nobody", agent_id=None, csat_score=1))
    draw = draw_sample(pop, 50, "s")
    assessed = {c.ticket_id for c in pop if c.assessed}
    assert not assessed & {t.ticket_id for t in draw.tickets}
    assert "nobody" not in {t.ticket_id for t in draw.tickets}
    assert draw.sample.total == draw.eligible == 120 - len(assessed)
    assert draw.skipped_assessed == len(assessed) and draw.unassigned == 1
    assert draw.population.total == 121


def test_the_draw_is_deterministic_for_a_seed_and_varies_between_seeds():
    pop = population()
    first = draw_sample(pop, 3, "weekly-qa-sample@2026-11-05T00:00:00+00:00")
    shuffled = list(pop)
    random.Random(3).shuffle(shuffled)
    assert draw_sample(shuffled, 3, first.seed) == first
    assert draw_sample(pop + pop[:10], 3, first.seed) == first  # duplicates count once
    other = draw_sample(pop, 3, "weekly-qa-sample@2026-11-12T00:00:00+00:00")
    assert {t.ticket_id for t in other.tickets} != {t.ticket_id for t in first.tickets}
    assert other.sample.agents == first.sample.agents


def test_a_seeded_draw_is_close_to_uniform_within_a_stratum():
    """Over many seeds, every ticket of a stratum is drawn about equally often."""
    pop = [
        Candidate(
            source="generic", ticket_id=f"t{i}", agent_id="a-1", channel="email", csat_score=5
        )
        for i in range(10)
    ]
    counts = Counter(
        t.ticket_id for s in range(2000) for t in draw_sample(pop, 1, f"seed-{s}").tickets
    )
    assert len(counts) == 10 and min(counts.values()) > 140 and max(counts.values()) < 260


def test_per_agent_must_be_positive():
    with pytest.raises(ValueError):
        draw_sample(population(size=10), 0, "s")
