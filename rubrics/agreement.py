"""How far two sets of verdicts agree: per criterion, the share that match, Cohen's kappa and
the pass/fail confusion. Used for draft against reviewer, reviewer against reviewer, and draft
against a lead's final decision. Pure: the callers read the labels and draft the cases."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from domain.assessment import CriterionStatus

Verdict = Literal["pass", "fail", "na"]
VERDICTS: tuple[Verdict, ...] = ("pass", "fail", "na")
COACH = "coach"
AGENT = "agent_behavior"
_FROM_STATUS: dict[str, Verdict] = {"passed": "pass", "failed": "fail"}


def verdict_of(status: CriterionStatus | str) -> Verdict:
    """A draft's status as a reviewer's verdict: anything not scored either way is `na`."""
    return _FROM_STATUS.get(status, "na")


@dataclass(frozen=True)
class Pair:
    case_id: str
    expected: str
    got: str
    quote: str = ""
    metric: str = ""


@dataclass
class Figures:
    """The pairs of one criterion where the expected verdict is pass or fail."""

    criterion_id: str
    pairs: list[Pair] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.pairs)

    @property
    def agreement(self) -> float | None:
        if not self.pairs:
            return None
        return sum(p.expected == p.got for p in self.pairs) / self.n

    @property
    def kappa(self) -> float | None:
        return cohen_kappa([(p.expected, p.got) for p in self.pairs])

    @property
    def confusion(self) -> dict[str, dict[str, int]]:
        """expected -> got -> count."""
        table = {e: dict.fromkeys(VERDICTS, 0) for e in ("pass", "fail")}
        for p in self.pairs:
            table[p.expected][p.got] += 1
        return table

    @property
    def disagreements(self) -> list[Pair]:
        return [p for p in self.pairs if p.expected != p.got]

    def as_dict(self) -> dict:
        return {
            "criterion_id": self.criterion_id,
            "n": self.n,
            "agreement": _round(self.agreement),
            "kappa": _round(self.kappa),
            "confusion": self.confusion,
            "disagreements": [_disagreement(p) for p in self.disagreements],
        }


class CauseFigures(Figures):
    """The causes given to one criterion where both sides failed it."""

    @property
    def confusion(self) -> dict[str, dict[str, int]]:
        seen = sorted({p.expected for p in self.pairs} | {p.got for p in self.pairs})
        table = {e: dict.fromkeys(seen, 0) for e in sorted({p.expected for p in self.pairs})}
        for p in self.pairs:
            table[p.expected][p.got] += 1
        return table


def _disagreement(p: Pair) -> dict[str, str]:
    out = {"case": p.case_id, "expected": p.expected, "got": p.got, "quote": p.quote}
    if p.metric:
        out["metric"] = p.metric
    return out


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def cohen_kappa(pairs: Iterable[tuple[str, str]]) -> float | None:
    """Cohen's kappa; None when there is nothing to compare or chance agreement is total
    (every verdict on both sides the same), where kappa is undefined."""
    pairs = list(pairs)
    if not pairs:
        return None
    n = len(pairs)
    observed = sum(a == b for a, b in pairs) / n
    left, right = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    chance = sum(left[k] * right[k] for k in left) / (n * n)
    if chance >= 1:
        return None
    return (observed - chance) / (1 - chance)


def compare(
    expected: Mapping[str, Mapping[str, str]],
    got: Mapping[str, Mapping[str, str]],
    quotes: Mapping[str, Mapping[str, str]] | None = None,
) -> dict[str, Figures]:
    """Per criterion, over the cases both sides hold (in the order of `expected`), where the
    expected verdict is pass or fail. `expected` and `got` map case id -> criterion id ->
    verdict."""
    out: dict[str, Figures] = {}
    for case_id in expected:
        if case_id not in got:
            continue
        for criterion_id, verdict in expected[case_id].items():
            if verdict not in ("pass", "fail"):
                continue
            other = got[case_id].get(criterion_id, "na")
            quote = ((quotes or {}).get(case_id) or {}).get(criterion_id, "")
            figures = out.setdefault(criterion_id, Figures(criterion_id))
            figures.pairs.append(Pair(case_id, verdict, other, quote))
    return out


# --- one side's word on a case ------------------------------------------------------------


@dataclass(frozen=True)
class Said:
    """Verdicts per criterion (and `coach`: a failure on the agent's own behaviour), the cause
    of each failure, and the evidence each criterion cites: a verbatim quote, or a metric."""

    verdicts: dict[str, str]
    causes: dict[str, str] = field(default_factory=dict)
    quotes: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, str] = field(default_factory=dict)


def _get(item: Any, name: str) -> Any:
    """A field of a result or evidence item, drafted (a model) or stored (a dict)."""
    return item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)


def _metric(item: Any) -> str:
    value, threshold, bound = _get(item, "value"), _get(item, "threshold"), _get(item, "bound")
    shown = "unknown" if value is None else f"{value:g}"
    limit = f" ({bound or 'limit'} {threshold:g})" if threshold is not None else ""
    return f"{_get(item, 'metric')} {shown}{limit}"


def said(results: Iterable[Any]) -> Said:
    """A draft's (or a decided assessment's) criterion results as verdicts and causes, with
    the first quote or metric each cites; `coach` cites the first failure on the agent."""
    verdicts: dict[str, str] = {}
    causes: dict[str, str] = {}
    quotes: dict[str, str] = {}
    metrics: dict[str, str] = {}
    for r in results:
        cid = _get(r, "criterion_id")
        verdicts[cid] = verdict_of(_get(r, "status"))
        if verdicts[cid] == "fail":
            causes[cid] = _get(r, "cause") or AGENT
        evidence = _get(r, "evidence") or []
        quote = next((_get(e, "quote") for e in evidence if _get(e, "quote")), "")
        if quote:
            quotes[cid] = quote
        elif any(_get(e, "kind") == "metric" for e in evidence):
            metrics[cid] = _metric(next(e for e in evidence if _get(e, "kind") == "metric"))
    return _with_coach(Said(verdicts, causes, quotes, metrics))


def _with_coach(side: Said) -> Said:
    coached = [c for c, v in side.verdicts.items() if v == "fail" and side.causes.get(c) == AGENT]
    verdicts = {**side.verdicts, COACH: "fail" if coached else "pass"}
    quotes, metrics = dict(side.quotes), dict(side.metrics)
    if coached and coached[0] in quotes:
        quotes[COACH] = quotes[coached[0]]
    elif coached and coached[0] in metrics:
        metrics[COACH] = metrics[coached[0]]
    return Said(verdicts, side.causes, quotes, metrics)


def draft_verdicts(results: Iterable) -> tuple[dict[str, Verdict], dict[str, str]]:
    """A draft's criterion results as verdicts, with the first quote each one cites, and the
    `coach` verdict: any criterion failed on the agent's own behaviour."""
    side = said(results)
    return side.verdicts, side.quotes  # type: ignore[return-value]


