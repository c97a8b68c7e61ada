"""`starter.py eval`: the drafts against a labelled set (tests/eval/) with exact figures, as text
and as JSON; bad lines refused by place and field without their values; a rubric of `llm`
criteria drafted through a local server that speaks the protocol; and the leads' decisions as
labels, on the command line, in `GET /api/metrics` and on `/dashboard`, within the caller's
scope."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, update

from domain.coaching import LeadDecision
from opportunities.catalog import load_catalog
from rubrics.agreement import evaluate
from service.cli import main
from store.decision_labels import Agreement, decision_labels, draft_agreement, summarised
from store.metrics_model import MetricsSlice
from store.metrics_scope import MetricsScope
from store.models import AssessmentRow, CriterionResultRow
from tests.chat_model import ChatModel, serving
from tests.definition_files import copy_definitions
from tests.factories import make_event
from tests.helpers import assessment_of, bearer, until_drafted
from tests.people import LEAD, OUTSIDE_LEAD
from tests.test_metrics import DAY, T0, Case, add_assessment, build_history, decide
from workflows.coaching import CoachingWorkflow

ROOT = Path(__file__).resolve().parent.parent
LABELLED = Path("tests/eval/support-core.jsonl")
LLM_SET = Path("tests/eval/llm-qa.jsonl")
BUNDLED = load_catalog()
CORE = BUNDLED.rubric_for(BUNDLED.opportunities["low-csat"]).ref
PASSED_ON = ("COACHFLOW_LLM_", "COACHFLOW_RUBRICS_DIR", "COACHFLOW_OPPORTUNITIES_DIR", "TEMPORAL_")


def starter(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(PASSED_ON)}
    environment.update(COACHFLOW_DATA_DIR=str(cwd), **env)
    return subprocess.run(
        [sys.executable, str(ROOT / "starter.py"), "eval", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def figures(rows: list[dict]) -> dict[str, tuple]:
    return {r["criterion_id"]: (r["n"], r["agreement"], r["kappa"]) for r in rows}


def first_table(lines: list[str]) -> dict[str, list[str]]:
    """The rows of the first table, by their first cell."""
    start = next(i for i, line in enumerate(lines) if line.startswith("criterion")) + 2
    end = lines.index("", start)
    return {line.split()[0]: line.split()[1:] for line in lines[start:end]}


def test_a_labelled_set_gives_its_figures_and_every_disagreement(tmp_path):
    run = starter(str(LABELLED), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[:2] == [f"5 labelled cases from {LABELLED}", f"Rubric versions: {CORE} (5)"]
    rows = first_table(lines)
    assert rows["first_response_sla"] == ["5", "100.0%", "1.00", "1/0/0", "0/4/0"]
    assert rows["empathy"] == ["5", "80.0%", "0.55", "3/0/0", "1/1/0"]
    assert rows["ownership"] == ["4", "100.0%", "1.00", "2/0/0", "0/2/0"]
    assert rows["coach"] == ["5", "100.0%", "1.00", "1/0/0", "0/4/0"]
    assert (
        f"  empathy  {LABELLED}:5: labelled fail, drafted pass: "
        '"I\'m sorry, but that is not my problem."' in lines
    )
    assert (
        f"  first_response_sla  {LABELLED}:2: labelled staffing, drafted agent_behavior: "
        "first_response_minutes 312 (max 240)" in lines
    )
    assert "Maria" not in run.stdout


def test_json_is_one_document_with_the_same_figures(tmp_path):
    run = starter(str(LABELLED), "--json", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    shown = json.loads(run.stdout)
    assert set(shown) == {
        "file",
        "cases",
        "rubrics",
        "criteria",
        "coach",
        "causes",
        "by_rubric_version",
    }
    assert (shown["file"], shown["cases"], shown["rubrics"]) == (
        str(LABELLED),
        5,
        {CORE: 5},
    )
    assert figures(shown["criteria"]) == {
        "first_response_sla": (5, 1.0, 1.0),
        "empathy": (5, 0.8, 0.545),
        "ownership": (4, 1.0, 1.0),
    }
    empathy = shown["criteria"][1]
    assert empathy["confusion"] == {
        "pass": {"pass": 3, "fail": 0, "na": 0},
        "fail": {"pass": 1, "fail": 1, "na": 0},
    }
    assert empathy["disagreements"] == [
        {
            "case": f"{LABELLED}:5",
            "expected": "fail",
            "got": "pass",
            "quote": "I'm sorry, but that is not my problem.",
        }
    ]
    assert figures([shown["coach"]]) == {"coach": (5, 1.0, 1.0)}
    assert figures(shown["causes"]) == {
        "first_response_sla": (2, 0.5, 0.0),
        "ownership": (1, 1.0, None),
    }
    assert shown["causes"][0]["confusion"] == {
        "agent_behavior": {"agent_behavior": 1, "staffing": 0},
        "staffing": {"agent_behavior": 1, "staffing": 0},
    }
    assert shown["by_rubric_version"] == {CORE: shown["criteria"]}


def test_bad_lines_are_refused_by_place_and_field_never_by_value(tmp_path):
    good = LABELLED.read_text().splitlines()
    secret = "Maria-7946-private"
    first = json.loads(good[0])
    first["ticket"]["messages"][0]["body"] = secret
    broken = json.loads(json.dumps(first))
    broken["labels"]["empathy"] = secret
    broken["ticket"]["messages"][1]["author"]["role"] = secret
    unknown = json.loads(json.dumps(first)) | {
        "labels": {"empathie": "pass"},
        "cause": {},
        "coach": "yes",
    }
    path = tmp_path / "bad.jsonl"
    lines = [json.dumps(first), json.dumps(broken), "", json.dumps(unknown), '{"event_id": ']
    path.write_text("\n".join(lines) + "\n")
    run = starter(str(path), cwd=tmp_path)
    assert run.returncode == 2 and run.stdout == ""
    assert secret not in run.stderr
    assert run.stderr.splitlines() == [
        f"{path}:2: ticket.messages[1].author.role: Input should be 'customer', 'agent', "
        "'system' or 'lead'; labels.empathy: must be pass, fail or na",
        f"{path}:4: coach: must be true or false; labels.empathie: not a criterion of {CORE}",
        f"{path}:5: (root): invalid JSON: Expecting value",
        f"{path}: 3 bad line(s); nothing evaluated",
    ]


def test_what_eval_cannot_take_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COACHFLOW_DATA_DIR", str(tmp_path))
    for args, message in (
        ([str(tmp_path / "missing.jsonl")], "missing.jsonl: no such file"),
        ([str(LABELLED), "--rubric", "support-core@9"], "--rubric: rubric 'support-core' has"),
        ([], "eval: give a labelled FILE, or --from-decisions"),
        ([str(LABELLED), "--since", "2026-01-01"], "--since, --until: only with"),
        ([str(LABELLED), "--from-decisions"], "a labelled FILE or --from-decisions, not both"),
        (["--from-decisions", "--rubric", "support-core"], "--rubric: only with a labelled"),
        (["--from-decisions", "--since", "2026-02-01", "--until", "2026-01-01"], "--until"),
    ):
        assert main(["eval", *args]) == 2, args
        assert message in capsys.readouterr().err, args


class JudgingModel(ChatModel):
    """Fails the agent's reply when it says "not my problem", passes it otherwise, quoting the
    reply's first sentence as the thread gave it."""

    def __init__(self) -> None:
        super().__init__(self._judge)
        self.asked: list[str] = []

    def _judge(self, body: dict) -> dict:
        thread = body["messages"][-1]["content"]
        reply = thread.split("(agent under review, public)\n", 1)[1]
        self.asked.append(reply)
        return {
            "status": "failed" if "not my problem" in reply else "passed",
            "explanation": "judged",
            "quotes": [{"message_id": "m2", "quote": reply.split(".")[0] + "."}],
        }


