"""A labelled set: JSON Lines, each a canonical event (domain.events) with `labels`
({criterion: pass | fail | na}) and optionally `cause` ({criterion: cause}, for a criterion
labelled fail) and `coach` (true | false). `starter.py eval` reads one, and so does the catalog
for a rubric's own examples (`rubrics.examples`). Each case is drafted as the workflow drafts
it (`activities.drafting`): the redacted case, the language model's verdicts where the caller
has a model, then the pure scoring. A bad line is refused with its place and field, never its
values."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, get_args

from activities.drafting import build_case
from domain.coaching import DraftRequest, EventRef
from domain.definitions import Cause, Opportunity, Rubric
from domain.errors import FieldError
from domain.events import TicketEvent
from domain.yamlsource import Problem
from intake.errors import IntakeError
from intake.generic import parse_event
from rubrics.agreement import COACH, VERDICTS, Labelled, Said, said
from rubrics.case import Case
from rubrics.scoring import EvidenceMismatch, draft

CAUSES: tuple[str, ...] = get_args(Cause)
LABEL_KEYS = ("labels", "cause", "coach")
Resolve = Callable[[TicketEvent], tuple[Opportunity, Rubric]]


@dataclass(frozen=True)
class Prepared:
    where: str
    line: int
    request: DraftRequest
    event: TicketEvent
    expected: Said


def _mapping(
    record: dict, key: str, allowed: tuple[str, ...], wanted: str, errors: list[FieldError]
) -> dict[str, str]:
    value = record.get(key, {})
    if not isinstance(value, dict):
        errors.append(FieldError((key,), f"must be an object of criterion: {wanted}"))
        return {}
    bad = [k for k, v in value.items() if v not in allowed]
    errors += [FieldError((key, k), f"must be {wanted}") for k in bad]
    return {k: v for k, v in value.items() if k not in bad}


def _expected(record: dict, errors: list[FieldError]) -> Said:
    if "labels" not in record:
        errors.append(FieldError(("labels",), "required field is missing"))
    labels = _mapping(record, "labels", VERDICTS, "pass, fail or na", errors)
    causes = _mapping(record, "cause", CAUSES, " | ".join(CAUSES), errors)
    if isinstance(record.get("labels"), dict):
        message = "a cause goes with a criterion labelled fail"
        errors += [FieldError(("cause", c), message) for c in causes if labels.get(c) != "fail"]
    coach = record.get("coach")
    if coach is not None and not isinstance(coach, bool):
        errors.append(FieldError(("coach",), "must be true or false"))
    verdicts = dict(labels)
    if isinstance(coach, bool):
        verdicts[COACH] = "fail" if coach else "pass"
    return Said(verdicts, causes)


def stand_in(event: TicketEvent, rubric: Rubric) -> Opportunity:
    """An opportunity that takes `event` and scores it against `rubric`."""
    return Opportunity(id="eval", name="Evaluation", version=1, on=[event.type], rubric=rubric.ref)


def _prepared(where: str, line: int, record: Any, resolve: Resolve) -> Prepared:
    if not isinstance(record, dict):
        raise IntakeError([FieldError((), "a labelled case is a JSON object")])
    errors: list[FieldError] = []
    expected = _expected(record, errors)
    try:
        event = parse_event({k: v for k, v in record.items() if k not in LABEL_KEYS})
        opportunity, used = resolve(event)
    except IntakeError as exc:
        raise IntakeError([*exc.errors, *errors]) from None
    criteria = {c.id for c in used.criteria}
    unknown = [c for c in expected.verdicts if c != COACH and c not in criteria]
    errors += [FieldError(("labels", c), f"not a criterion of {used.ref}") for c in unknown]
    if errors:
        raise IntakeError(errors)
    request = DraftRequest(
        workflow_id=f"eval/{where}",
        opportunity=opportunity,
        rubric=used,
        event=EventRef.from_event(event),
    )
    return Prepared(where, line, request, event, expected)


def _records(text: str) -> list[tuple[int, Any]]:
    out: list[tuple[int, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append((number, json.loads(line)))
        except json.JSONDecodeError as exc:
            out.append((number, IntakeError([FieldError((), f"invalid JSON: {exc.msg}")])))
    return out


def read_cases(text: str, shown: str, resolve: Resolve) -> tuple[list[Prepared], list[Problem]]:
    """Every case of the set `shown` (as `shown:line`), its draft request from `resolve`; and a
    problem for each bad line."""
    cases, problems = [], []
    for line, record in _records(text):
        try:
            if isinstance(record, IntakeError):
                raise record
            cases.append(_prepared(f"{shown}:{line}", line, record, resolve))
        except IntakeError as exc:
            problems.append(Problem(shown, line, str(exc)))
    return cases, problems


def redacted_case(case: Prepared) -> Case:
    return build_case(case.request, case.event.ticket, ())


def labelled(case: Prepared, built: Case) -> Labelled:
    """The case's labels against its draft. A draft the workflow would stop before scoring, or
    reject, says nothing of any criterion."""
    try:
        results = draft(case.request.rubric, built).results
    except EvidenceMismatch:
        results = []
    return Labelled(case.where, case.request.rubric.ref, case.expected, said(results))
