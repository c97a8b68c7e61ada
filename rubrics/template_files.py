"""A rubric's own note templates on disk: files inside the rubrics folder, after symlinks,
named as templates (so no definition file the admin API writes can be one), of bounded size.
Refusals name the path as the rubric wrote it, never where the folder is."""

from __future__ import annotations

from pathlib import Path

TEMPLATE_SUFFIXES = (".j2", ".jinja", ".jinja2")
MAX_TEMPLATE_BYTES = 64 * 1024
NO_FILE = "no file {} in the rubrics folder"


class TemplateRefused(Exception):
    """Why a template path is refused: a message with `{}` where the path as written goes."""


def read_template(root: Path, relative: str) -> tuple[Path, str]:
    """The template file `relative` names inside the rubrics folder `root`, and its text."""
    try:
        path = (root / relative).resolve()
    except (OSError, RuntimeError, ValueError):
        raise TemplateRefused(NO_FILE) from None
    if not path.is_relative_to(root):
        raise TemplateRefused("{} is outside the rubrics folder")
    if path.suffix not in TEMPLATE_SUFFIXES:
        raise TemplateRefused("{} is not a template file (" + ", ".join(TEMPLATE_SUFFIXES) + ")")
    try:
        if not path.is_file():
            raise TemplateRefused(NO_FILE)
        with path.open("rb") as file:
            data = file.read(MAX_TEMPLATE_BYTES + 1)
        if len(data) > MAX_TEMPLATE_BYTES:
            raise TemplateRefused(f"{{}} is larger than {MAX_TEMPLATE_BYTES // 1024} KiB")
        return path, data.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        raise TemplateRefused("{} cannot be read as UTF-8 text") from None