@pytest.fixture
def judging_model() -> Iterator[JudgingModel]:
    with serving(JudgingModel()) as model:
        yield model


def test_a_rubric_of_llm_criteria_is_drafted_through_the_model(tmp_path, judging_model):
    _, rubrics, _ = copy_definitions(tmp_path)
    shutil.copy(ROOT / "tests/eval/llm-qa.yaml", rubrics)
    folder = {"COACHFLOW_RUBRICS_DIR": str(rubrics)}
    args = (str(LLM_SET), "--rubric", "llm-qa@1", "--json")
    run = starter(*args, cwd=tmp_path, COACHFLOW_LLM_BASE_URL=judging_model.url, **folder)
    assert run.returncode == 0, run.stderr
    shown = json.loads(run.stdout)
    assert shown["rubrics"] == {"llm-qa@1": 3}
    assert figures(shown["criteria"]) == {"owns_the_problem": (3, 0.667, 0.4)}
    assert shown["criteria"][0]["disagreements"] == [
        {
            "case": f"{LLM_SET}:3",
            "expected": "fail",
            "got": "pass",
            "quote": "Hi [CUSTOMER_NAME], that is for the bank to sort out.",
        }
    ]
    # Only the redacted thread reached the model, once per case.
    assert len(judging_model.asked) == 3
    assert not any("Maria" in asked or "maria@" in asked for asked in judging_model.asked)

    run = starter(*args, cwd=tmp_path, **folder)
    assert run.returncode == 0, run.stderr
    assert "llm-qa@1 has llm criteria and no language model is configured" in run.stderr
    unscored = json.loads(run.stdout)["criteria"][0]
    assert (unscored["agreement"], unscored["confusion"]["fail"]["na"]) == (0.0, 2)


