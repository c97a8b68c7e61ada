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
from redaction import redact_ticket_with_maps
from rubrics.notes import render_notes
from rubrics.scoring import draft

RESULTS = Path(__file__).resolve().parent / "results"


def long_threads(count: int, messages: int, seed: int = 11) -> list[TicketEvent]:
    """Demo conversations stretched to `messages` messages by reusing real bodies."""
    rng = random.Random(seed)
    pool = [TicketEvent.model_validate(e) for e in generate(seed=seed, count=100)]
    bodies = [m for e in pool for m in e.ticket.messages]
    out = []
    for i in range(count):
        base = pool[i % len(pool)]
        thread = list(base.ticket.messages)
        while len(thread) < messages:
            extra = rng.choice(bodies)
            thread.append(extra.model_copy(update={"id": f"x{len(thread)}"}))
        ticket = base.ticket.model_copy(update={"id": f"b{i}", "messages": thread[:messages]})
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
    for req, event in zip(requests[:50], events[:50], strict=True):
        draft(rubric, build_case(req, event.ticket, ()))

    stages = {"redaction": 0.0, "case+evidence+scoring": 0.0, "notes": 0.0}
    started = time.perf_counter()
    for req, event in zip(requests, events, strict=True):
        t0 = time.perf_counter()
        redact_ticket_with_maps(event.ticket)
        t1 = time.perf_counter()
        drafted = draft(rubric, build_case(req, event.ticket, ()))
        t2 = time.perf_counter()
        render_notes(drafted, rubric, opportunity, event.ticket.id, event.type)
        t3 = time.perf_counter()
        stages["redaction"] += t1 - t0
        stages["case+evidence+scoring"] += t2 - t1
        stages["notes"] += t3 - t2
    elapsed = time.perf_counter() - started
    redaction_alone = stages["redaction"]
    full = elapsed - redaction_alone
    rate = args.tickets / full
    print(
        f"drafting on one core: {args.tickets} tickets x {args.messages} messages, "
        f"rubric {rubric.ref} ({len(rubric.criteria)} criteria)"
    )
    rows = [("redaction (inside case)", redaction_alone),
            ("case+evidence+scoring", stages["case+evidence+scoring"]),
            ("notes (Jinja2)", stages["notes"]), ("full drafting", full)]
    print(f"{'stage':<28}{'ms/ticket':>12}")
    for name, seconds in rows:
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
