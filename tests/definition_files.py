"""Copies of the bundled definition folders for tests that break them on purpose."""

from __future__ import annotations

import shutil
from pathlib import Path

from opportunities import BUNDLED_DIR as OPPORTUNITIES
from opportunities.catalog import load_catalog
from rubrics import BUNDLED_DIR as RUBRICS
from surveys import BUNDLED_DIR as SURVEYS

Folders = tuple[Path, Path, Path]
# An opportunity none of the bundled ones is: it takes every CSAT.
ANY_CSAT = """\
id: any-csat
name: Every CSAT
version: 1
on: [csat.received]
when: ticket.csat != null
rubric: support-core
review: {by: team-lead, due: 3d, escalate_to: qa-leads}
"""


def copy_definitions(root: Path) -> Folders:
    """The opportunity, rubric and survey folders, copied under `root`."""
    folders = []
    for source in (OPPORTUNITIES, RUBRICS, SURVEYS):
        target = root / source.name
        target.mkdir()
        for f in [*source.glob("*.yaml"), *source.glob("*.examples.jsonl")]:
            shutil.copy(f, target)
        folders.append(target)
    return folders[0], folders[1], folders[2]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1))


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def catalog_problems(folders: Folders) -> list[str]:
    return [str(p) for p in load_catalog(*folders).problems]