# --- the leads' decisions as labels ------------------------------------------------------------


async def _drafted(intake, client, **overrides) -> AssessmentRow:
    ticket = f"ev{uuid.uuid4().hex[:10]}"
    event = make_event(**{"ticket.id": ticket, "event_id": f"e-{ticket}", **overrides})
    (workflow_id,) = (await intake.ingest(event)).started
    await until_drafted(client, workflow_id)
    return await assessment_of(intake.sessions, workflow_id)


@pytest.fixture
async def decided(dev_client, worker, intake) -> dict[str, int]:
    """Five drafts of the default event (first reply late: first_response_sla fails on the
    agent; empathy passes), decided: A approved, B overridden (the late reply passed, empathy
    failed), C dismissed, D of team tier2 approved by its lead, E overridden (the late reply
    put down to staffing)."""
    decisions = {
        "A": LeadDecision(action="approve", by=LEAD),
        "B": LeadDecision(
            action="override",
            by=LEAD,
            reason="agreed SLA exception; and no empathy",
            scores={"first_response_sla": 2, "empathy": 0},
        ),
        "C": LeadDecision(action="dismiss", by=LEAD, reason="not a fair sample"),
        "D": LeadDecision(action="approve", by=OUTSIDE_LEAD),
        "E": LeadDecision(
            action="override",
            by=LEAD,
            reason="a queue backlog",
            causes={"first_response_sla": "staffing"},
        ),
    }
    ids = {}
    for name, decision in decisions.items():
        overrides = {"ticket.agent.team": "tier2"} if name == "D" else {}
        row = await _drafted(intake, dev_client, **overrides)
        handle = dev_client.get_workflow_handle_for(CoachingWorkflow.run, row.workflow_id)
        await handle.execute_update(CoachingWorkflow.decide, decision)
        ids[name] = row.id
    return ids


