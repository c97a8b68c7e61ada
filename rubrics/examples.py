"""A rubric version's own regression test: the labelled set its `examples.file` names (the
format `starter.py eval` reads, `rubrics.labelled`), drafted against this version whenever the
catalog loads. Each criterion must agree with the labels on its share of the cases labelled
pass or fail (`examples.criteria`, else `examples.min_agreement`, default all of them); so does
`coach` where the cases label it. The drafts are made offline, so criteria the language model
judges (and then `coach`) are held to no bar. A retired version is not drafted.

Problems: a criterion below its bar at the rubric's `examples` line (or its own line under
`examples.criteria`), then each disagreeing case at its line of the example file."""

from __future__ import annotations

from pathlib import Path

from domain.definitions import Rubric
from domain.yamlsource import Problem, YamlDocument, YamlError, load_yaml
from rubrics.agreement import COACH, Figures, Report, evaluate
from rubrics.folder_files import EXAMPLES, FileRefused
from rubrics.labelled import labelled, read_cases, redacted_case, stand_in

FILE = ("examples", "file")
SHOWN_BAD_LINES = 20


def _pct(share: float) -> str:
    return f"{share:.1%}".replace(".0%", "%")


def _unheld(rubric: Rubric) -> set[str]:
    llm = {c.id for c in rubric.criteria if c.check.kind == "llm"}
    return llm | {COACH} if llm else set()


def _declaration(rubric: Rubric, doc: YamlDocument) -> list[Problem]:
    assert rubric.examples is not None
    unheld, out = _unheld(rubric), []
    for cid in rubric.examples.criteria:
        loc, field = ("examples", "criteria", cid), f"examples.criteria.{cid}"
        if cid != COACH and rubric.criterion(cid) is None:
            out.append(doc.problem(loc, f"{field}: not a criterion of {rubric.ref}"))
        elif cid in unheld:
            message = "the language model judges it, and the examples are drafted without one"
            out.append(doc.problem(loc, f"{field}: {message}"))
    return out


def _read(rubric: Rubric, doc: YamlDocument) -> tuple[str, str]:
    """The example file's path as the catalog shows paths, and its text; or FileRefused
    with the path as written."""
    assert rubric.examples is not None
    relative = rubric.examples.file
    folder = Path(doc.path).parent
    root = folder.resolve()
    try:
        path, text = EXAMPLES.read(root, relative)
    except FileRefused as exc:
        raise FileRefused(str(exc).format(repr(relative[:100]))) from None
    return str(folder / path.relative_to(root)), text


def _below_bars(
    rubric: Rubric, doc: YamlDocument, report: Report, shown: str, lines: dict[str, int]
) -> list[Problem]:
    assert rubric.examples is not None
    bars, unheld = rubric.examples.criteria, _unheld(rubric)
    figures: dict[str, Figures] = {
        c.id: report.criteria[c.id] for c in rubric.criteria if c.id in report.criteria
    }
    if report.coach is not None:
        figures[COACH] = report.coach
    known = {COACH, *(c.id for c in rubric.criteria)} - unheld
    out = [
        doc.problem(
            ("examples", "criteria", cid),
            f"examples.criteria.{cid}: no example labels it pass or fail",
        )
        for cid in bars
        if cid in known and cid not in figures
    ]
    for cid, f in figures.items():
        bar = bars.get(cid, rubric.examples.min_agreement)
        agreed = f.n - len(f.disagreements)
        if cid in unheld or agreed >= bar * f.n - 1e-9:
            continue
        loc = ("examples", "criteria", cid) if cid in bars else ("examples", "min_agreement")
        message = (
            f"examples: {cid} agrees on {agreed} of {f.n} examples ({_pct(agreed / f.n)}), "
            f"below the rubric's {_pct(bar)}"
        )
        out.append(doc.problem(loc, message))
        out += [
            Problem(
                shown,
                lines[p.case_id],
                f"{rubric.ref}: {cid} labelled {p.expected}, drafted {p.got}",
            )
            for p in f.disagreements
        ]
    return out


def example_problems(rubric: Rubric, doc: YamlDocument) -> list[Problem]:
    """Whatever keeps `rubric` (loaded from `doc`) from passing its own examples."""
    if rubric.examples is None or rubric.status == "retired":
        return []
    problems = _declaration(rubric, doc)
    try:
        shown, text = _read(rubric, doc)
    except FileRefused as exc:
        return [*problems, doc.problem(FILE, f"examples.file: {exc}")]
    cases, bad = read_cases(text, shown, lambda event: (stand_in(event, rubric), rubric))
    written = repr(rubric.examples.file[:100])
    if bad:
        summary = f"examples.file: {len(bad)} bad line(s) in {written}; nothing drafted"
        return [*problems, *bad[:SHOWN_BAD_LINES], doc.problem(FILE, summary)]
    if not cases:
        return [*problems, doc.problem(FILE, f"examples.file: no labelled cases in {written}")]
    report = evaluate(labelled(c, redacted_case(c)) for c in cases)
    lines = {c.where: c.line for c in cases}
    return [*problems, *_below_bars(rubric, doc, report, shown, lines)]


def rubric_file_problems(path: Path, shown: str, rubric: Rubric) -> list[Problem]:
    """`example_problems` of the rubric loaded from `path` (shown as `shown`)."""
    if rubric.examples is None:
        return []
    try:
        doc = load_yaml(path, shown)
    except YamlError as exc:
        return exc.problems
    return example_problems(rubric, doc)
