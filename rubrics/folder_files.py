"""Files a rubric names beside it (note templates, labelled examples): inside the rubrics
folder after symlinks, of a kind no definition file the admin API writes can be, of bounded
size, UTF-8. Refusals name the path as the rubric wrote it, never where the folder is."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

NO_FILE = "no file {} in the rubrics folder"


class FileRefused(Exception):
    """Why a file is refused: a message with `{}` where the path as written goes."""


@dataclass(frozen=True)
class FileKind:
    suffixes: tuple[str, ...]
    described: str
    max_bytes: int
    max_lines: int | None = None

    def read(self, root: Path, relative: str) -> tuple[Path, str]:
        """The file `relative` names inside the rubrics folder `root`, and its text."""
        try:
            path = (root / relative).resolve()
        except (OSError, RuntimeError, ValueError):
            raise FileRefused(NO_FILE) from None
        if not path.is_relative_to(root):
            raise FileRefused("{} is outside the rubrics folder")
        if path.suffix not in self.suffixes:
            raise FileRefused(f"{{}} is not {self.described} ({', '.join(self.suffixes)})")
        try:
            if not path.is_file():
                raise FileRefused(NO_FILE)
            with path.open("rb") as file:
                data = file.read(self.max_bytes + 1)
            if len(data) > self.max_bytes:
                raise FileRefused(f"{{}} is larger than {_size(self.max_bytes)}")
            text = data.decode("utf-8")
        except (OSError, UnicodeDecodeError):
            raise FileRefused("{} cannot be read as UTF-8 text") from None
        if self.max_lines is not None and len(text.splitlines()) > self.max_lines:
            raise FileRefused(f"{{}} has more than {self.max_lines:,} lines")
        return path, text


def _size(limit: int) -> str:
    return f"{limit // 1024 // 1024} MiB" if limit >= 1024 * 1024 else f"{limit // 1024} KiB"


TEMPLATE = FileKind((".j2", ".jinja", ".jinja2"), "a template file", 64 * 1024)
EXAMPLES = FileKind((".jsonl",), "a JSON Lines file", 1024 * 1024, max_lines=1000)
