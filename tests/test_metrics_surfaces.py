"""The metrics surfaces on the known history of tests/test_metrics.py: `GET /api/metrics` and
`GET /api/metrics/trends` give exactly what compute_metrics and trends give, for every slice
field, and refuse what they do not know; `/dashboard` and `/dashboard/trends` show the sliced
numbers and the weekly SVG; `starter.py metrics` prints the window, the slice and the numbers."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, update

from store.metrics import Metrics, MetricsSlice, compute_metrics, trends
from store.models import AssessmentRow, MeasurementEventRow
from tests.helpers import bearer
from tests.test_metrics import DAY, T0, build_history

ROOT = Path(__file__).resolve().parent.parent
# A value with records behind it for every slice field (a new field needs one here too).
SLICE_VALUES = {
    "agent": "a-2",
    "team": "tier1",
    "queue": "billing",
    "product_area": "api",
    "customer_segment": "enterprise",
    "opportunity": "weekly-qa-sample",
    "rubric_id": "support-core",
    "rubric_version": 2,
    "kb_article": "kb-101",
    "policy": "refund-policy",
}
# On top of the history, on assessments and their events: the KB article or policy they name,
# and another rubric for A11.
CHANGES = {
    "A3": {"policy": "refund-policy"},
    "A4": {"kb_article": "kb-101"},
    "A10": {"kb_article": "kb-101"},
    "A11": {"rubric_id": "support-lite", "rubric_version": 1},
}
TILE = re.compile(r'<span class="big">([^<]*)</span><span>([^<]*)</span>')
ROW = re.compile(r"<tr>\s*(.*?)</tr>", re.S)
CELL = re.compile(r"<td[^>]*>(.*?)</td>", re.S)


@pytest.fixture
async def history(sessions):
    await build_history(sessions)
    async with sessions() as session, session.begin():
        for name, values in CHANGES.items():
            query = select(AssessmentRow.id).where(AssessmentRow.event_id == f"e-{name}")
            assessment = (await session.execute(query)).scalar_one()
            await session.execute(
                update(AssessmentRow).where(AssessmentRow.id == assessment).values(**values)
            )
            await session.execute(
                update(MeasurementEventRow)
                .where(MeasurementEventRow.assessment_id == assessment)
                .values(**values)
            )
    return sessions


async def computed(sessions, **kwargs) -> Metrics:
    async with sessions() as session:
        return await compute_metrics(session, **kwargs)


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


async def test_every_slice_field_gives_what_compute_metrics_gives(http, tokens, history):
    assert set(SLICE_VALUES) == set(MetricsSlice.model_fields)
    lead = bearer(tokens["lee"])
    whole = (await http.get("/api/metrics", headers=lead)).json()
    assert whole == (await computed(history)).model_dump(mode="json")
    assert whole["drafted"] == 10
    since, until = T0 + 2 * DAY, T0 + 30 * DAY
    for name, value in SLICE_VALUES.items():
        chosen = MetricsSlice(**{name: value})
        got = await http.get("/api/metrics", params={name: value}, headers=lead)
        assert got.status_code == 200, (name, got.text)
        assert got.json() == (await computed(history, slice=chosen)).model_dump(mode="json")
        assert got.json() != whole, f"{name}={value} narrowed nothing"
        window = {name: value, "since": iso(since), "until": iso(until)}
        got = await http.get("/api/metrics", params=window, headers=lead)
        expected = await computed(history, since=since, until=until, slice=chosen)
        assert got.json() == expected.model_dump(mode="json"), name
    # Fields combine, and an admin reads them too.
    combined = {"team": "tier2", "rubric_version": 2, "kb_article": "kb-101"}
    got = await http.get("/api/metrics", params=combined, headers=bearer(tokens["ada"]))
    expected = await computed(history, slice=MetricsSlice(**combined))
    assert got.json() == expected.model_dump(mode="json")
    # A4 alone: stopped for its outdated article.
    assert (expected.drafted, expected.stopped, expected.process_issues) == (0, 1, 1)
    assert expected.documentation_gaps == {"kb-101": 1}


async def test_trends_over_http(http, tokens, history):
    lead = bearer(tokens["lee"])
    got = await http.get(
        "/api/metrics/trends", params={"by": "agent", "until": iso(T0 + 50 * DAY)}, headers=lead
    )
    assert got.status_code == 200, got.text
    body = got.json()
    assert [(r["week"], r["key"], r["count"]) for r in body["rows"]] == [
        ("2026-03-02", "a-1", 2),
        ("2026-03-02", "a-2", 1),
        ("2026-03-09", "a-1", 1),
        ("2026-03-09", "a-2", 1),
        ("2026-04-13", "a-1", 1),
    ]
    # Every week from the first row to the window's end, with rows or not.
    assert body["weeks"][0] == "2026-03-02" and body["weeks"][-1] == "2026-04-20"
    assert len(body["weeks"]) == 8 and body["since"] is None
    assert body["slice"] == MetricsSlice().model_dump()

    # `weeks` counts back from `until`: 2 weeks before Monday 16 March, 09:00 start on the 9th.
    params = {"by": "criterion", "weeks": 2, "until": iso(T0 + 14 * DAY), "team": "tier1"}
    body = (await http.get("/api/metrics/trends", params=params, headers=lead)).json()
    assert body["since"] == "2026-03-09T00:00:00Z" and body["weeks"] == ["2026-03-09", "2026-03-16"]
    async with history() as session:
        expected = await trends(
            session,
            "criterion",
            since=datetime.fromisoformat(body["since"]),
            until=T0 + 14 * DAY,
            slice=MetricsSlice(team="tier1"),
        )
    assert body["rows"] == [r.model_dump(mode="json") for r in expected]
    assert [(r["key"], r["count"]) for r in body["rows"]] == [("empathy", 1)]

    # Process gaps by the record they name, within a slice.
    body = (
        await http.get(
            "/api/metrics/trends", params={"by": "kb_article", "team": "tier2"}, headers=lead
        )
    ).json()
    assert [(r["week"], r["key"], r["count"]) for r in body["rows"]] == [
        ("2026-03-02", "kb-101", 1)
    ]
    assert body["slice"]["team"] == "tier2"


async def test_the_metrics_api_refuses_what_it_does_not_know(http, tokens, history):
    lead = bearer(tokens["lee"])

    async def refused(path: str, params: dict, field: str, headers=lead) -> None:
        got = await http.get(path, params=params, headers=headers)
        assert got.status_code == 422, (params, got.text)
        assert field in got.json()["detail"]["message"], got.json()

    for path in ("/api/metrics", "/api/metrics/trends"):
        by = {"by": "agent"} if path.endswith("trends") else {}
        await refused(path, {**by, "teem": "tier1"}, "teem")
        await refused(path, {**by, "rubric_version": "two"}, "rubric_version")
        await refused(path, {**by, "agent": ""}, "agent")
        await refused(path, {**by, "agent": "a\x01b"}, "agent")
        await refused(path, {**by, "since": iso(T0 + DAY), "until": iso(T0)}, "until")
        await refused(path, {**by, "since": "2026-03-01"}, "since")
        assert (await http.get(path, params=by)).status_code == 401
        trainee = await http.get(path, params=by, headers=bearer(tokens["a-17"]))
        assert trainee.status_code == 403 and "role" in trainee.json()["detail"]["message"]
    await refused("/api/metrics/trends", {}, "by")
    await refused("/api/metrics/trends", {"by": "colour"}, "by")
    await refused("/api/metrics/trends", {"by": "agent", "weeks": 0}, "weeks")
    await refused("/api/metrics/trends", {"by": "agent", "weeks": 4, "since": iso(T0)}, "weeks")
    # The calendar's first week bounds a count of weeks back.
    first = {"by": "agent", "weeks": 520, "until": "0001-01-01T00:00:00Z"}
    body = (await http.get("/api/metrics/trends", params=first, headers=lead)).json()
    assert body["since"] == "0001-01-01T00:00:00Z"
    assert (body["weeks"], body["rows"]) == (["0001-01-01"], [])


async def test_the_schema_documents_every_slice_field(http):
    schema = (await http.get("/openapi.json")).json()
    slice_fields = set(MetricsSlice.model_fields)
    for path, extra in (("/api/metrics", set()), ("/api/metrics/trends", {"by", "weeks"})):
        operation = schema["paths"][path]["get"]
        parameters = {p["name"]: p for p in operation["parameters"]}
        assert set(parameters) == {"since", "until", *slice_fields, *extra}
        assert all(p["in"] == "query" and p.get("description") for p in parameters.values())
        assert set(operation["responses"]) >= {"200", "401", "403", "422"}
    version = schema["paths"]["/api/metrics"]["get"]["parameters"]
    assert next(p for p in version if p["name"] == "rubric_version")["schema"]["anyOf"][0] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 2**31 - 1,
    }


def tiles(html: str) -> dict[str, str]:
    return {name.split(" (")[0]: value for value, name in TILE.findall(html)}


def expected_tiles(m: Metrics) -> dict[str, str]:
    def pct(value: float | None) -> str:
        return "-" if value is None else f"{value * 100:.0f}%"

    return {
        "waiting for review now": str(m.awaiting_review),
        "tickets reviewed": str(m.tickets_reviewed),
        "coaching notes approved": str(m.notes_approved),
        "override rate": pct(m.override_rate),
        "median time to a decision": "-"
        if m.p50_review_hours is None
        else f"{m.p50_review_hours:g} h",
        "scorecard completion": pct(m.scorecard.rate),
    }


async def test_the_dashboard_shows_the_sliced_numbers(http, tokens, history):
    lead = bearer(tokens["lee"])
    whole = await http.get("/dashboard", params={"days": "all"}, headers=lead)
    assert whole.status_code == 200, whole.text
    assert tiles(whole.text) == expected_tiles(await computed(history))

    page = await http.get("/dashboard", params={"days": "all", "team": "tier2"}, headers=lead)
    sliced = await computed(history, slice=MetricsSlice(team="tier2"))
    assert tiles(page.text) == expected_tiles(sliced) != tiles(whole.text)
    assert "all time · team tier2" in page.text
    assert 'name="team" value="tier2"' in page.text
    # Documentation gaps of the slice only: kb-202 is tier1's.
    assert sliced.documentation_gaps == {"kb-101": 1}
    assert "kb-101: 1" in page.text and "kb-202" not in page.text
    assert "kb-202: 1" in whole.text
    assert 'href="/dashboard/trends?team=tier2"' in page.text

    # A window of dates, the last one included.
    dated = await http.get(
        "/dashboard",
        params={"from": "2026-03-09", "to": "2026-03-31", "rubric_version": "1"},
        headers=lead,
    )
    expected = await computed(
        history,
        since=datetime(2026, 3, 9, tzinfo=UTC),
        until=datetime(2026, 4, 1, tzinfo=UTC),
        slice=MetricsSlice(rubric_version=1),
    )
    assert tiles(dated.text) == expected_tiles(expected)
    assert "from 2026-03-09 to 2026-03-31 · rubric version 1" in dated.text

    for params, field in (
        ({"rubric_version": "one"}, "rubric_version: must be a whole number"),
        ({"agent": "x" * 201}, "agent: must be 1 to 200 characters"),
        ({"from": "yesterday"}, "from: must be a date"),
        ({"from": "2026-03-09", "to": "2026-03-01"}, "to: must not be before from"),
        ({"to": "9999-12-31"}, "to: must be a date before 9999-12-31"),
    ):
        refused = await http.get("/dashboard", params=params, headers=lead)
        assert refused.status_code == 422 and field in refused.text, params
    trainee = await http.get("/dashboard", headers=bearer(tokens["a-17"]))
    assert trainee.status_code == 403


def table_rows(html: str) -> dict[str, list[str]]:
    body = html.split('<table class="trend-table">', 1)[1].split("</table>", 1)[0]
    rows = {}
    for row in ROW.findall(body.split("<tbody>", 1)[1]):
        cells = [re.sub(r"<[^>]+>", "", c).strip() for c in CELL.findall(row)]
        rows[cells[0]] = cells[1:]
    return rows


async def test_the_trends_page_charts_weeks_and_tabulates_them(http, tokens, history):
    lead = bearer(tokens["lee"])
    params = {"by": "agent", "weeks": "8", "to": "2026-04-26"}
    page = await http.get("/dashboard/trends", params=params, headers=lead)
    assert page.status_code == 200, page.text
    assert '<svg class="chart weekly"' in page.text
    assert "<title>week of 2026-03-02 · a-1: 2</title>" in page.text
    assert "<title>week of 2026-04-13 · a-1: 1</title>" in page.text
    # Eight weeks from Monday 2 March to Monday 20 April, the total, the last week's change.
    assert table_rows(page.text) == {
        "a-1": ["2", "1", "0", "0", "0", "0", "1", "0", "4", "-1"],
        "a-2": ["1", "1", "0", "0", "0", "0", "0", "0", "2", "0"],
    }

    params = {"by": "kb_article", "weeks": "8", "to": "2026-04-26", "team": "tier1"}
    page = await http.get("/dashboard/trends", params=params, headers=lead)
    assert table_rows(page.text) == {
        "kb-101": ["0", "1", "0", "0", "0", "0", "0", "0", "1", "0"],
        "kb-202": ["0", "1", "0", "0", "0", "0", "0", "0", "1", "0"],
    }
    assert "last 8 weeks to 2026-04-26 · team tier1" in page.text

    empty = await http.get("/dashboard/trends", params={"to": "2025-01-05"}, headers=lead)
    assert "nothing to show yet" in empty.text and "Nothing in these weeks" in empty.text
    refused = await http.get("/dashboard/trends", params={"rubric_version": "x"}, headers=lead)
    assert refused.status_code == 422 and "rubric_version" in refused.text


def starter(database_url: str, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "TEMPORAL_ADDRESS"}
    environment.update(COACHFLOW_DATABASE_URL=database_url, COACHFLOW_DATA_DIR=str(cwd))
    return subprocess.run(
        [sys.executable, str(ROOT / "starter.py"), "metrics", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_the_command_line_prints_the_window_the_slice_and_the_numbers(
    history, database_url, tmp_path
):
    window = ["--since", "2026-03-01", "--until", "2026-04-01"]
    run = starter(database_url, tmp_path, *window, "--team", "tier2")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[:2] == [
        "Window: from 2026-03-01 00:00 UTC to 2026-04-01 00:00 UTC",
        "Slice: team tier2",
    ]
    since, until = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)
    m = await computed(history, since=since, until=until, slice=MetricsSlice(team="tier2"))
    for name, value in (
        ("tickets reviewed", f"{m.tickets_reviewed}"),
        ("drafted for review", f"{m.drafted} (stopped {m.stopped})"),
        ("lead override rate", "0% (0 of 1 decisions)"),
        ("time to review", "mean 10 h, median 10 h"),
        ("documentation gaps", "kb-101 1"),
        ("policy gaps", "refund-policy 1"),
        ("completed", "2 of 3 sampled (67%): 1 with a QA note, 1 with a non-agent exception"),
        ("pilot bar 85%", "not met"),
    ):
        assert f"  {name:<28}{value}" in lines, name

    run = starter(database_url, tmp_path, *window, "--team", "tier2", "--json")
    assert json.loads(run.stdout) == m.model_dump(mode="json")

    run = starter(
        database_url, tmp_path, "--trends", "agent", "--weeks", "8", "--until", "2026-04-27"
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[:3] == [
        "Week over week: coaching themes by agent (weeks from Monday, UTC)",
        "Window: from 2026-03-02 00:00 UTC to 2026-04-27 00:00 UTC",
        "Slice: none (everything)",
    ]
    weeks = ["03-02", "03-09", "03-16", "03-23", "03-30", "04-06", "04-13", "04-20"]
    assert lines[4].split() == ["agent", *weeks, "total", "vs", "last", "week"]
    rows = {line.split()[0]: line.split()[1:] for line in lines[6:]}
    assert rows == {
        "a-1": ["2", "1", "0", "0", "0", "0", "1", "0", "4", "-1"],
        "a-2": ["1", "1", "0", "0", "0", "0", "0", "0", "2", "+0"],
    }

    for args, message in (
        (["--rubric-version", "two"], "invalid int value"),
        (["--weeks", "3"], "--weeks"),
        (["--since", "2026-04-01", "--until", "2026-03-01"], "--until"),
    ):
        run = starter(database_url, tmp_path, *args)
        assert run.returncode == 2 and message in run.stderr, (args, run.stderr)
