"""Draft against reviewers on real conversations, and the reviewers against each other.

    python bench/agreement.py --dataset PATH/dev.json [--split tune|holdout|all] [--show N]

PATH is the fetched github:IBM/twitter-customer-care-document-prediction (its dev.json only).
The labels, keyed by conversation id, are bench/labels/twitter-dev.jsonl: two reviewers who
labelled blind, and their consensus (a third reviewer settled their disagreements). `coach` is
"would a fair lead give a coaching point on this reply": for a reviewer their own answer, for
the draft any criterion failed on the agent's behaviour.

Prints per criterion n, agreement and Cohen's kappa, and writes bench/results/agreement.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from activities.drafting import build_case
from bench import twitter_care
from domain.coaching import DraftRequest, EventRef
from opportunities.catalog import load_catalog
from rubrics.agreement import COACH, Figures, compare, draft_verdicts
from rubrics.scoring import draft

HERE = Path(__file__).resolve().parent
LABELS = HERE / "labels" / "twitter-dev.jsonl"
RESULTS = HERE / "results"


def reference_seconds() -> float:
    start = time.perf_counter()
    for _ in range(10_000_000):
        pass
    return time.perf_counter() - start


def _verdicts(row: dict, who: str) -> dict[str, str]:
    labels = dict(row[who])
    coach = labels.pop(COACH, None)
    if coach is not None:
        labels[COACH] = "fail" if coach in (True, "fail") else "pass"
    return labels


def _table(title: str, figures: dict[str, Figures], ceiling: dict[str, Figures] | None) -> list:
    print(f"\n{title}")
    print(f"{'criterion':26} {'n':>4} {'agree':>7} {'kappa':>7}   reviewers: agree  kappa")
    rows = []
    for cid, f in sorted(figures.items(), key=lambda kv: (kv[0] == COACH, kv[0])):
        c = (ceiling or {}).get(cid)
        row = f.as_dict()
        rows.append(row)
        k = "-" if f.kappa is None else f"{f.kappa:.2f}"
        extra = ""
        if c is not None:
            ck = "-" if c.kappa is None else f"{c.kappa:.2f}"
            extra = f"   {c.agreement:>16.1%} {ck:>6}"
        print(f"{cid:26} {f.n:>4} {f.agreement:>7.1%} {k:>7}{extra}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, required=True, help="the fetched dev.json")
    parser.add_argument("--split", choices=("tune", "holdout", "all"), default="all")
    parser.add_argument("--rubric", default="support-core")
    parser.add_argument("--show", type=int, default=0, help="print N disagreements per criterion")
    args = parser.parse_args()

    rows = [json.loads(line) for line in LABELS.read_text("utf-8").splitlines() if line.strip()]
    if args.split != "all":
        rows = [r for r in rows if r["split"] == args.split]
    conversations = twitter_care.load(args.dataset)
    missing = [r["id"] for r in rows if r["id"] not in conversations]
    if missing:
        sys.exit(f"{len(missing)} labelled conversations are not in {args.dataset.name}")
    catalog = load_catalog()
    rubric = max(
        (r for r in catalog.rubrics.values() if r.id == args.rubric and r.status == "approved"),
        key=lambda r: r.version,
    )

    reference = reference_seconds()
    drafted, quotes = {}, {}
    started = time.perf_counter()
    for row in rows:
        event = twitter_care.to_event(conversations[row["id"]])
        req = DraftRequest(
            workflow_id="bench",
            opportunity=catalog.opportunities["weekly-qa-sample"],
            rubric=rubric,
            event=EventRef.from_event(event),
        )
        result = draft(rubric, build_case(req, event.ticket, ()))
        drafted[row["id"]], quotes[row["id"]] = draft_verdicts(result.results)
    elapsed = time.perf_counter() - started

    consensus = {r["id"]: _verdicts(r, "consensus") for r in rows}
    reviewers = compare(
        {r["id"]: _verdicts(r, "reviewer_a") for r in rows},
        {r["id"]: _verdicts(r, "reviewer_b") for r in rows},
    )
    figures = compare(consensus, drafted, quotes)
    print(f"rubric {rubric.id}@{rubric.version}, {len(rows)} conversations ({args.split})")
    table = _table("draft against the reviewers' consensus", figures, reviewers)
    for f in figures.values():
        for p in f.disagreements[: args.show]:
            print(
                f"  {f.criterion_id} {p.case_id}: expected {p.expected}, got {p.got}: {p.quote!r}"
            )
    per_case = elapsed / max(1, len(rows))
    print(
        f"\ndrafting {per_case * 1000:.2f} ms per conversation; reference loop {reference:.3f} s;"
    )
    print(f"normalised {per_case / reference:.5f} reference loops per conversation")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "agreement.json").write_text(
        json.dumps(
            {
                "rubric": f"{rubric.id}@{rubric.version}",
                "split": args.split,
                "conversations": len(rows),
                "draft": table,
                "reviewers": [f.as_dict() | {"disagreements": []} for f in reviewers.values()],
                "reference_seconds": reference,
                "seconds_per_conversation": per_case,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
