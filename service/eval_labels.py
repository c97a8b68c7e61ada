"""`starter.py eval`'s labelled set (`rubrics.labelled`): each case drafted against the rubric
of the opportunity that takes it, or the one named, with the language model's verdicts when
the rubric has `llm` criteria and an endpoint is configured."""

from __future__ import annotations

from pathlib import Path

from activities.drafting import with_llm_verdicts
from activities.llm_client import LlmClient
from domain.definitions import Opportunity, Rubric
from domain.errors import FieldError
from domain.events import TicketEvent
from intake.errors import IntakeError
from opportunities.catalog import Catalog
from opportunities.matcher import match_event
from rubrics.agreement import Labelled
from rubrics.labelled import Prepared, labelled, read_cases, redacted_case, stand_in

TAKEN = ("matched", "not_sampled")
SHOWN_PROBLEMS = 50


class LabelsRefused(ValueError):
    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def _request(
    event: TicketEvent, catalog: Catalog, rubric: Rubric | None
) -> tuple[Opportunity, Rubric]:
    taken = next((m for m in match_event(event, catalog) if m.outcome in TAKEN), None)
    if taken is not None:
        opportunity = catalog.opportunities[taken.opportunity_id]
        return opportunity, rubric or catalog.rubric_for(opportunity)
    if rubric is None:
        raise IntakeError(
            [FieldError((), "no opportunity takes this event; name a rubric with --rubric")]
        )
    return stand_in(event, rubric), rubric


def read_labelled(path: Path, catalog: Catalog, rubric: Rubric | None) -> list[Prepared]:
    """Every case of the file, its draft request resolved; LabelsRefused lists every bad line."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise LabelsRefused([f"{path}: not UTF-8 text"]) from None
    cases, bad = read_cases(text, str(path), lambda event: _request(event, catalog, rubric))
    if bad:
        shown = [str(p) for p in bad[:SHOWN_PROBLEMS]]
        if len(bad) > SHOWN_PROBLEMS:
            shown.append(f"… and {len(bad) - SHOWN_PROBLEMS} more")
        raise LabelsRefused([*shown, f"{path}: {len(bad)} bad line(s); nothing evaluated"])
    if not cases:
        raise LabelsRefused([f"{path}: no labelled cases"])
    return cases


async def drafted(cases: list[Prepared], llm: LlmClient | None) -> list[Labelled]:
    """Each case drafted as the workflow drafts it, against its labels."""
    out = []
    for case in cases:
        built = await with_llm_verdicts(llm, case.request.rubric, redacted_case(case))
        out.append(labelled(case, built))
    return out
