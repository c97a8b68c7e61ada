"""The catalog as its folders hold it now, for a process that runs for long.

The web app and every worker load the same folders, and an admin's change reaches the
process that made it at once. The others notice it here: at most once per `interval` a
process lists the folders' YAML files and the rubrics' note templates (name, size,
modification time, inode), and when anything differs and has stayed so since the check
before, it loads the catalog again. The editor writes by renaming a finished file into place,
so it never shows half a file; a file written in place by hand or by a deployment tool may,
and waiting for the folders to hold still keeps a half-written definition, which may well
parse, out of the catalog.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from opportunities.catalog import Catalog
from opportunities.editor import KINDS, Folders

CHECK_INTERVAL = 1.0
YAML = (".yaml", ".yml")

Fingerprint = tuple[tuple[str, str, int, int, int], ...]


def fingerprint(folders: Folders) -> Fingerprint:
    """What identifies the definition files as they are now: the folders' YAML files and, in
    the rubrics folder and below it, every file, since a rubric's note templates sit beside it
    or in a subfolder (a symlinked subfolder is not walked: it leads elsewhere, or to files
    counted already). Hidden files (the editor's half-written ones) do not count; a missing
    folder does."""
    entries: list[tuple[str, str, int, int, int]] = []
    for kind in KINDS:
        folder: Path = folders.of(kind)
        try:
            if kind == "rubrics":
                entries.extend(_tree(kind, folder))
            else:
                with os.scandir(folder) as found:
                    entries.extend(_entry(kind, e.name, e) for e in found if e.name.endswith(YAML))
        except (FileNotFoundError, NotADirectoryError):
            entries.append((kind, "", -1, -1, -1))
    return tuple(sorted(entries))


def _entry(kind: str, name: str, entry: os.DirEntry) -> tuple[str, str, int, int, int]:
    stat = entry.stat()
    return kind, name, stat.st_mtime_ns, stat.st_size, stat.st_ino


def _tree(kind: str, folder: Path, prefix: str = "") -> list[tuple[str, str, int, int, int]]:
    entries = []
    with os.scandir(folder) as found:
        for entry in found:
            if entry.name.startswith((".", "__")):
                continue
            name = prefix + entry.name
            if entry.is_dir(follow_symlinks=False):
                entries.extend(_tree(kind, Path(entry.path), f"{name}/"))
            elif entry.is_file():
                entries.append(_entry(kind, name, entry))
    return entries


class LiveCatalog:
    """`current()` is the catalog of the folders now, give or take `interval` seconds. Made
    with `fixed`, it is one catalog that changes only when this process edits it."""

    def __init__(
        self,
        folders: Folders | None,
        catalog: Catalog,
        seen: Fingerprint | None = None,
        interval: float = CHECK_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.folders = folders
        self._catalog = catalog
        self._seen = seen
        self._changing: Fingerprint | None = None
        self._interval = interval
        self._clock = clock
        self._next_check = clock() + interval

    @classmethod
    def load(
        cls,
        folders: Folders,
        interval: float = CHECK_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> LiveCatalog:
        seen = fingerprint(folders)
        return cls(folders, folders.load(), seen, interval, clock)

    @classmethod
    def fixed(cls, catalog: Catalog) -> LiveCatalog:
        return cls(None, catalog)

    def current(self) -> Catalog:
        """The catalog, loaded again when the folders changed and have held still for one
        check since: a change is in use one to two intervals after it is made."""
        if self.folders is None:
            return self._catalog
        now = self._clock()
        if now < self._next_check:
            return self._catalog
        self._next_check = now + self._interval
        found = fingerprint(self.folders)
        if found == self._seen:
            self._changing = None
        elif found == self._changing:
            self.reload()
        else:
            self._changing = found
        return self._catalog

    def reload(self, folders: Folders | None = None) -> Catalog:
        """Load the folders now: this catalog's own, or `folders` (a fixed catalog takes what
        an edit through this process made). The fingerprint is taken first, so a file changed
        while loading is noticed at the next check."""
        folders = folders or self.folders
        if folders is None:
            return self._catalog
        seen = fingerprint(folders)
        self._catalog = folders.load()
        if self.folders is not None:
            self._seen, self._changing = seen, None
            self._next_check = self._clock() + self._interval
        return self._catalog
