"""A rubric version's own labelled examples: `check` drafts them and reports a criterion below
its bar at the rubric's line and each disagreeing case at its line of the example file; the
admin API refuses to upload or approve a version that fails them; the file is confined to the
rubrics folder and bounded; the bundled examples pass."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from opportunities.catalog import load_catalog
from rubrics import BUNDLED_DIR as RUBRICS
from tests.definition_files import Folders, copy_definitions, line_of
from tests.helpers import bearer

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = "support-core.examples.jsonl"
BUNDLED_EXAMPLES = RUBRICS / EXAMPLES
ALL_MUST_AGREE = f"examples: {{file: {EXAMPLES}, min_agreement: 1.0}}"
BARS = f"examples:\n  file: {EXAMPLES}\n  min_agreement: 0.9\n  criteria: {{ownership: 0.95}}"
# The parcel case: "Please contact us again if…" is not a next step.
PARCEL = "example-04"
CRITERIA = ("empathy", "ownership", "greeting_closing", "tone", "no_unapproved_exception")


@pytest.fixture
def defs(tmp_path: Path) -> Folders:
    return copy_definitions(tmp_path)


def cases() -> list[dict]:
    return [json.loads(line) for line in BUNDLED_EXAMPLES.read_text().splitlines() if line]


def write_cases(path: Path, items: list[dict]) -> None:
    path.write_text("".join(json.dumps(c) + "\n" for c in items))


def with_parcel_labelled_a_step(path: Path) -> int:
    """The example file with the parcel case relabelled (ownership pass); returns its line."""
    items = cases()
    index = next(i for i, c in enumerate(items) if c["event_id"] == PARCEL)
    items[index]["labels"]["ownership"] = "pass"
    write_cases(path, items)
    return index + 1


def declared(text: str, declaration: str) -> str:
    text = re.sub(r"^examples:.*\n(?:[ \t]+.*\n)*", "", text, flags=re.M)
    return re.sub(r"^criteria:", f"{declaration}\ncriteria:", text, count=1, flags=re.M)


def declare(rubric: Path, declaration: str) -> None:
    rubric.write_text(declared(rubric.read_text(), declaration))


def problems(defs: Folders) -> list[str]:
    return [str(p) for p in load_catalog(*defs).problems]


def test_the_bundled_examples_pass_and_cover_the_judged_criteria(defs):
    declare(defs[1] / "support-core.yaml", ALL_MUST_AGREE)
    catalog = load_catalog(*defs)
    assert catalog.problems == []
    assert catalog.rubrics["support-core@2"].examples.min_agreement == 1.0
    items = cases()
    assert 12 <= len(items) <= 15
    for criterion in CRITERIA:
        labels = {c["labels"].get(criterion) for c in items}
        assert {"pass", "fail"} <= labels, criterion
    (parcel,) = [c for c in items if c["event_id"] == PARCEL]
    assert "contact us again if" in parcel["ticket"]["messages"][-1]["body"]
    assert parcel["labels"]["ownership"] == "fail"
    promised = [c for c in items if "as an exception I will refund" in json.dumps(c)]
    assert [c["labels"]["no_unapproved_exception"] for c in promised] == ["fail"]


def test_check_reports_a_criterion_below_its_bar_and_each_disagreeing_case(defs, tmp_path):
    rubric = defs[1] / "support-core.yaml"
    case_line = with_parcel_labelled_a_step(defs[1] / EXAMPLES)
    declare(rubric, BARS)
    bar_line = line_of(rubric, "criteria: {ownership")
    run = subprocess.run(
        [sys.executable, str(ROOT / "starter.py"), "check"],
        cwd=tmp_path,
        env={
            "COACHFLOW_OPPORTUNITIES_DIR": str(defs[0]),
            "COACHFLOW_RUBRICS_DIR": str(defs[1]),
            "COACHFLOW_SURVEYS_DIR": str(defs[2]),
            "PATH": "/usr/bin:/bin",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.stdout.splitlines() == [
        f"rubrics/support-core.yaml:{bar_line}: examples: ownership agrees on 12 of 13 examples "
        "(92.3%), below the rubric's 95%",
        f"rubrics/{EXAMPLES}:{case_line}: support-core@2: ownership labelled pass, drafted fail",
    ]


def test_eval_still_runs_where_the_only_problems_are_failing_examples(defs, tmp_path):
    """The examples failing is exactly when an admin wants `eval`'s figures and quotes."""
    with_parcel_labelled_a_step(defs[1] / EXAMPLES)
    declare(defs[1] / "support-core.yaml", BARS)
    run = subprocess.run(
        [sys.executable, str(ROOT / "starter.py"), "eval", str(defs[1] / EXAMPLES), "--json"],
        cwd=tmp_path,
        env={
            "COACHFLOW_OPPORTUNITIES_DIR": str(defs[0]),
            "COACHFLOW_RUBRICS_DIR": str(defs[1]),
            "COACHFLOW_SURVEYS_DIR": str(defs[2]),
            "COACHFLOW_DATA_DIR": str(tmp_path),
            "PATH": "/usr/bin:/bin",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert '"ownership"' in run.stdout


def test_a_set_that_meets_its_bars_reports_nothing_and_the_default_bar_is_all(defs):
    with_parcel_labelled_a_step(defs[1] / EXAMPLES)
    declare(defs[1] / "support-core.yaml", f"examples: {{file: {EXAMPLES}, min_agreement: 0.9}}")
    assert problems(defs) == []
    declare(defs[1] / "support-core.yaml", f"examples: {{file: {EXAMPLES}}}")
    (bar, case) = problems(defs)
    assert bar.endswith(
        "examples: ownership agrees on 12 of 13 examples (92.3%), below the rubric's 100%"
    )
    assert case.endswith("support-core@2: ownership labelled pass, drafted fail")


def _refusal(defs: Folders, relative: str) -> str:
    rubric = defs[1] / "support-core.yaml"
    declare(rubric, f"examples: {{file: '{relative}'}}")
    (problem,) = problems(defs)
    prefix = f"{rubric}:{line_of(rubric, 'examples:')}: "
    assert problem.startswith(prefix), problem
    message = problem.removeprefix(prefix)
    for folder in (defs[1], defs[1].resolve(), defs[1].parent):
        assert str(folder) not in message, problem
    return message


@pytest.mark.parametrize("relative", ["../outside.examples.jsonl", "/etc/hostname"])
def test_a_path_out_of_the_folder_is_refused(defs, tmp_path, relative):
    (tmp_path / "outside.examples.jsonl").write_bytes(BUNDLED_EXAMPLES.read_bytes())
    message = _refusal(defs, relative)
    assert message == f"examples.file: {relative!r} is outside the rubrics folder"


def test_a_symlink_out_of_the_folder_is_refused(defs, tmp_path):
    outside = tmp_path / "elsewhere" / "secret.jsonl"
    outside.parent.mkdir()
    outside.write_bytes(BUNDLED_EXAMPLES.read_bytes())
    (defs[1] / "linked.jsonl").symlink_to(outside)
    message = _refusal(defs, "linked.jsonl")
    assert message == "examples.file: 'linked.jsonl' is outside the rubrics folder"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("\n" * 1001, "has more than 1,000 lines"),
        (" " * (1024 * 1024) + "\n", "is larger than 1 MiB"),
        (b"\xff\xfe\n", "cannot be read as UTF-8 text"),
    ],
    ids=["lines", "bytes", "not text"],
)
def test_an_oversize_or_unreadable_file_is_refused(defs, content, message):
    path = defs[1] / "big.examples.jsonl"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    assert _refusal(defs, path.name) == f"examples.file: {path.name!r} {message}"