async def test_the_leads_decisions_are_labels(decided, database_url, tmp_path):
    a, b, e = (f"assessment {decided[n]}" for n in "ABE")
    yesterday = f"{datetime.now(UTC) - timedelta(days=1):%Y-%m-%d}"
    run = starter(
        "--from-decisions",
        "--since",
        yesterday,
        "--json",
        cwd=tmp_path,
        COACHFLOW_DATABASE_URL=database_url,
    )
    assert run.returncode == 0, run.stderr
    shown = json.loads(run.stdout)
    assert (shown["approved"], shown["overridden"], shown["dismissed"], shown["cases"]) == (
        2,
        2,
        1,
        4,
    )
    assert shown["rubrics"] == {CORE: 4}
    got = figures(shown["criteria"])
    assert got["first_response_sla"] == got["empathy"] == (4, 0.75, 0.0)
    assert got["ownership"] == (4, 1.0, None)
    sla, empathy = (
        next(r for r in shown["criteria"] if r["criterion_id"] == c)
        for c in ("first_response_sla", "empathy")
    )
    assert sla["confusion"] == {
        "pass": {"pass": 0, "fail": 1, "na": 0},
        "fail": {"pass": 0, "fail": 3, "na": 0},
    }
    # The lead turned these verdicts: the draft's excerpts went with them.
    assert sla["disagreements"] == [{"case": b, "expected": "pass", "got": "fail", "quote": ""}]
    assert empathy["disagreements"] == [{"case": b, "expected": "fail", "got": "pass", "quote": ""}]
    assert figures([shown["coach"]]) == {"coach": (4, 0.75, 0.0)}
    assert shown["coach"]["disagreements"][0]["case"] == e
    assert figures(shown["causes"]) == {"first_response_sla": (3, 0.667, 0.0)}
    assert shown["causes"][0]["disagreements"] == [
        {
            "case": e,
            "expected": "staffing",
            "got": "agent_behavior",
            "quote": "",
            "metric": "first_response_minutes 312 (max 240)",
        }
    ]
    assert list(shown["by_rubric_version"]) == [CORE]
    assert a not in {d["case"] for r in shown["criteria"] for d in r["disagreements"]}

    text = starter("--from-decisions", cwd=tmp_path, COACHFLOW_DATABASE_URL=database_url)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[:3] == [
        "Window: all time",
        "The leads' decisions as labels: 4 (approved 2, overridden 2); dismissed 1, left out",
        f"Rubric versions: {CORE} (4)",
    ]
    assert f"  empathy  {b}: labelled fail, drafted pass" in lines

    before = starter(
        "--from-decisions",
        "--until",
        "2020-01-01",
        "--json",
        cwd=tmp_path,
        COACHFLOW_DATABASE_URL=database_url,
    )
    assert json.loads(before.stdout)["cases"] == 0


AGREEMENT_ROW = re.compile(
    r'<tr><td>([^<]+)</td><td class="num">(\d+)</td><td class="num">([^<]+)</td>'
    r'<td class="num">([^<]+)</td></tr>'
)


async def test_the_api_and_the_dashboard_show_the_agreement_in_scope(decided, http, tokens):
    def agreement(body: dict) -> tuple:
        shown = body["draft_agreement"]
        by = {c: (a["n"], a["agreement"], a["kappa"]) for c, a in shown["by_criterion"].items()}
        return shown["decisions"], shown["dismissed"], by

    schema = (await http.get("/openapi.json")).json()["components"]["schemas"]
    assert "draft_agreement" in schema["MetricsWithAgreement"]["properties"]
    admin = (await http.get("/api/metrics", headers=bearer(tokens["ada"]))).json()
    decisions, dismissed, by = agreement(admin)
    assert (decisions, dismissed) == (4, 1)
    assert by["first_response_sla"] == by["empathy"] == (4, 0.75, 0.0)
    assert admin["draft_agreement"]["coach"] == {"n": 4, "agreement": 0.75, "kappa": 0.0}

    # lee leads tier1: A, B, C and E; olga leads tier2: D alone.
    lee = (await http.get("/api/metrics", headers=bearer(tokens["lee"]))).json()
    decisions, dismissed, by = agreement(lee)
    assert (decisions, dismissed) == (3, 1)
    assert by["first_response_sla"] == (3, 0.667, 0.0)
    assert by["empathy"] == (3, 0.667, 0.0)
    olga = (await http.get("/api/metrics", headers=bearer(tokens["olga"]))).json()
    decisions, dismissed, by = agreement(olga)
    assert (decisions, dismissed) == (1, 0)
    assert by["first_response_sla"] == by["empathy"] == (1, 1.0, None)
    # The window and the slice apply as to every other figure.
    later = {"since": (datetime.now(UTC) + timedelta(days=1)).isoformat()}
    empty = (await http.get("/api/metrics", params=later, headers=bearer(tokens["ada"]))).json()
    assert agreement(empty) == (0, 0, {})
    tier2 = {"team": "tier2"}
    sliced = (await http.get("/api/metrics", params=tier2, headers=bearer(tokens["ada"]))).json()
    assert agreement(sliced)[:2] == (1, 0)

    page = await http.get("/dashboard", params={"days": "all"}, headers=bearer(tokens["lee"]))
    assert page.status_code == 200, page.text
    assert "lead agreement by criterion" in page.text
    assert "The 3 approved and overridden decisions as labels (1 dismissed, left out)" in page.text
    rows = {name: rest for name, *rest in AGREEMENT_ROW.findall(page.text)}
    assert rows["first_response_sla"] == ["3", "67%", "0"]
    assert rows["any coaching point"] == ["3", "67%", "0"]


