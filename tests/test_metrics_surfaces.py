"""The metrics surfaces on the known history of tests/test_metrics.py: `GET /api/metrics` and
`GET /api/metrics/trends` give exactly what compute_metrics and trends give, for every slice
field, and refuse what they do not know; `/dashboard` and `/dashboard/trends` show the sliced
numbers and the weekly SVG; `starter.py metrics` prints the window, the slice and the numbers.
An admin's numbers cover everything; a lead's, what the lead's queue shows, and say so."""

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

from store.metrics import Metrics, MetricsScope, MetricsSlice, compute_metrics, state_counts, trends
from store.models import AssessmentRow, MeasurementEventRow, TicketRow
from tests.helpers import bearer
from tests.test_metrics import DAY, FULL, T0, build_history

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


def metrics_of(body: dict) -> dict:
    """The figures of compute_metrics in an answer of the API, which adds what they cover."""
    return {name: body[name] for name in Metrics.model_fields}


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


async def test_every_slice_field_gives_what_compute_metrics_gives(http, tokens, history):
    assert set(SLICE_VALUES) == set(MetricsSlice.model_fields)
    admin = bearer(tokens["ada"])
    whole = metrics_of((await http.get("/api/metrics", headers=admin)).json())
    assert whole == (await computed(history)).model_dump(mode="json")
    assert whole["drafted"] == 10
    since, until = T0 + 2 * DAY, T0 + 30 * DAY
    for name, value in SLICE_VALUES.items():
        chosen = MetricsSlice(**{name: value})
        got = await http.get("/api/metrics", params={name: value}, headers=admin)
        assert got.status_code == 200, (name, got.text)
        sliced = metrics_of(got.json())
        assert sliced == (await computed(history, slice=chosen)).model_dump(mode="json")
        assert sliced != whole, f"{name}={value} narrowed nothing"
        window = {name: value, "since": iso(since), "until": iso(until)}
        got = await http.get("/api/metrics", params=window, headers=admin)
        expected = await computed(history, since=since, until=until, slice=chosen)
        assert metrics_of(got.json()) == expected.model_dump(mode="json"), name
    # Fields combine.
    combined = {"team": "tier2", "rubric_version": 2, "kb_article": "kb-101"}
    got = await http.get("/api/metrics", params=combined, headers=admin)
    expected = await computed(history, slice=MetricsSlice(**combined))
    assert metrics_of(got.json()) == expected.model_dump(mode="json")
    assert got.json()["scope"] == EVERYTHING
    # A4 alone: stopped for its outdated article.
    assert (expected.drafted, expected.stopped, expected.process_issues) == (0, 1, 1)
    assert expected.documentation_gaps == {"kb-101": 1}


