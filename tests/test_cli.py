"""The command line as a user runs it: demo twice, ingest with a bad line, queue, show, the
user directory, and one coaching lifecycle from the lead's decision to the acknowledgement."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil

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
        assert "SIMULATED" in run.stdout and "0 already there" in run.stdout
        summary = run.stdout.split("Lifecycle summary")[1]
        assert "closed_complete 2" in summary and "dismissed 1" in summary
        assert "disputes               1 (upheld 1)" in summary
        assert "timers for reminders/expiry run on Temporal; see tests" in summary
        assert "tasks --as a-" in run.stdout and "approve --as " in run.stdout
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

    unknown = _run("decide", str(items[0]["id"]), "approve", "--lead", "lee", cwd=tmp_path)
    assert unknown.returncode == 1 and "no user 'lee'" in unknown.stderr
    assert (
        _run("users", "add", "lee", "--role", "lead", "--team", "tier1", cwd=tmp_path).returncode
        == 0
    )
    decided = _run("decide", str(items[0]["id"]), "dismiss", "--lead", "lee", cwd=tmp_path)
    assert decided.returncode == 2
    assert "reason: a reason is required to dismiss" in decided.stderr
    decided = _run("decide", str(items[0]["id"]), "approve", "--lead", "lee", cwd=tmp_path)
    assert decided.returncode == 0, decided.stderr
    again = _run("decide", str(items[0]["id"]), "approve", "--as", "lee", cwd=tmp_path)
    assert again.returncode == 1 and "already decided (approve by lee" in again.stderr
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


def _add(tmp_path: Path, name: str, role: str, *flags: str) -> None:
    run = _run("users", "add", name, "--role", role, *flags, cwd=tmp_path)
    assert run.returncode == 0, run.stderr


def test_users_add_and_list(tmp_path: Path):
    added = _run(
        "users",
        "add",
        "quinn",
        "--role",
        "lead",
        "--group",
        "qa-leads",
        "--team",
        "tier1",
        "--team",
        "tier1",
        "--json",
        cwd=tmp_path,
    )
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["teams"] == ["tier1"]
    first_token = json.loads(added.stdout)["token"]
    reissued = _run("users", "token", "quinn", "--json", cwd=tmp_path)
    second_token = json.loads(reissued.stdout)["token"]
    assert first_token.startswith("cf_") and second_token.startswith("cf_")
    assert first_token != second_token
    assert _run("users", "token", "nobody", cwd=tmp_path).returncode == 1
    _add(tmp_path, "a-17", "trainee", "--team", "tier1")
    listed = _run("users", "list", "--json", cwd=tmp_path)
    users = {u["name"]: u for u in json.loads(listed.stdout)}
    assert users["quinn"]["groups"] == ["qa-leads"] and users["a-17"]["role"] == "trainee"
    assert "token" not in json.dumps(users)
    table = _run("users", "list", cwd=tmp_path).stdout
    assert "quinn" in table and "qa-leads" in table

    for args, code, message in [
        (("quinn", "--role", "lead"), 1, "name: user 'quinn' already exists"),
        (("bob", "--role", "boss"), 2, "role: must be one of admin, lead, trainee"),
        (("bad name", "--role", "lead"), 2, "name: letters, digits"),
        (("bob", "--role", "lead", "--team", "tier 1"), 2, "team: 'tier 1' must be"),
        (("bob", "--role", "lead", "--group", "qa/leads"), 2, "group: 'qa/leads' must be"),
    ]:
        refused = _run("users", "add", *args, cwd=tmp_path)
        assert refused.returncode == code and message in refused.stderr, refused.stderr
    assert len(json.loads(_run("users", "list", "--json", cwd=tmp_path).stdout)) == 2


def test_a_coaching_lifecycle_through_the_cli(tmp_path: Path):
    export = tmp_path / "export.jsonl"
    export.write_text(json.dumps(event_dict()) + "\n")
    assert _run("ingest", str(export), cwd=tmp_path).returncode == 0
    _add(tmp_path, "lee", "lead", "--team", "tier1")
    _add(tmp_path, "a-17", "trainee", "--team", "tier1")
    _add(tmp_path, "a-99", "trainee", "--team", "tier1")
    (item,) = json.loads(_run("queue", "--json", cwd=tmp_path).stdout)["items"]
    key = str(item["id"])

    nobody = _run("tasks", "--as", "nobody", cwd=tmp_path)
    assert nobody.returncode == 1 and "no user 'nobody'" in nobody.stderr
    decided = _run(
        "decide",
        key,
        "override",
        "--as",
        "lee",
        "--score",
        "empathy=0",
        "--reason",
        "no empathy in reply 2",
        "--json",
        cwd=tmp_path,
    )
    assert decided.returncode == 0, decided.stderr
    decision = json.loads(decided.stdout)
    assert decision["status"] == "coaching" and decision["lead"] == "lee"
    assert [(c["criterion_id"], c["after"]) for c in decision["changes"]] == [("empathy", 0)]

    (task,) = json.loads(_run("tasks", "--as", "a-17", "--json", cwd=tmp_path).stdout)
    assert (task["key"], task["status"], task["skill"]) == ("empathy-refresher", "open", "empathy")
    assert task["due_at"] and task["assessment_id"] == item["id"]
    listed = _run("tasks", "--as", "a-17", cwd=tmp_path).stdout
    assert "empathy-refresher" in listed and task["due_at"][:10] in listed

    other = _run("complete", str(task["id"]), "--as", "a-99", cwd=tmp_path)
    assert other.returncode == 1 and "belongs to another trainee" in other.stderr
    (still,) = json.loads(_run("tasks", "--as", "a-17", "--json", cwd=tmp_path).stdout)
    assert still["status"] == "open"
    missing = _run("complete", "999", "--as", "a-17", cwd=tmp_path)
    assert missing.returncode == 1 and "no task 999" in missing.stderr

    done = _run("complete", str(task["id"]), "--as", "a-17", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    completed = json.loads(done.stdout)
    assert completed["status"] == "completed" and completed["skill_awarded"] is True
    assert (
        json.loads(_run("skills", "--as", "a-17", "--json", cwd=tmp_path).stdout)[0]["skill"]
        == "empathy"
    )

    (mine,) = json.loads(_run("surveys", "--as", "a-17", "--json", cwd=tmp_path).stdout)
    assert mine["template_id"] == "trainee-rates-coaching" and mine["status"] == "open"
    assert {q["id"] for q in mine["questions"]} >= {"usefulness", "fairness"}
    answered = _run(
        "answer",
        str(mine["id"]),
        "--as",
        "a-17",
        "--answer",
        "usefulness=5",
        "--answer",
        "fairness=4",
        "--answer",
        "comments=thanks",
        "--json",
        cwd=tmp_path,
    )
    assert answered.returncode == 0, answered.stderr
    assert json.loads(answered.stdout)["status"] == "answered"
    (coach,) = json.loads(_run("surveys", "--as", "lee", "--json", cwd=tmp_path).stdout)
    answered = _run(
        "answer",
        str(coach["id"]),
        "--as",
        "lee",
        "--answer",
        "competence=4",
        "--answer",
        "applied_coaching=3",
        cwd=tmp_path,
    )
    assert answered.returncode == 0, answered.stderr

    acked = _run("ack", key, "--as", "a-17", "--json", cwd=tmp_path)
    assert acked.returncode == 0, acked.stderr
    response = json.loads(acked.stdout)
    assert response["kind"] == "acknowledged" and response["trainee_id"] == "a-17"
    assert response["assessment_status"] == "closed_complete"
    shown = json.loads(_run("show", key, "--json", cwd=tmp_path).stdout)
    assert shown["status"] == "closed_complete"
    late = _run("dispute", key, "--as", "a-17", "--reason", "too late", cwd=tmp_path)
    assert late.returncode == 1 and "closed_complete" in late.stderr


def test_serve_answers_health_with_the_embedded_stack(tmp_path: Path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in ("COACHFLOW_DATABASE_URL", "TEMPORAL_ADDRESS")
    }
    environment["COACHFLOW_WEB_PORT"] = str(port)
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "starter.py"), "serve"],
        cwd=tmp_path,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.stdout.read()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    assert json.loads(r.read()) == {"database": "ok", "temporal": "ok"}
                    break
            except OSError:
                assert time.monotonic() < deadline, "serve never answered /healthz"
                time.sleep(0.2)
        children = psutil.Process(process.pid).children(recursive=True)
        names = [child.name() for child in children]
    finally:
        process.terminate()
        returncode = process.wait(timeout=30)
    assert (tmp_path / ".coachflow" / "secret-key").stat().st_mode & 0o077 == 0
    # SIGTERM (`docker stop`) stops the embedded Temporal dev server too: none is left behind.
    assert "temporal" in names
    _, alive = psutil.wait_procs(children, timeout=15)
    assert alive == [], [child.cmdline() for child in alive]
    assert returncode == 0, process.stdout.read()
