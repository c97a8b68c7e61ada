"""Intake and match on one core: the generic adapter's parsing and validation of the request
body (as `POST /events` does it), CEL matching against the bundled opportunities, next to the
raw CEL evaluation rate measured in the same run.

    python bench/intake_match.py [--events 20000]

Prints a table and writes bench/results/intake.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import cel

from domain.context import event_context
from examples.demo_tickets import generate
from intake.generic import parse_event_body
from opportunities.catalog import load_catalog
from opportunities.matcher import match_event

RESULTS = Path(__file__).resolve().parent / "results"


def payloads(count: int) -> list[bytes]:
    """Demo events as the wire carries them, each with its own id and ticket."""
    base = generate(count=100)
    out = []
    for i in range(count):
        event = dict(base[i % len(base)])
        event["event_id"] = f"bench-{i}"
        event["ticket"] = {**event["ticket"], "id": f"b{i}"}
        out.append(json.dumps(event).encode())
    return out


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds else float("inf")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    catalog = load_catalog()
    wire = payloads(args.events)
    events = [parse_event_body(p) for p in wire]
    condition = catalog.conditions["low-csat"]
    contexts = [cel.Context(event_context(e)) for e in events[:2000]]

    results: dict[str, list[float]] = {
        "parse + validate": [],
        "parse + validate + match": [],
        "CEL evaluation (one condition)": [],
    }
    for _ in range(args.rounds):
        started = time.perf_counter()
        for payload in wire:
            parse_event_body(payload)
        results["parse + validate"].append(rate(len(wire), time.perf_counter() - started))

        started = time.perf_counter()
        matched = 0
        for payload in wire:
            matched += sum(m.matched for m in match_event(parse_event_body(payload), catalog))
        results["parse + validate + match"].append(rate(len(wire), time.perf_counter() - started))

        started = time.perf_counter()
        for _ in range(5):
            for context in contexts:
                condition.evaluate(context)
        results["CEL evaluation (one condition)"].append(
            rate(5 * len(contexts), time.perf_counter() - started)
        )

    print(
        f"intake and match on one core: {args.events} events, {args.rounds} rounds, "
        f"{len(catalog.opportunities)} opportunities"
    )
    print(f"{'stage':<34}{'median / s':>14}{'range':>22}")
    summary = {}
    for name, rates in results.items():
        median = statistics.median(rates)
        summary[name] = {
            "median": round(median),
            "min": round(min(rates)),
            "max": round(max(rates)),
        }
        print(f"{name:<34}{median:>14,.0f}{f'{min(rates):,.0f} to {max(rates):,.0f}':>22}")
    print(
        f"\nevents through intake and matching per second: "
        f"{summary['parse + validate + match']['median']:,}   (target >= 20,000)"
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "intake.json").write_text(
        json.dumps({"events": args.events, "rounds": args.rounds, "per_second": summary}, indent=2)
    )


if __name__ == "__main__":
    main()