async def _more_decisions(sessions) -> None:
    """On the metrics' history: A12 (tier2) overridden, scoring a criterion the draft left
    unscored (no confidence), passing one it failed and putting a failure down to policy where
    the draft named no cause; A13 approved without results; A14 approved with no diff at all."""
    async with sessions() as session, session.begin():
        results = [
            ("sla", "passed", None),
            ("empathy", "failed", "policy"),
            ("tone", "passed", None),
        ]
        a12 = await add_assessment(
            session,
            Case("A12", "a-2", "escalation", "ticket.escalated", 2, 30 * DAY, "coaching", results),
        )
        await session.execute(
            update(CriterionResultRow)
            .where(
                CriterionResultRow.assessment_id == a12.id, CriterionResultRow.criterion_id == "sla"
            )
            .values(confidence=0.0)
        )
        changes = [
            {"criterion_id": "sla", "field": "score", "before": 0, "after": 1},
            {"criterion_id": "empathy", "field": "cause", "before": None, "after": "policy"},
            {"criterion_id": "tone", "field": "score", "before": 0.5, "after": 1},
        ]
        await decide(session, a12, "override", 1, changes=changes)
        a13 = await add_assessment(
            session, Case("A13", "a-1", "low-csat", "csat.received", 1, 31 * DAY, "coaching")
        )
        await decide(session, a13, "approve", 1, changes=[])
        a14 = await add_assessment(
            session,
            Case(
                "A14", "a-1", "low-csat", "csat.received", 1, 32 * DAY, "coaching",
                [("tone", "failed", None), ("empathy", "passed", None)],
            ),
        )  # fmt: skip
        await decide(session, a14, "approve", 1)


AGREEMENT_CASES = {
    "all": {},
    "since": {"since": T0 + 5 * DAY},
    "until": {"until": T0 + 31 * DAY},
    "team": {"slice": MetricsSlice(team="tier1")},
    "scope": {"scope": MetricsScope(visible=AssessmentRow.team == "tier2")},
    "none": {"since": T0 + 100 * DAY},
}


async def test_the_dashboard_s_agreement_is_counted_in_sql_as_the_labels_give_it(sessions):
    """`draft_agreement` (the API's and the dashboard's) gives what the eval command's labels
    give, criteria in the same order, for a window, a slice and a scope; and reads no criterion
    result into Python to do it."""
    await build_history(sessions)
    await _more_decisions(sessions)
    loaded: list[CriterionResultRow] = []

    def on_load(target: CriterionResultRow, context) -> None:
        loaded.append(target)

    got = {}
    event.listen(CriterionResultRow, "load", on_load)
    try:
        for name, kwargs in AGREEMENT_CASES.items():
            async with sessions() as session:
                got[name] = await draft_agreement(session, **kwargs)
        assert loaded == []
        for name, kwargs in AGREEMENT_CASES.items():
            async with sessions() as session:
                labels = await decision_labels(session, **kwargs)
            expected = summarised(labels, evaluate(labels.cases))
            assert got[name] == expected, name
            assert list(got[name].by_criterion) == list(expected.by_criterion), name
        assert loaded, "the eval command's labels read the results, and the listener sees it"
    finally:
        event.remove(CriterionResultRow, "load", on_load)
    # A1, A2, A9, A12, A13, A14: the sla the draft left unscored, the lead passed.
    every = got["all"]
    assert (every.decisions, every.dismissed) == (6, 3)
    assert every.by_criterion["sla"] == Agreement(n=1, agreement=0.0, kappa=0.0)
    assert every.by_criterion["tone"] == Agreement(n=4, agreement=0.5, kappa=0.0)
    assert got["none"].model_dump() == {
        "decisions": 0,
        "dismissed": 0,
        "by_criterion": {},
        "coach": None,
    }
