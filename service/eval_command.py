"""`starter.py eval`: how far the drafts agree with labels, per criterion (n, agreement,
Cohen's kappa, the pass/fail confusion and every disagreement with the evidence the draft
cited) and for any coaching point at all; the causes too, where the labels give them. The
labels are a labelled set (`service.eval_labels`), or with `--from-decisions` the leads' final
decisions in the store (`store.decision_labels`)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from activities.llm_client import LlmClient
from rubrics.agreement import COACH, Report, evaluate
from service.eval_labels import LabelsRefused, drafted, read_labelled
from service.metrics_command import window_line
from service.render import table
from service.runtime import catalog_for, open_store
from service.settings import Settings
from service.updates import CommandError
from store.decision_labels import decision_labels

CONFUSION = "label pass → draft pass/fail/na, label fail → draft pass/fail/na"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _kappa(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _cells(confusion: dict[str, dict[str, int]]) -> list[str]:
    return [
        "/".join(str(confusion[e][g]) for g in ("pass", "fail", "na")) for e in ("pass", "fail")
    ]


def _figures_table(rows: list[dict]) -> str:
    return table(
        ["criterion", "n", "agreement", "kappa", "pass → p/f/na", "fail → p/f/na"],
        [
            [
                r["criterion_id"],
                str(r["n"]),
                _pct(r["agreement"]),
                _kappa(r["kappa"]),
                *_cells(r["confusion"]),
            ]
            for r in rows
        ],
    )


def _evidence(d: dict) -> str:
    if d.get("quote"):
        return ": " + json.dumps(d["quote"], ensure_ascii=False)
    return f": {d['metric']}" if d.get("metric") else ""


def _disagreements(rows: list[dict], what: str) -> list[str]:
    lines = [
        f"  {r['criterion_id']}  {d['case']}: labelled {d['expected']}, drafted {d['got']}"
        + _evidence(d)
        for r in rows
        for d in r["disagreements"]
    ]
    return ["", f"{what}:", *lines] if lines else ["", f"{what}: none"]


def report_text(shown: dict[str, Any]) -> str:
    rows = [*shown["criteria"], *([shown["coach"]] if shown["coach"] else [])]
    lines = [
        "",
        "Labels against the draft, over the criteria labelled pass or fail; "
        f"`{COACH}`: any coaching point at all (fail: one was given).",
        f"Confusion: {CONFUSION}.",
        "",
        _figures_table(rows) if rows else "Nothing labelled pass or fail.",
        *_disagreements(rows, "Disagreements"),
    ]
    if shown["causes"]:
        causes = table(
            ["criterion", "n", "agreement", "kappa"],
            [
                [c["criterion_id"], str(c["n"]), _pct(c["agreement"]), _kappa(c["kappa"])]
                for c in shown["causes"]
            ],
        )
        lines += ["", "Causes, where both failed the criterion:", causes]
        lines += _disagreements(shown["causes"], "Cause disagreements")
    if len(shown["by_rubric_version"]) > 1:
        for ref, figures in shown["by_rubric_version"].items():
            cases = shown["rubrics"][ref]
            lines += ["", f"{ref} ({cases} cases):", _figures_table(figures)]
    return "\n".join(lines)


def _print(shown: dict[str, Any], head: list[str], as_json: bool) -> None:
    if as_json:
        print(json.dumps(shown, indent=2, default=str))
    else:
        print("\n".join([*head, report_text(shown)]))


def eval_file(settings: Settings, path: Path, rubric_ref: str | None, as_json: bool) -> int:
    if not path.is_file():
        raise CommandError(f"{path}: no such file", 2)
    catalog = catalog_for(settings)
    if [p for p in catalog.problems if p not in catalog.example_problems]:
        raise CommandError("the definitions have problems; run `starter.py check`")
    try:
        rubric = catalog.approved_rubric(rubric_ref) if rubric_ref else None
        cases = read_labelled(path, catalog, rubric)
    except LookupError as exc:
        raise CommandError(f"--rubric: {exc}", 2) from None
    except LabelsRefused as exc:
        raise CommandError(str(exc), 2) from None
    llm = LlmClient.from_env()
    unscored = {c.request.rubric.ref for c in cases if _has_llm(c.request.rubric)}
    if unscored and llm is None:
        print(
            f"note: {', '.join(sorted(unscored))} has llm criteria and no language model is "
            "configured (COACHFLOW_LLM_BASE_URL): the draft does not score them",
            file=sys.stderr,
        )
    report = evaluate(asyncio.run(drafted(cases, llm)))
    shown = {"file": str(path), **report.as_dict()}
    head = [f"{report.cases} labelled cases from {path}", f"Rubric versions: {_versions(report)}"]
    _print(shown, head, as_json)
    return 0


def _versions(report: Report) -> str:
    return ", ".join(f"{ref} ({n})" for ref, n in report.rubrics.items()) or "none"


def _has_llm(rubric: Any) -> bool:
    return any(c.check.kind == "llm" for c in rubric.criteria)


async def eval_decisions(
    settings: Settings, since: datetime | None, until: datetime | None, as_json: bool
) -> int:
    async with open_store(settings) as sessions, sessions() as session:
        labels = await decision_labels(session, since, until)
    report: Report = evaluate(labels.cases)
    shown = {
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "approved": labels.approved,
        "overridden": labels.overridden,
        "dismissed": labels.dismissed,
        **report.as_dict(),
    }
    head = [
        window_line(since, until),
        f"The leads' decisions as labels: {report.cases} (approved {labels.approved}, "
        f"overridden {labels.overridden}); dismissed {labels.dismissed}, left out",
        f"Rubric versions: {_versions(report)}",
    ]
    _print(shown, head, as_json)
    return 0


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.from_decisions:
        if args.file is not None:
            raise CommandError("eval: a labelled FILE or --from-decisions, not both", 2)
        if args.rubric:
            raise CommandError("--rubric: only with a labelled FILE", 2)
        if args.since and args.until and args.until < args.since:
            raise CommandError("--until: must not be before --since", 2)
        return asyncio.run(eval_decisions(settings, args.since, args.until, args.json))
    if args.file is None:
        raise CommandError("eval: give a labelled FILE, or --from-decisions", 2)
    if args.since or args.until:
        raise CommandError("--since, --until: only with --from-decisions", 2)
    return eval_file(settings, Path(args.file), args.rubric, args.json)


def add_eval_parser(sub: Any, date_type: Callable[[str], datetime]) -> None:
    p = sub.add_parser(
        "eval",
        help="measure a rubric: its drafts against a labelled set or the leads' decisions",
        description="The drafts against labels, per criterion: n, agreement, Cohen's kappa, "
        "the confusion and every disagreement with the evidence the draft cited; and for any "
        "coaching point at all.",
    )
    p.add_argument("file", nargs="?", metavar="FILE", help="a labelled set, JSON Lines")
    p.add_argument(
        "--rubric",
        metavar="ID@VERSION",
        help="draft against this approved rubric (default: the one the matching opportunity uses)",
    )
    p.add_argument(
        "--from-decisions",
        action="store_true",
        help="the leads' final decisions in the store as the labels",
    )
    p.add_argument("--since", type=date_type, metavar="DATE", help="decided from this date (UTC)")
    p.add_argument("--until", type=date_type, metavar="DATE", help="decided before this one")
    p.add_argument("--json", action="store_true", help="one JSON document")
    p.set_defaults(run=_run)
