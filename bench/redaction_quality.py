"""Redaction quality and speed: recall/precision on the labelled set and the demo corpus, and
microseconds per message. Run from the repository root:

    python bench/redaction_quality.py

Prints a table and writes the figures to bench/results/redaction.json.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "redaction.json"
LONGEST = 20
ROUNDS = 7
CALLS_PER_ROUND = 4000


def _timing_sample() -> tuple[list[tuple[str, list[str], list[str]]], int]:
    from domain.events import TicketEvent
    from examples.demo_tickets import generate
    from redaction import agent_names, customer_names

    sample = []
    for raw in generate():
        ticket = TicketEvent.model_validate(raw).ticket
        names, keep = customer_names(ticket), agent_names(ticket)
        sample += [(m.body, names, keep) for m in ticket.messages]
    return sample, len(sample)


def _microseconds_per_message(sample: list[tuple[str, list[str], list[str]]]) -> float:
    """Best of several rounds, so a busy machine does not inflate the figure."""
    from redaction import redact_text

    loops = max(1, CALLS_PER_ROUND // len(sample))
    best = float("inf")
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for _ in range(loops):
            for body, names, keep in sample:
                redact_text(body, names, keep=keep)
        best = min(best, (time.perf_counter() - started) / (loops * len(sample)))
    return best * 1e6


def measure() -> dict:
    from examples.demo_tickets import generate
    from redaction import redact_text
    from tests.redaction_cases import score_cases, score_demo

    labelled = score_cases(lambda text, names: redact_text(text, names))
    demo = score_demo(generate())
    messages, count = _timing_sample()
    longest = sorted(messages, key=lambda item: len(item[0]))[-LONGEST:]
    return {
        "labelled_set": _figures(labelled),
        "demo_corpus": _figures(demo),
        "speed": {
            "us_per_message_longest_20": round(_microseconds_per_message(longest), 1),
            "us_per_message_all_demo": round(_microseconds_per_message(messages), 1),
            "demo_messages": count,
            "longest_20_mean_chars": round(sum(len(m[0]) for m in longest) / LONGEST),
        },
    }


def _figures(score) -> dict:
    return {
        "recall": round(score.recall, 4),
        "precision": round(score.precision, 4),
        "planted": score.planted,
        "found": score.found,
        "spans": score.spans,
        "true_spans": score.true_spans,
        "misses": [list(m[:2]) for m in score.misses],
        "false_spans": [list(f) for f in score.false_spans],
    }


def render(results: dict) -> str:
    rows = [("set", "recall", "precision", "planted", "spans")]
    for key in ("labelled_set", "demo_corpus"):
        r = results[key]
        rows.append((key, f"{r['recall']:.3f}", f"{r['precision']:.3f}", r["planted"], r["spans"]))
    lines = [" ".join(f"{cell!s:<13}" for cell in row).rstrip() for row in rows]
    speed = results["speed"]
    lines.append("")
    lines.append(
        f"redact_text: {speed['us_per_message_longest_20']} µs/message over the {LONGEST} "
        f"longest demo bodies (~{speed['longest_20_mean_chars']} chars), "
        f"{speed['us_per_message_all_demo']} µs/message over all {speed['demo_messages']}"
    )
    for key in ("labelled_set", "demo_corpus"):
        for label, value in results[key]["false_spans"]:
            lines.append(f"  {key} false positive: {label} {value!r}")
        for label, value in results[key]["misses"]:
            lines.append(f"  {key} miss: {label} {value!r}")
    return "\n".join(lines)


def main() -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    results = measure()
    print(render(results))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