def test_only_a_json_lines_file_in_the_folder_is_read(defs):
    assert _refusal(defs, "support-core.yaml") == (
        "examples.file: 'support-core.yaml' is not a JSON Lines file (.jsonl)"
    )
    missing = _refusal(defs, "none.jsonl")
    assert missing == "examples.file: no file 'none.jsonl' in the rubrics folder"


def test_bad_lines_and_unknown_criteria_are_located(defs):
    rubric = defs[1] / "support-core.yaml"
    items = cases()
    items[1]["labels"]["empathy"] = "maybe"
    items[2]["labels"]["kindness"] = "pass"
    write_cases(defs[1] / EXAMPLES, items)
    declare(rubric, f"examples:\n  file: {EXAMPLES}\n  criteria: {{kindness: 0.5}}")
    examples, criteria = line_of(rubric, "file:"), line_of(rubric, "criteria: {kindness")
    assert problems(defs) == [
        f"{rubric}:{criteria}: examples.criteria.kindness: not a criterion of support-core@2",
        f"{defs[1] / EXAMPLES}:2: labels.empathy: must be pass, fail or na",
        f"{defs[1] / EXAMPLES}:3: labels.kindness: not a criterion of support-core@2",
        f"{rubric}:{examples}: examples.file: 2 bad line(s) in {EXAMPLES!r}; nothing drafted",
    ]


