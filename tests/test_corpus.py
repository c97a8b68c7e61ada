"""The hand-written ticket corpus: one realistic ticket per file in `tests/corpus/`.

Each file holds a canonical event and what a fair, demanding QA lead expects the draft to
say about it. A case passes or fails: a product bug the corpus finds is fixed, not marked.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from domain.assessment import Draft, MessageEvidence
from domain.events import TicketEvent
from opportunities.catalog import Catalog
from rubrics.attribution import SIGNALS
from tests.drafting import draft_event

CORPUS = Path(__file__).parent / "corpus"
FILES = sorted(CORPUS.glob("*.json"))
MIN_CASES = 32

# Every stop rule the brief requires, by the start of the reason the draft gives.
STOP_RULES = {
    "no thread": "evidence missing: the ticket has no conversation thread",
    "agent under review wrote nothing": "evidence missing: the agent under review wrote nothing",
    "legal threat": "sensitive: the conversation mentions a legal threat",
    "self-harm": "sensitive: the conversation mentions a risk of self-harm",
    "vulnerable customer": "sensitive: the conversation mentions a vulnerable customer",
    "stale evidence": "evidence stale",
    "low CSAT praising the service": "evidence contradictory: the CSAT comment praises the service",
    "CSAT praising speed the metrics fail": (
        "evidence contradictory: the CSAT comment praises the speed"
    ),
}
REQUIRED_FLAGS = (
    "critical_failed",
    "policy_exception",
    "pii_exposed",
    "customer_risk",
    "process_issue",
    "repeat_theme",
    "sensitive",
    "evidence_missing",
    "evidence_stale",
    "evidence_contradictory",
)
PER_CHANNEL_KINDS = ("metric", "reply_gap")
CHANNELS = ("email", "chat")


@cache
def load_case(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text("utf-8"))


def _minutes(start: str, end: str) -> float:
    delta = datetime.fromisoformat(end) - datetime.fromisoformat(start)
    return delta.total_seconds() / 60


def _outputs(drafted: Draft) -> list[tuple[str, str]]:
    """Every text a reader of the draft sees, labelled by where it comes from."""
    texts = [
        ("coaching_note", drafted.coaching_note),
        ("qa_summary", drafted.qa_summary),
        ("summary", drafted.summary),
        ("stop_reason", drafted.stop_reason or ""),
    ]
    for result in drafted.results:
        texts.append((f"{result.criterion_id} explanation", result.explanation))
        texts += [
            (f"{result.criterion_id} quote in {item.message_id}", item.quote)
            for item in result.evidence
            if isinstance(item, MessageEvidence)
        ]
    texts += [(f"process issue ({i.cause})", i.summary) for i in drafted.process_issues]
    return texts


def _check_criteria(expected: dict[str, dict[str, str]], drafted: Draft) -> list[str]:
    results = {r.criterion_id: r for r in drafted.results}
    problems = []
    for cid, want in expected.items():
        result = results.get(cid)
        if result is None:
            problems.append(f"{cid}: expected {want}, but the draft has no result for it")
            continue
        got = {"status": result.status, "cause": result.cause}
        for key, value in want.items():
            if got.get(key) != value:
                problems.append(
                    f"{cid}: expected {key} {value!r}, got {got.get(key)!r} "
                    f"(status {result.status}, cause {result.cause}): {result.explanation!r}"
                )
    return problems


def check_expectations(expect: dict[str, Any], drafted: Draft) -> list[str]:
    """Every way the draft differs from what the case expects, as readable lines."""
    problems = []
    if drafted.status != expect["status"]:
        problems.append(
            f"status: expected {expect['status']!r}, got {drafted.status!r} "
            f"(stop reason: {drafted.stop_reason!r})"
        )
    prefix = expect.get("stop_reason_starts_with")
    if prefix and not (drafted.stop_reason or "").startswith(prefix):
        problems.append(
            f"stop reason: expected it to start with {prefix!r}, got {drafted.stop_reason!r}"
        )
    problems += _check_criteria(expect.get("criteria", {}), drafted)
    problems += [
        f"flags: expected {flag!r} among {drafted.flags}"
        for flag in expect.get("flags_include", [])
        if flag not in drafted.flags
    ]
    problems += [
        f"flags: expected no {flag!r}, got {drafted.flags}"
        for flag in expect.get("flags_exclude", [])
        if flag in drafted.flags
    ]
    if "process_issue_causes" in expect:
        want = set(expect["process_issue_causes"])
        got = {issue.cause for issue in drafted.process_issues}
        if want != got:
            listed = [f"{i.cause}: {i.summary}" for i in drafted.process_issues]
            problems.append(
                f"process issue causes: expected {sorted(want)}, got {sorted(got)} {listed}"
            )
    outputs = _outputs(drafted)
    for raw in expect.get("note_excludes", []):
        leaks = [where for where, text in outputs if raw in text]
        if leaks:
            problems.append(f"{raw!r} must not appear, but it is in: {', '.join(leaks)}")
    everything = "\n".join(text for _, text in outputs)
    problems += [
        f"{wanted!r} expected in the coaching note, QA summary or quotes, but it is missing"
        for wanted in expect.get("note_includes", [])
        if wanted not in everything
    ]
    return problems


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_corpus_case(path: Path, catalog: Catalog) -> None:
    case = load_case(path)
    event = TicketEvent.model_validate(case["event"])
    drafted = draft_event(event, catalog, case["opportunity"], tuple(case["history"]))
    problems = check_expectations(case["expect"], drafted)
    assert not problems, "\n".join(
        [f"{path.name}: {case['title']}", *problems, "", "QA summary:", drafted.qa_summary]
    )


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_corpus_case_is_consistent(path: Path, catalog: Catalog) -> None:
    """The corpus itself: valid events, metrics that match the thread's timestamps."""
    case = load_case(path)
    assert set(case) == {"title", "opportunity", "history", "event", "expect"}
    assert case["opportunity"] in catalog.opportunities
    assert set(case["expect"]) <= {
        "status",
        "stop_reason_starts_with",
        "criteria",
        "flags_include",
        "flags_exclude",
        "process_issue_causes",
        "note_excludes",
        "note_includes",
    }
    assert (case["expect"]["status"] == "stopped") == ("stop_reason_starts_with" in case["expect"])
    ticket = TicketEvent.model_validate(case["event"]).ticket
    raw = case["event"]["ticket"]
    stamps = [m["created_at"] for m in raw["messages"]]
    assert [datetime.fromisoformat(s) for s in stamps] == sorted(
        datetime.fromisoformat(s) for s in stamps
    ), "messages are out of order"
    metrics = raw.get("metrics", {})
    first_reply = next(
        (m for m in raw["messages"] if m["author"]["role"] == "agent" and m["public"]), None
    )
    if first_reply and metrics.get("first_response_minutes") is not None:
        assert metrics["first_response_minutes"] == pytest.approx(
            _minutes(raw["created_at"], first_reply["created_at"]), abs=1
        ), "first_response_minutes does not match the first public agent reply"
    if raw.get("solved_at") and metrics.get("resolution_minutes") is not None:
        assert metrics["resolution_minutes"] == pytest.approx(
            _minutes(raw["created_at"], raw["solved_at"]), abs=1
        ), "resolution_minutes does not match created_at..solved_at"
    if raw["messages"]:
        assert stamps[0] == raw["created_at"], "the ticket starts with its first message"
    assert all(m.author.role != "customer" or m.public for m in ticket.messages)


