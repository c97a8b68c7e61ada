"""Opportunity and rubric files: the bundled ones are valid; each kind of mistake is located."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from opportunities.catalog import load_catalog
from tests.definition_files import Folders, catalog_problems, copy_definitions, edit, line_of

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def defs(tmp_path: Path) -> Folders:
    return copy_definitions(tmp_path)


def test_bundled_definitions_are_valid():
    catalog = load_catalog()
    assert catalog.problems == []
    assert {"first-response", "reassignment", "low-csat", "escalation", "weekly-qa-sample"} <= set(
        catalog.opportunities
    )
    assert catalog.rubric_for(catalog.opportunities["low-csat"]).ref == "support-core@2"


@pytest.mark.parametrize(
    ("old", "new", "marker", "message"),
    [
        (
            "virtual_coach: false",
            "virtual_coach: false\nescalate: yes",
            "escalate: yes",
            "escalate: unknown key",
        ),
        ("when: ticket.agent != null", "when: ticket.agent != ", "when:", "CEL syntax error"),
        (
            "when: ticket.agent != null",
            'when: ticket.metrics.reopens + "x" > 1',
            "when:",
            "CEL type error",
        ),
        ("when: ticket.agent != null", "when: ticket.nonexistent == 1", "when:", "no such field"),
        ("when: ticket.agent != null", "when: customer.id == 1", "when:", "unknown variable"),
        ("when: ticket.agent != null", "when: ticket.metrics.reopens", "when:", "not true/false"),
        (
            "rubric: support-core",
            "rubric: support-kore",
            "rubric:",
            "unknown rubric 'support-kore'",
        ),
        ("rubric: support-core", "rubric: support-core@9", "rubric:", "has no version 9"),
        ("due: 3d", "due: 3 days", "review:", "bad duration"),
        (
            "on: [ticket.first_response]",
            "on: [ticket.frist_response]",
            "on: [",
            "unknown event type 'ticket.frist_response'",
        ),
        (
            "if_failed: [empathy, ownership]",
            "if_failed: [empathy, kindness]",
            "if_failed",
            "no criterion 'kindness'",
        ),
        ("version: 1", "version: 1\nversion: 2", "version: 2", "duplicate key 'version'"),
        ("name: First response quality", "name: [unclosed", "name:", "invalid YAML"),
    ],
)
def test_opportunity_mistakes_are_reported_with_path_and_line(defs, old, new, marker, message):
    path = defs[0] / "first-response.yaml"
    edit(path, old, new)
    problems = catalog_problems(defs)
    line = line_of(path, marker)
    expected = f"{path}:{line}:"
    assert any(p.startswith(expected) and message in p for p in problems), problems


def test_draft_rubric_cannot_score(defs):
    rubric = defs[1] / "support-core.yaml"
    edit(rubric, "status: approved", "status: draft")
    problems = catalog_problems(defs)
    assert any("first-response.yaml" in p and "no approved version" in p for p in problems)
    pinned = defs[0] / "low-csat.yaml"
    edit(pinned, "rubric: support-core", "rubric: support-core@2")
    assert any(
        "low-csat.yaml" in p and "is draft, not approved" in p for p in catalog_problems(defs)
    )


@pytest.mark.parametrize(
    ("old", "new", "marker", "message"),
    [
        (
            "kind: metric, metric: first_response_minutes",
            "kind: metric, metric: first_reply_minutes",
            "first_reply_minutes",
            "metric",
        ),
        (
            "{kind: internal_note, min_words: 15}",
            "{kind: sentiment}",
            "kind: sentiment",
            "does not match any of the expected tags",
        ),
        (
            "applies_when: size(ticket.kb_articles) > 0",
            "applies_when: size(ticket.kb_articles) >",
            "applies_when: size(ticket.kb_articles) >",
            "criteria[6].applies_when: CEL syntax error",
        ),
        (
            "weight: 2\n    applies_when",
            "weight: -1\n    applies_when",
            "weight: -1",
            "greater than 0",
        ),
    ],
)
def test_rubric_mistakes_are_reported_with_path_and_line(defs, old, new, marker, message):
    path = defs[1] / "support-core.yaml"
    edit(path, old, new)
    problems = catalog_problems(defs)
    line = line_of(path, marker)
    assert any(p.startswith(f"{path}:{line}:") and message in p for p in problems), problems


def test_on_is_a_key_not_a_boolean(defs):
    catalog = load_catalog(*defs)
    assert catalog.opportunities["low-csat"].on == ["csat.received"]


def test_check_command_prints_problems_and_exits_1(defs, tmp_path):
    edit(defs[0] / "escalation.yaml", "within: 30d", "within: soon")
    env = {
        "COACHFLOW_OPPORTUNITIES_DIR": str(defs[0]),
        "COACHFLOW_RUBRICS_DIR": str(defs[1]),
        "PATH": "/usr/bin:/bin",
    }
    run = subprocess.run(
        [sys.executable, str(ROOT / "starter.py"), "check"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 1
    line = line_of(defs[0] / "escalation.yaml", "dedupe:")
    assert f"escalation.yaml:{line}: dedupe.within: bad duration 'soon'" in run.stdout


def test_check_command_passes_on_bundled_definitions(tmp_path):
    run = subprocess.run(
        [sys.executable, str(ROOT / "starter.py"), "check"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("ok: 5 opportunities")


def test_a_rubric_template_is_loaded_and_its_errors_are_located(defs):
    rubric = defs[1] / "support-core.yaml"
    edit(rubric, "criteria:", "templates: {coaching_note: notes/note.md.j2}\ncriteria:")
    (defs[1] / "notes").mkdir()
    template = defs[1] / "notes" / "note.md.j2"
    template.write_text("Hello {{ trainee_name }}\n{% for p in points %}\n{{ p.name }\n")
    problems = catalog_problems(defs)
    assert any(p.startswith(f"{template}:3: template error") for p in problems), problems
    template.write_text("Custom note for {{ trainee_name }}\n")
    catalog = load_catalog(*defs)
    assert catalog.problems == []
    assert catalog.rubrics["support-core@2"].template_sources["coaching_note"].startswith("Custom")


def test_a_missing_template_file_is_reported(defs):
    rubric = defs[1] / "support-core.yaml"
    edit(rubric, "criteria:", "templates: {qa_summary: nowhere.j2}\ncriteria:")
    problems = catalog_problems(defs)
    line = line_of(rubric, "templates:")
    assert any(p.startswith(f"{rubric}:{line}: templates.qa_summary: no file") for p in problems)


def test_the_review_escalation_must_come_before_the_expiry(defs):
    path = defs[0] / "low-csat.yaml"
    edit(path, "due: 3d,", "due: 3d, escalate_after: 12d,")
    line = line_of(path, "review:")
    assert any(
        p.startswith(f"{path}:{line}:") and "must come before `expires`" in p
        for p in catalog_problems(defs)
    ), catalog_problems(defs)
