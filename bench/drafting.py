"""Drafting throughput on one core: redaction, evidence, scoring, quote checks, notes.

    python bench/drafting.py [--tickets 2000] [--messages 20]

Prints a table and writes bench/results/drafting.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from pathlib import Path

from activities.drafting import build_case
from domain.coaching import DraftRequest, EventRef
from domain.events import TicketEvent
from examples.demo_tickets import generate
from opportunities.catalog import load_catalog
from rubrics.notes import render_notes
from rubrics.scoring import draft

RESULTS = Path(__file__).resolve().parent / "results"


def long_threads(count: int, messages: int, seed: int = 11) -> list[TicketEvent]:
    """Demo conversations stretched to `messages` messages by reusing real bodies.

    Every body gets a ticket-specific reference, so no cache sees the same text twice.
    """
    rng = random.Random(seed)
    pool = [TicketEvent.model_validate(e) for e in generate(seed=seed, count=100)]
    bodies = [m for e in pool for m in e.ticket.messages]
    out = []
    for i in range(count):
        base = pool[i % len(pool)]
        thread = list(base.ticket.messages)
        while len(thread) < messages:
            thread.append(rng.choice(bodies).model_copy(update={"id": f"x{len(thread)}"}))
        thread = [
            m.model_copy(update={"body": f"{m.body}\n(ref {i}-{n})"})
            for n, m in enumerate(thread[:messages])
        ]
        ticket = base.ticket.model_copy(update={"id": f"b{i}", "messages": thread})
        out.append(base.model_copy(update={"ticket": ticket, "event_id": f"b{i}"}))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=20)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    catalog = load_catalog()
    opportunity = catalog.opportunities["low-csat"]
    rubric = catalog.rubric_for(opportunity)
    events = long_threads(args.tickets, args.messages)
    requests = [
        DraftRequest(
            workflow_id=f"w{i}",
            opportunity=opportunity,
            rubric=rubric,
            event=EventRef.from_event(e),
        )
        for i, e in enumerate(events)
    ]
    warm = long_threads(50, args.messages, seed=3)
    for event in warm:
        req = DraftRequest(
            workflow_id="warm",
            opportunity=opportunity,
            rubric=rubric,
            event=EventRef.from_event(event),
        )
        draft(rubric, build_case(req, event.ticket, ()))

    stages = {"case (redaction, facts)": 0.0, "evidence and scoring": 0.0, "notes (Jinja2)": 0.0}
    for req, event in zip(requests, events, strict=True):
        t0 = time.perf_counter()
        case = build_case(req, event.ticket, ())
        t1 = time.perf_counter()
        drafted = draft(rubric, case)
        t2 = time.perf_counter()
        render_notes(drafted, rubric, opportunity, event.ticket.id, event.type)
        t3 = time.perf_counter()
        stages["case (redaction, facts)"] += t1 - t0
        stages["evidence and scoring"] += t2 - t1
        stages["notes (Jinja2)"] += t3 - t2
    full = sum(stages.values())
    rate = args.tickets / full
    print(
        f"drafting on one core: {args.tickets} tickets x {args.messages} messages, "
        f"rubric {rubric.ref} ({len(rubric.criteria)} criteria), every ticket's text unique"
    )
    print(f"{'stage':<28}{'ms/ticket':>12}")
    for name, seconds in [*stages.items(), ("full drafting", full)]:
        print(f"{name:<28}{1000 * seconds / args.tickets:>12.3f}")
    print(f"\ntickets drafted per second: {rate:,.0f}   (target >= 500)")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "drafting.json").write_text(
        json.dumps(
            {
                "tickets": args.tickets,
                "messages": args.messages,
                "rubric": rubric.ref,
                "tickets_per_second": round(rate, 1),
                "ms_per_ticket": {k: round(1000 * v / args.tickets, 4) for k, v in stages.items()},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