async def test_trends_over_http(http, tokens, history):
    admin = bearer(tokens["ada"])
    got = await http.get(
        "/api/metrics/trends", params={"by": "agent", "until": iso(T0 + 50 * DAY)}, headers=admin
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
    body = (await http.get("/api/metrics/trends", params=params, headers=admin)).json()
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
            "/api/metrics/trends", params={"by": "kb_article", "team": "tier2"}, headers=admin
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
    admin = bearer(tokens["ada"])
    whole = await http.get("/dashboard", params={"days": "all"}, headers=admin)
    assert whole.status_code == 200, whole.text
    assert tiles(whole.text) == expected_tiles(await computed(history))

    page = await http.get("/dashboard", params={"days": "all", "team": "tier2"}, headers=admin)
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
        headers=admin,
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
        refused = await http.get("/dashboard", params=params, headers=admin)
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
    admin = bearer(tokens["ada"])
    params = {"by": "agent", "weeks": "8", "to": "2026-04-26"}
    page = await http.get("/dashboard/trends", params=params, headers=admin)
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
    page = await http.get("/dashboard/trends", params=params, headers=admin)
    assert table_rows(page.text) == {
        "kb-101": ["0", "1", "0", "0", "0", "0", "0", "0", "1", "0"],
        "kb-202": ["0", "1", "0", "0", "0", "0", "0", "0", "1", "0"],
    }
    assert "last 8 weeks to 2026-04-26 · team tier1" in page.text

    empty = await http.get("/dashboard/trends", params={"to": "2025-01-05"}, headers=admin)
    assert "nothing to show yet" in empty.text and "Nothing in these weeks" in empty.text
    refused = await http.get("/dashboard/trends", params={"rubric_version": "x"}, headers=admin)
    assert refused.status_code == 422 and "rubric_version" in refused.text


# What each lead's numbers cover: a-1 is tier1's (lee), a-2 tier2's (olga).
LEADS = {"lee": ("tier1", "a-1", "a-2"), "olga": ("tier2", "a-2", "a-1")}
EVERYTHING = {
    "everything": True,
    "user": None,
    "teams": [],
    "groups": [],
    "described": "every assessment",
}


def lead_scope(name: str, team: str) -> dict:
    return {
        "everything": False,
        "user": name,
        "teams": [team],
        "groups": [],
        "described": f"the assessments {name} may see: those of team {team}, reassigned to "
        f"{name} and of no known team",
    }


async def test_a_lead_counts_only_what_their_queue_shows(http, tokens, history):
    """Another team's or agent's figures are empty, exactly as a team or agent that does not
    exist: nothing tells one from the other. The answer says what it covers."""
    for name, (team, agent, other) in LEADS.items():
        lead = bearer(tokens[name])
        own = await computed(history, slice=MetricsSlice(team=team))
        got = (await http.get("/api/metrics", headers=lead)).json()
        assert metrics_of(got) == own.model_dump(mode="json"), name
        assert got["scope"] == lead_scope(name, team)
        empty = (await http.get("/api/metrics", params={"team": "nobody"}, headers=lead)).json()
        assert (empty["drafted"], empty["stopped"], empty["tickets_reviewed"]) == (0, 0, 0)
        assert empty["repeat_themes"]["coached"] == empty["csat_recovery"]["coachings"] == 0
        others = {"tier1": "tier2", "tier2": "tier1"}[team]
        for params in ({"team": others}, {"agent": other}, {"agent": "nobody"}):
            got = await http.get("/api/metrics", params=params, headers=lead)
            assert got.status_code == 200 and got.json() == empty, (name, params)
        for by, seen in (("agent", agent), ("team", team), ("criterion", None)):
            trend = await http.get("/api/metrics/trends", params={"by": by}, headers=lead)
            body = trend.json()
            assert body["scope"] == lead_scope(name, team)
            expected = await computed_trends(history, by, MetricsSlice(team=team))
            assert body["rows"] == expected, (name, by)
            assert seen is None or {r["key"] for r in body["rows"]} == {seen}
        for params in ({"agent": other}, {"agent": "nobody"}):
            trend = await http.get(
                "/api/metrics/trends", params={**params, "by": "agent"}, headers=lead
            )
            assert trend.json()["rows"] == [], (name, params)

    admin = bearer(tokens["ada"])
    got = (await http.get("/api/metrics", params={"team": "tier2"}, headers=admin)).json()
    assert got["scope"] == EVERYTHING and got["drafted"] > 0
    trend = await http.get("/api/metrics/trends", params={"by": "agent"}, headers=admin)
    assert {r["key"] for r in trend.json()["rows"]} == {"a-1", "a-2"}
    assert trend.json()["scope"] == EVERYTHING


async def computed_trends(sessions, by: str, chosen: MetricsSlice) -> list[dict]:
    async with sessions() as session:
        return [r.model_dump(mode="json") for r in await trends(session, by, slice=chosen)]


async def test_an_assessment_reassigned_to_a_lead_counts_in_their_numbers(http, tokens, history):
    """The same rule as the queue: A3 (a-2, tier2) reassigned to lee is lee's to see."""
    async with history() as session, session.begin():
        query = select(AssessmentRow.id).where(AssessmentRow.event_id == "e-A3")
        a3 = (await session.execute(query)).scalar_one()
        await session.execute(
            update(AssessmentRow).where(AssessmentRow.id == a3).values(assigned_lead="lee")
        )
    lee = bearer(tokens["lee"])
    listed = (await http.get("/api/assessments", params={"agent": "a-2"}, headers=lee)).json()
    assert [item["id"] for item in listed["items"]] == [a3]
    got = (await http.get("/api/metrics", params={"agent": "a-2"}, headers=lee)).json()
    assert (got["drafted"], got["dismissed"], got["escalations"]["assessed"]) == (1, 1, 1)
    assert got["policy_gaps"] == {"refund-policy": 1}


# What a made-up assessment of another team takes from A1.
COPIED = (
    *("opportunity_id", "opportunity_version", "rubric_id", "rubric_version", "source"),
    *("event_type", "agent_id", "occurred_at", "confidence", "priority", "flags", "summary"),
    *("created_at", "updated_at"),
)


async def test_a_lead_s_csat_recovery_counts_no_ticket_only_another_team_assessed(
    http, tokens, history
):
    """The CSAT responses around lee's coachings of a-1 (tier1) are a-1's tickets, but not one
    whose only assessment is tier2's (the event named tier2: olga's to see): t3, rated 4 of 5 a
    week after A1's coaching and before A2's. t1 counts still, through A1 beside its tier2
    assessment, and so do the tickets no one assessed. The admin's figures count everything."""
    async with history() as session, session.begin():
        query = select(AssessmentRow).where(AssessmentRow.event_id == "e-A1")
        a1 = (await session.execute(query)).scalar_one()
        for ticket in ("t1", "t3"):
            ticket_id = (
                await session.execute(select(TicketRow.id).where(TicketRow.external_id == ticket))
            ).scalar_one()
            session.add(
                AssessmentRow(
                    **{c: getattr(a1, c) for c in COPIED},
                    workflow_id=f"coaching/tier2/{ticket}",
                    ticket_id=ticket_id,
                    ticket_external_id=ticket,
                    event_id=f"e-tier2-{ticket}",
                    team="tier2",
                    status="dismissed",
                )
            )
    admin = (await http.get("/api/metrics", headers=bearer(tokens["ada"]))).json()
    assert admin["csat_recovery"] == FULL["csat_recovery"]
    tier1 = await http.get("/api/metrics", params={"team": "tier1"}, headers=bearer(tokens["ada"]))
    assert tier1.json()["csat_recovery"] == FULL["csat_recovery"]
    lee = (await http.get("/api/metrics", headers=bearer(tokens["lee"]))).json()
    # Before A1 and A2: t1 (1) and t2 (3); after each: t4 (5) alone.
    assert lee["csat_recovery"] == {
        "coachings": 3,
        "before_count": 4,
        "before_mean": 2.0,
        "after_count": 2,
        "after_mean": 5.0,
        "change": 3.0,
        "paired_coachings": 2,
        "paired_mean_change": 3.0,
    }
    page = await http.get("/dashboard", params={"days": "all"}, headers=bearer(tokens["lee"]))
    assert page.status_code == 200 and "tier2" not in page.text


async def test_the_queue_s_state_is_counted_in_scope(history):
    """`store.metrics.state_counts`, the dashboard's "waiting for review" chart: the
    assessments as they stand now, by opportunity and status, of the scope only."""
    async with history() as session:
        every = await state_counts(session)
        tier1 = await state_counts(session, MetricsScope(visible=AssessmentRow.team == "tier1"))
    assert sum(n for *_, n in every) == 11
    assert tier1 == [
        ("escalation", "awaiting_review", 1),
        ("low-csat", "coaching", 2),
        ("weekly-qa-sample", "closed_incomplete", 1),
        ("weekly-qa-sample", "dismissed", 2),
    ]


async def test_a_lead_s_dashboard_shows_their_scope_only(http, tokens, history):
    lee = bearer(tokens["lee"])
    own = await computed(history, slice=MetricsSlice(team="tier1"))
    page = await http.get("/dashboard", params={"days": "all"}, headers=lee)
    assert page.status_code == 200, page.text
    assert tiles(page.text) == expected_tiles(own)
    assert "Covers the assessments lee may see: those of team tier1" in page.text
    # Nothing of tier2: not in the figures, the queue's state, nor the form's suggestions.
    assert "a-2" not in page.text and "tier2" not in page.text
    sliced = await http.get("/dashboard", params={"days": "all", "team": "tier2"}, headers=lee)
    nobody = await http.get("/dashboard", params={"days": "all", "team": "nobody"}, headers=lee)
    assert tiles(sliced.text) == tiles(nobody.text)
    assert tiles(sliced.text)["tickets reviewed"] == "0"
    trends_page = await http.get("/dashboard/trends", params={"by": "agent"}, headers=lee)
    assert trends_page.status_code == 200
    assert (
        "a-2" not in trends_page.text and "Covers the assessments lee may see" in trends_page.text
    )
    admin = await http.get("/dashboard", params={"days": "all"}, headers=bearer(tokens["ada"]))
    assert "Covers every assessment." in admin.text and "a-2" in admin.text


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