def _drafted_verdict(before: Any, result: Any) -> str:
    """What the draft said of a criterion whose score the lead changed, from the drafted
    score: the weight is a pass; 0 with no confidence is not scored (every unscored criterion
    is drafted so), any other score a failure."""
    score = float(before or 0)
    if score >= float(_get(result, "weight")):
        return "pass"
    if score == 0 and not _get(result, "confidence"):
        return "na"
    return "fail"


def decided(results: Iterable[Any], changes: Iterable[Mapping[str, Any]]) -> tuple[Said, Said]:
    """The lead's word and the draft's on a decided assessment: `results` as the decision left
    them, `changes` the override's diff (none for an approval). The draft's evidence for a
    verdict the lead turned is gone from the results, so it cites nothing there."""
    results = list(results)
    lead = said(results)
    before = {(c["criterion_id"], c["field"]): c.get("before") for c in changes}
    verdicts, causes = dict(lead.verdicts), dict(lead.causes)
    for r in results:
        cid = _get(r, "criterion_id")
        if (cid, "score") in before:
            verdicts[cid] = _drafted_verdict(before[cid, "score"], r)
        if verdicts[cid] == "fail":
            causes[cid] = before.get((cid, "cause")) or _get(r, "cause") or AGENT
        else:
            causes.pop(cid, None)
    del verdicts[COACH]
    draft = _with_coach(Said(verdicts, causes, lead.quotes, lead.metrics))
    return lead, draft


# --- a labelled set against its drafts --------------------------------------------------------


@dataclass(frozen=True)
class Labelled:
    """One case: the labels (`expected`; its causes only for failures) against the draft."""

    case_id: str
    rubric: str
    expected: Said
    got: Said


@dataclass
class Report:
    cases: int = 0
    rubrics: dict[str, int] = field(default_factory=dict)
    criteria: dict[str, Figures] = field(default_factory=dict)
    coach: Figures | None = None
    causes: dict[str, CauseFigures] = field(default_factory=dict)
    by_rubric: dict[str, dict[str, Figures]] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "cases": self.cases,
            "rubrics": self.rubrics,
            "criteria": [f.as_dict() for f in self.criteria.values()],
            "coach": self.coach.as_dict() if self.coach else None,
            "causes": [f.as_dict() for f in self.causes.values()],
            "by_rubric_version": {
                ref: [f.as_dict() for f in figures.values()]
                for ref, figures in self.by_rubric.items()
            },
        }


def _add(into: dict, key: str, pair: Pair, kind: type[Figures] = Figures) -> None:
    into.setdefault(key, kind(key)).pairs.append(pair)


def evaluate(cases: Iterable[Labelled]) -> Report:
    """Per criterion and per rubric version, the labels against the drafts over the criteria
    labelled pass or fail; `coach` where the labels say; and the causes of the criteria both
    sides failed, where the labels give one."""
    report = Report()
    coach: dict[str, Figures] = {}
    for case in cases:
        report.cases += 1
        report.rubrics[case.rubric] = report.rubrics.get(case.rubric, 0) + 1
        by_rubric = report.by_rubric.setdefault(case.rubric, {})
        got = case.got
        for cid, verdict in case.expected.verdicts.items():
            if verdict not in ("pass", "fail"):
                continue
            answer = got.verdicts.get(cid, "na")
            pair = Pair(case.case_id, verdict, answer, got.quotes.get(cid, ""), _m(got, cid))
            if cid == COACH:
                _add(coach, COACH, pair)
                continue
            _add(report.criteria, cid, pair)
            _add(by_rubric, cid, pair)
            cause = case.expected.causes.get(cid)
            if verdict == answer == "fail" and cause:
                pair = Pair(
                    case.case_id, cause, got.causes.get(cid, AGENT), pair.quote, pair.metric
                )
                _add(report.causes, cid, pair, CauseFigures)
    report.coach = coach.get(COACH)
    return report


def _m(side: Said, cid: str) -> str:
    return "" if side.quotes.get(cid) else side.metrics.get(cid, "")
