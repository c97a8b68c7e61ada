"""Every definition file is read within bounds: no anchors or aliases (a 1 KB "billion laughs"
document is refused at its first anchor, in a few kilobytes), at most MAX_YAML_BYTES, at most
MAX_NODES values nested at most MAX_DEPTH deep. Through the loader, the catalog, `starter.py
check` and the admin API."""

from __future__ import annotations

import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from domain.yamlsource import (
    MAX_DEPTH,
    MAX_NODES,
    MAX_YAML_BYTES,
    NO_ALIASES,
    YamlError,
    load_yaml,
)
from opportunities.catalog import load_catalog
from tests.app_support import files
from tests.definition_files import Folders, copy_definitions
from tests.helpers import bearer

ROOT = Path(__file__).resolve().parent.parent
LOL = '["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'
BOMB = f"a: &a {LOL}\n" + "".join(
    f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi", strict=True)
)
MEMORY_BOUND = 2 * 1024 * 1024
REFUSED = f"invalid YAML: {NO_ALIASES}"


def _refusal(path: Path) -> str:
    with pytest.raises(YamlError) as refused:
        load_yaml(path)
    (problem,) = refused.value.problems
    return str(problem)


def _peak_while(action) -> int:
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_billion_laughs_is_refused_at_its_first_anchor_in_bounded_memory(tmp_path):
    assert len(BOMB) < 1024 and BOMB.count("*") == 72
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB)
    problems: list[str] = []
    peak = _peak_while(lambda: problems.append(_refusal(path)))
    assert problems == [f"{path}:1: {REFUSED}"]
    assert peak < MEMORY_BOUND, f"{peak:,} bytes"


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("id: x\nname: &n Name\n", 2),
        ("base: &base {a: 1}\nmerged:\n  <<: *base\n", 1),
        ("ok: 1\nlater: *nowhere\n", 2),
        ("- !!str &x one\n", 1),
    ],
    ids=["an anchor alone", "a merge key", "an alias alone", "a tagged anchor"],
)
def test_any_anchor_or_alias_is_a_located_problem(tmp_path, text, line):
    path = tmp_path / "anchored.yaml"
    path.write_text(text)
    assert _refusal(path) == f"{path}:{line}: {REFUSED}"


def test_a_file_over_the_size_limit_is_refused_and_one_at_it_loads(tmp_path):
    head = "id: big\nnotes: |\n"
    line = "  " + "x" * 97 + "\n"
    body = line * ((MAX_YAML_BYTES - len(head)) // len(line))
    at_limit = head + body + "#" * (MAX_YAML_BYTES - len(head) - len(body) - 1) + "\n"
    assert len(at_limit.encode()) == MAX_YAML_BYTES
    path = tmp_path / "big.yaml"
    path.write_text(at_limit)
    assert load_yaml(path).data["id"] == "big"
    path.write_text(at_limit + "\n")
    limit = f"{MAX_YAML_BYTES // 1024} KiB"
    assert _refusal(path) == f"{path}:1: too large: a definition file is at most {limit}"


def test_nesting_deeper_than_the_limit_is_refused(tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text("[" * MAX_DEPTH + "]" * MAX_DEPTH + "\n")
    assert load_yaml(path).data is not None
    path.write_text("key:\n  " + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "\n")
    assert _refusal(path) == f"{path}:2: invalid YAML: nested too deeply"


def test_more_values_than_the_limit_are_refused(tmp_path):
    path = tmp_path / "many.yaml"
    path.write_text("[" + ",".join(["1"] * (MAX_NODES - 1)) + "]\n")
    assert len(load_yaml(path).data) == MAX_NODES - 1
    path.write_text("[" + ",".join(["1"] * MAX_NODES) + "]\n")
    assert _refusal(path) == f"{path}:1: invalid YAML: more than {MAX_NODES} values"


def test_no_shipped_definition_or_fixture_uses_anchors():
    found = [
        p
        for folder in ("opportunities", "rubrics", "surveys", "examples", "tests")
        for p in (ROOT / folder).rglob("*.y*ml")
        if p.suffix in (".yaml", ".yml")
    ]
    assert found
    for path in found:
        load_yaml(path)


def _bombed(root: Path) -> Folders:
    root.mkdir()
    defs = copy_definitions(root)
    (defs[0] / "bomb.yaml").write_text(BOMB)
    return defs


def test_the_catalog_and_check_report_a_bomb_and_load_the_rest(tmp_path):
    defs = _bombed(tmp_path / "definitions")
    catalog = load_catalog(*defs)
    assert [str(p) for p in catalog.problems] == [f"{defs[0] / 'bomb.yaml'}:1: {REFUSED}"]
    assert {"low-csat", "first-response"} <= set(catalog.opportunities)

    env = {
        **os.environ,
        "COACHFLOW_OPPORTUNITIES_DIR": str(defs[0]),
        "COACHFLOW_RUBRICS_DIR": str(defs[1]),
        "COACHFLOW_SURVEYS_DIR": str(defs[2]),
    }
    run = subprocess.run(
        [sys.executable, str(ROOT / "starter.py"), "check"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert f"definitions/opportunities/bomb.yaml:1: {REFUSED}" in run.stdout


async def test_a_billion_laughs_uploaded_is_refused_in_bounded_memory(api, tokens, folders):
    before = files(folders)
    tracemalloc.start()
    try:
        response = await api.put(
            "/api/admin/definitions/opportunities/low-csat",
            content=BOMB.encode(),
            headers={**bearer(tokens["ada"]), "Content-Type": "text/yaml"},
        )
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert response.status_code == 422, response.text
    (problem,) = response.json()["detail"]["problems"]
    assert problem["path"].endswith("opportunities/low-csat.yaml")
    assert (problem["line"], problem["message"]) == (1, REFUSED)
    assert peak < 10 * MEMORY_BOUND, f"{peak:,} bytes"
    assert files(folders) == before