def test_corpus_coverage(catalog: Catalog) -> None:
    """Enough cases, and every check kind, cause, stop rule and flag the brief asks for."""
    cases = [load_case(path) for path in FILES]
    assert len(cases) >= MIN_CASES, f"{len(cases)} cases; at least {MIN_CASES} expected"
    rubric = catalog.rubric_for(catalog.opportunities["low-csat"])
    kind_of = {c.id: c.check.kind for c in rubric.criteria}

    seen: set[tuple[str, str]] = set()
    per_channel: set[tuple[str, str, str]] = set()
    causes: set[str] = set()
    process_causes: set[str] = set()
    flags: set[str] = set()
    stops: set[str] = set()
    for case in cases:
        expect, ticket = case["expect"], case["event"]["ticket"]
        for cid, want in expect.get("criteria", {}).items():
            assert cid in kind_of, f"{case['title']}: unknown criterion {cid}"
            seen.add((kind_of[cid], want["status"]))
            per_channel.add((kind_of[cid], want["status"], ticket.get("channel") or ""))
            if want.get("cause"):
                causes.add(want["cause"])
        process_causes.update(expect.get("process_issue_causes", []))
        flags.update(expect.get("flags_include", []))
        if expect.get("stop_reason_starts_with"):
            stops.add(expect["stop_reason_starts_with"])

    missing = [
        f"{kind} {status}"
        for kind in sorted(set(kind_of.values()))
        for status in ("passed", "failed")
        if (kind, status) not in seen
    ]
    missing += [
        f"{kind} {status} on {channel}"
        for kind in PER_CHANNEL_KINDS
        for status in ("passed", "failed")
        for channel in CHANNELS
        if (kind, status, channel) not in per_channel
    ]
    assert not missing, f"check kinds not covered: {missing}"

    signal_causes = {signal.cause for signal in SIGNALS}
    assert {"agent_behavior", *signal_causes} <= causes, f"causes covered: {sorted(causes)}"
    assert signal_causes <= process_causes, f"process issues covered: {sorted(process_causes)}"

    uncovered = [
        rule
        for rule, prefix in STOP_RULES.items()
        if not any(stop.startswith(prefix) for stop in stops)
    ]
    assert not uncovered, f"stop rules not covered: {uncovered}"
    assert set(REQUIRED_FLAGS) <= flags, f"flags not covered: {set(REQUIRED_FLAGS) - flags}"

    handed_over = [
        case
        for case in cases
        if case["event"]["ticket"].get("metrics", {}).get("reassignment_count")
        and case["expect"].get("criteria", {}).get("first_response_sla", {}).get("status")
        == "not_applicable"
    ]
    assert handed_over, "no reassigned ticket whose first reply was another agent's"
    approved = [
        case
        for case in cases
        if case["expect"].get("criteria", {}).get("no_unapproved_exception", {}).get("status")
        == "passed"
        and any(not m["public"] for m in case["event"]["ticket"]["messages"])
        and "approv" in " ".join(m["body"] for m in case["event"]["ticket"]["messages"])
    ]
    assert approved, "no promise covered by an approval recorded in an internal note"
    assert any(c["history"] for c in cases), "no case with a repeat-theme history"
