"""A long-running process follows the definition folders as another process changes them, at
most one look per interval; the QA sample's activities in a worker do too."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from activities.sampling import SamplingActivities
from opportunities.catalog import load_catalog
from opportunities.editor import Folders
from opportunities.live import LiveCatalog, fingerprint
from tests.definition_files import ANY_CSAT, copy_definitions, edit


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def folders(tmp_path: Path) -> Folders:
    opportunities, rubrics, surveys = copy_definitions(tmp_path)
    return Folders(opportunities, rubrics, surveys, writable=frozenset())


def settled(live: LiveCatalog):
    """The catalog at the second check after a change (with interval 0), when the folders
    have held still since the first."""
    live.current()
    return live.current()


def written_elsewhere(path: Path, text: str) -> None:
    """As the editor writes: a finished file renamed into place."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


def test_a_new_file_is_seen_once_the_interval_has_passed(folders):
    clock = Clock()
    live = LiveCatalog.load(folders, interval=1.0, clock=clock)
    loaded = live.current()
    assert "any-csat" not in loaded.opportunities

    written_elsewhere(folders.opportunities / "any-csat.yaml", ANY_CSAT)
    clock.now += 0.5
    assert live.current() is loaded

    clock.now += 0.6
    assert live.current() is loaded, "a change is loaded once it has held still for a check"
    clock.now += 1.0
    reloaded = live.current()
    assert "any-csat" in reloaded.opportunities
    assert reloaded.opportunities.keys() == load_catalog(*_paths(folders)).opportunities.keys()


def test_nothing_changed_means_no_reload(folders):
    clock = Clock()
    live = LiveCatalog.load(folders, interval=1.0, clock=clock)
    loaded = live.current()
    for _ in range(3):
        clock.now += 5
        assert live.current() is loaded


def test_an_edit_a_removal_and_a_broken_file_are_each_noticed(folders):
    clock = Clock()
    live = LiveCatalog.load(folders, interval=0, clock=clock)
    low_csat = folders.opportunities / "low-csat.yaml"

    edit(low_csat, "version: 1", "version: 2")
    assert settled(live).opportunities["low-csat"].version == 2

    (folders.opportunities / "reassignment.yaml").unlink()
    assert "reassignment" not in settled(live).opportunities

    written_elsewhere(folders.opportunities / "broken.yaml", "id: broken\nwhen: [\n")
    broken = settled(live)
    assert any("broken.yaml" in str(p) for p in broken.problems)
    assert broken.opportunities["low-csat"].version == 2


def test_a_file_written_in_place_is_loaded_only_once_it_holds_still(folders):
    """A hand edit seen half-written, though what was written so far parses, never becomes
    the catalog; the finished file does, once unchanged for a check."""
    clock = Clock()
    live = LiveCatalog.load(folders, interval=1.0, clock=clock)
    loaded = live.current()
    path = folders.opportunities / "any-csat.yaml"
    head = ANY_CSAT.split("review:")[0]
    assert head != ANY_CSAT and "when:" in head
    path.write_text(head)
    assert "any-csat" in load_catalog(*_paths(folders)).opportunities, "the half parses"

    clock.now += 1.0
    assert live.current() is loaded
    path.write_text(ANY_CSAT)
    clock.now += 1.0
    assert live.current() is loaded
    clock.now += 1.0
    finished = live.current()
    assert finished.opportunities["any-csat"].review.escalate_to
    assert (
        finished.opportunities["any-csat"]
        == load_catalog(*_paths(folders)).opportunities["any-csat"]
    )
    clock.now += 1.0
    assert live.current() is finished


def test_a_change_of_the_same_size_within_the_same_tick_is_still_seen(folders):
    """The file is replaced by rename, so its inode differs even when size and time match."""
    before = fingerprint(folders)
    path = folders.rubrics / next(p.name for p in folders.rubrics.glob("*.yaml"))
    stat = path.stat()
    written_elsewhere(path, path.read_text())
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert fingerprint(folders) != before


def test_a_rubric_s_note_template_changed_or_added_in_a_subfolder_is_seen(folders):
    """Another process that edits only a template, or adds the one a rubric names, changes
    no YAML file; the notes this process renders follow it all the same."""
    live = LiveCatalog.load(folders, interval=0)
    edit(
        folders.rubrics / "support-core.yaml",
        "criteria:",
        "templates: {coaching_note: notes/note.md.j2}\ncriteria:",
    )
    assert "support-core@2" not in settled(live).rubrics
    assert any("notes/note.md.j2" in str(p) for p in settled(live).problems)

    (folders.rubrics / "notes").mkdir()
    written_elsewhere(folders.rubrics / "notes" / "note.md.j2", "First note\n")
    rubric = settled(live).rubrics["support-core@2"]
    assert rubric.template_sources["coaching_note"] == "First note\n"

    written_elsewhere(folders.rubrics / "notes" / "note.md.j2", "Second note\n")
    rubric = settled(live).rubrics["support-core@2"]
    assert rubric.template_sources["coaching_note"] == "Second note\n"


def test_hidden_files_and_bytecode_in_the_rubrics_folder_are_not_changes(folders):
    before = fingerprint(folders)
    (folders.rubrics / ".support-core.yaml.x.tmp").write_text("half a file")
    (folders.rubrics / "__pycache__").mkdir()
    (folders.rubrics / "__pycache__" / "checks.cpython-311.pyc").write_bytes(b"\0")
    assert fingerprint(folders) == before


def test_a_fixed_catalog_ignores_the_folders(folders):
    fixed = LiveCatalog.fixed(load_catalog(*_paths(folders)))
    written_elsewhere(folders.opportunities / "any-csat.yaml", ANY_CSAT)
    assert "any-csat" not in fixed.current().opportunities
    assert "any-csat" in fixed.reload(folders).opportunities


def test_a_missing_folder_is_a_problem_until_it_appears(tmp_path, folders):
    missing = Folders(tmp_path / "nowhere", folders.rubrics, folders.surveys)
    live = LiveCatalog.load(missing, interval=0)
    assert any("does not exist" in str(p) for p in settled(live).problems)
    (tmp_path / "nowhere").mkdir()
    written_elsewhere(tmp_path / "nowhere" / "any-csat.yaml", ANY_CSAT)
    assert "any-csat" in settled(live).opportunities
    assert not settled(live).problems


def test_a_worker_s_qa_sample_follows_the_configured_folders(folders, monkeypatch):
    """The default of `python worker.py`: the settings' folders, reloaded when they change."""
    monkeypatch.setenv("COACHFLOW_OPPORTUNITIES_DIR", str(folders.opportunities))
    monkeypatch.setenv("COACHFLOW_RUBRICS_DIR", str(folders.rubrics))
    monkeypatch.setenv("COACHFLOW_SURVEYS_DIR", str(folders.surveys))
    sampling = SamplingActivities(sessions=None, client=None, task_queue="unused")  # type: ignore[arg-type]
    assert "weekly-qa-sample" in sampling.catalog.opportunities

    (folders.opportunities / "weekly-qa-sample.yaml").unlink()
    deadline = time.monotonic() + 10
    while "weekly-qa-sample" in sampling.catalog.opportunities:
        assert time.monotonic() < deadline, "the worker never saw the file go"
        time.sleep(0.1)
    with pytest.raises(Exception, match="no valid opportunity 'weekly-qa-sample'"):
        sampling.sampler_catalog("weekly-qa-sample")


def _paths(folders: Folders) -> tuple[Path, Path, Path]:
    return folders.opportunities, folders.rubrics, folders.surveys
