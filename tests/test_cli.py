"""The command line as a user runs it: demo twice, ingest with a bad line, queue, show."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from examples.demo_tickets import generate, planted_pii
from tests.factories import event_dict

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in ("COACHFLOW_DATABASE_URL", "TEMPORAL_ADDRESS")
    }
    environment.update(env)
    return subprocess.run(
        [sys.executable, str(ROOT / "starter.py"), *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _stored_text(database: Path) -> str:
    with sqlite3.connect(database) as db:
        rows = db.execute(
            "SELECT coaching_note, qa_summary, summary, coalesce(stop_reason, ''), "
            "process_issues FROM assessments"
        ).fetchall()
        rows += db.execute(
            "SELECT explanation, evidence, '', '', '' FROM criterion_results"
        ).fetchall()
    return "\n".join(str(cell) for row in rows for cell in row)


def test_the_demo_runs_end_to_end_and_again(tmp_path: Path):
    for _ in range(2):
        run = _run("demo", "--count", "30", cwd=tmp_path)
        assert run.returncode == 0, run.stdout + run.stderr
        assert "Queue by opportunity and state:" in run.stdout
        drafted = next(
            line for line in run.stdout.splitlines() if "reached the review queue" in line
        )
        done, total = drafted.split(" assessments")[0].split(" of ")
        assert done == total and int(total) > 0
        assert "0 new workflows" in run.stdout
    assert (tmp_path / ".coachflow" / "demo" / "temporal.db").exists()
    stored = _stored_text(tmp_path / ".coachflow" / "demo" / "coachflow.db")
    assert "[CUSTOMER_NAME]" in stored and "Coaching note for" in stored
    planted = planted_pii(generate(count=30))
    assert {kind for _, kind, _ in planted} >= {"email", "phone", "card"}
    leaked = {
        (kind, value)
        for _, kind, value in planted
        if kind in ("email", "phone", "card") and value in stored + run.stdout
    }
    assert not leaked


def test_ingest_reports_bad_lines_and_processes_the_rest(tmp_path: Path):
    export = tmp_path / "export.jsonl"
    bad = event_dict(
        **{"event_id": "bad", "ticket.requester": {"id": "c", "phone": "+1 415 555 0134"}}
    )
    export.write_text("\n".join([json.dumps(event_dict()), json.dumps(bad)]) + "\n")
    run = _run("ingest", str(export), "--json", cwd=tmp_path)
    assert run.returncode == 1
    assert f"{export}:2: ticket.requester.phone: unknown key" in run.stderr
    assert "555" not in run.stderr
    summary = json.loads(run.stdout)
    assert summary == {"events": 1, "matched": 1, "started": 1, "duplicates": 0, "invalid": 1}

    queue = _run("queue", "--json", cwd=tmp_path)
    items = json.loads(queue.stdout)["items"]
    assert [i["workflow_id"] for i in items] == ["coaching/low-csat/generic/35436"]
    shown = _run("show", str(items[0]["id"]), cwd=tmp_path)
    assert "[CUSTOMER_NAME]" in shown.stdout and "Maria" not in shown.stdout

    decided = _run("decide", str(items[0]["id"]), "dismiss", "--lead", "lee", cwd=tmp_path)
    assert decided.returncode == 2
    assert "reason: a reason is required to dismiss" in decided.stderr
    decided = _run("decide", str(items[0]["id"]), "approve", "--lead", "lee", cwd=tmp_path)
    assert decided.returncode == 0, decided.stderr
    again = _run("decide", str(items[0]["id"]), "approve", "--lead", "lee", cwd=tmp_path)
    assert again.returncode == 1 and "already decided" in again.stderr
    manual = _run(
        "assess",
        "generic/35436",
        "--rubric",
        "support-core",
        "--lead",
        "lee",
        "--json",
        cwd=tmp_path,
    )
    assert manual.returncode == 0, manual.stderr
    assert json.loads(manual.stdout)["status"] == "awaiting_review"
    refused = _run(
        "assess", "generic/nope", "--rubric", "support-core", "--lead", "lee", cwd=tmp_path
    )
    assert refused.returncode == 1 and "no stored ticket generic/nope" in refused.stderr
    metrics = json.loads(_run("metrics", "--json", cwd=tmp_path).stdout)
    assert metrics["notes_approved"] == 1 and metrics["tickets_reviewed"] == 1