def test_a_bar_that_no_example_tests_is_reported(defs):
    rubric = defs[1] / "support-core.yaml"
    declare(rubric, f"examples:\n  file: {EXAMPLES}\n  criteria: {{handoff_note: 1.0}}")
    assert problems(defs) == [
        f"{rubric}:{line_of(rubric, 'criteria: {handoff_note')}: examples.criteria.handoff_note: "
        "no example labels it pass or fail"
    ]


# --- the admin API --------------------------------------------------------------------------


def invalid(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert detail["error"] == "Invalid", detail
    return [f"{p['path']}:{p['line']}: {p['message']}" for p in detail["problems"]]


def draft_v3(declaration: str) -> str:
    text = (RUBRICS / "support-core.yaml").read_text()
    text = text.replace("version: 2", "version: 3")
    text = text.replace("status: approved\napproved_by: qa-lead\n", "status: draft\n")
    return declared(text, declaration)


async def test_upload_and_approval_refuse_a_version_that_fails_its_examples(api, tokens, folders):
    rubrics = folders[1]
    admin = {"Content-Type": "text/yaml", **bearer(tokens["ada"])}
    case_line = with_parcel_labelled_a_step(rubrics / "support-core@3.examples.jsonl")
    failing = draft_v3("examples: {file: support-core@3.examples.jsonl}")
    response = await api.put(
        "/api/admin/definitions/rubrics/support-core@3", content=failing, headers=admin
    )
    found = invalid(response)
    assert len(found) == 2, found
    bar_line = failing.splitlines().index("examples: {file: support-core@3.examples.jsonl}") + 1
    assert found[0].endswith(
        f"rubrics/support-core@3.yaml:{bar_line}: examples: ownership agrees on 12 of 13 "
        "examples (92.3%), below the rubric's 100%"
    )
    assert found[1].endswith(
        f"rubrics/support-core@3.examples.jsonl:{case_line}: support-core@3: ownership labelled "
        "pass, drafted fail"
    )
    assert not (rubrics / "support-core@3.yaml").exists()

    # Any example file in the folder will do: this one was placed for version 2.
    passing = draft_v3(ALL_MUST_AGREE)
    response = await api.put(
        "/api/admin/definitions/rubrics/support-core@3", content=passing, headers=admin
    )
    assert response.status_code == 200, response.text
    assert (rubrics / "support-core@3.yaml").read_text() == passing

    # The operator edits an example; the draft now fails it and is not approved.
    shipped = (rubrics / EXAMPLES).read_bytes()
    case_line = with_parcel_labelled_a_step(rubrics / EXAMPLES)
    approve = "/api/admin/rubrics/support-core@3/approve"
    found = invalid(await api.post(approve, headers=bearer(tokens["ada"])))
    assert any(
        p.endswith(f"{EXAMPLES}:{case_line}: support-core@3: ownership labelled pass, drafted fail")
        for p in found
    ), found
    assert (rubrics / "support-core@3.yaml").read_text() == passing

    (rubrics / EXAMPLES).write_bytes(shipped)
    approved = await api.post(approve, headers=bearer(tokens["ada"]))
    assert approved.status_code == 200, approved.text
    assert approved.json()["definition"]["status"] == "approved"
