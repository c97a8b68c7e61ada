"""Change definition files: check a new or changed file against every other definition, then
write it atomically. Pure of HTTP: a refusal is an exception the web layer turns into a status.

How a change is checked. The file is parsed on its own first (YAML, the model, the id against
the one asked for); then the folder it goes into is copied to a temporary folder, the file is
added or replaced there, and the whole catalog is loaded from that copy and the other two real
folders, so the cross-file checks run (rubric and survey references, criteria named by
learning tasks, CEL type probes). Any problem the real folders do not already have refuses the
change, located as `path:line: message` at the path the file would have. Nothing is written
until every check passes.

Paths. A refusal never shows where the folders are on the server: every path in it, and in
the plan's `file`, is named from its definitions folder, `rubrics/x@1.yaml`
(`Folders.public`); `starter.py check` shows the catalog's own paths.

Examples. A rubric version that declares `examples` is refused, on upload and on approval, while
it fails them, even when the catalog already reports the same failures (another version may share
the file). The file is read from the real folder, where the operator placed it: the admin API
writes only YAML.

Versions. A rubric version (`id@version`) and a survey version are immutable: the same version
with other content is a conflict; bump `version`. An opportunity's `version` must increase
whenever its content changes. A new rubric version is uploaded as a `draft`: approving it is
its own change (`set_rubric_status`), which records the approver. Running workflows carry the
definitions they started with, so a change only affects new matches.

Files. Opportunities and surveys live in `{id}.yaml` (an existing `{id}.yml` is replaced in
place); each rubric version in its own file, `{id}@{version}.yaml`, unless a file already holds
that version (the bundled `support-core.yaml` holds version 2), so versions sit side by side.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ValidationError

from domain.definitions import Opportunity, Rubric
from domain.errors import field_errors
from domain.yamlsource import Problem, YamlDocument, YamlError, load_yaml, parse_yaml
from opportunities import BUNDLED_DIR as OPPORTUNITIES_DIR
from opportunities.catalog import Catalog, load_catalog
from rubrics import BUNDLED_DIR as RUBRICS_DIR
from rubrics.examples import example_problems
from rubrics.loader import load_rubric, parse_rubric
from surveys import BUNDLED_DIR as SURVEYS_DIR
from surveys.loader import parse_survey

Kind = Literal["opportunities", "rubrics", "surveys"]
KINDS: tuple[Kind, ...] = ("opportunities", "rubrics", "surveys")
BUNDLED: dict[str, Path] = {
    "opportunities": OPPORTUNITIES_DIR,
    "rubrics": RUBRICS_DIR,
    "surveys": SURVEYS_DIR,
}
ENVIRONMENT = {
    "opportunities": "COACHFLOW_OPPORTUNITIES_DIR",
    "rubrics": "COACHFLOW_RUBRICS_DIR",
    "surveys": "COACHFLOW_SURVEYS_DIR",
}
SINGULAR = {"opportunities": "opportunity", "rubrics": "rubric", "surveys": "survey"}
MAX_PROBLEMS = 50
# Where a problem of the request itself is located: the file as sent, not where it would go.
BODY = "body"
NOT_ASKED_FOR = "must be the one in the request path"
_IDENT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")


# --- refusals ----------------------------------------------------------------------------------


class EditError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Invalid(EditError):
    """The file, or the catalog with it, has problems; nothing was written."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems[:MAX_PROBLEMS]
        super().__init__("; ".join(str(p) for p in self.problems))


class Conflict(EditError):
    """The change contradicts what is there: an immutable version, a version that does not
    increase, a status that cannot change that way."""


class ReadOnly(Conflict):
    """The folder is the bundled one (part of the installed package)."""


class NotFound(EditError):
    pass


# --- folders -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Folders:
    """The three folders the catalog is loaded from, and which of them may be written."""

    opportunities: Path
    rubrics: Path
    surveys: Path
    writable: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_settings(cls, settings: Any) -> Folders:
        """Configured folders are writable; unset ones are the bundled, read-only folders."""
        paths, writable = {}, set()
        for kind in KINDS:
            configured = getattr(settings, f"{kind}_dir")
            paths[kind] = configured or BUNDLED[kind]
            if configured and _resolved(configured) != _resolved(BUNDLED[kind]):
                writable.add(kind)
        return cls(**paths, writable=frozenset(writable))

    def of(self, kind: str) -> Path:
        return getattr(self, kind)

    def load(self) -> Catalog:
        return load_catalog(self.opportunities, self.rubrics, self.surveys)

    def with_folder(self, kind: str, folder: Path) -> Folders:
        paths = {k: self.of(k) for k in KINDS}
        paths[kind] = folder
        return Folders(**paths, writable=self.writable)

    def public(self, path: str) -> str:
        """A path as a problem or the catalog shows it, named from the definitions folder it
        is in (`rubrics/x@1.yaml`, `rubrics` for the folder itself); a path in none of them
        by its file name alone. Never where the folders are."""
        if path == BODY:
            return path
        where = Path(path)
        if not where.is_absolute():
            where = Path.cwd() / where
        places = {Path(os.path.normpath(where)), _resolved(where)}
        found = [
            (len(root.parts), kind, place.relative_to(root))
            for kind in KINDS
            for root in _roots(self.of(kind))
            for place in places
            if place.is_relative_to(root)
        ]
        if not found:
            return where.name
        _, kind, relative = max(found)
        return "/".join((kind, *relative.parts))

    def public_text(self, text: str) -> str:
        """`text` with every folder named by its kind, as `public` names paths."""
        for form, kind in _forms((self.of(kind), kind) for kind in KINDS):
            text = form.sub(lambda _, kind=kind: kind, text)
        return text

    def public_problem(self, problem: Problem) -> Problem:
        return Problem(self.public(problem.path), problem.line, self.public_text(problem.message))

    def check_writable(self, kind: str) -> Path:
        folder = self.of(kind)
        if kind not in self.writable:
            raise ReadOnly(
                f"definitions are read-only: the {kind} are the bundled ones; set "
                f"{ENVIRONMENT[kind]} to a folder of your own (start from a copy of "
                f"{BUNDLED[kind].name}/) to change them"
            )
        if not folder.is_dir():
            raise Conflict(f"the {kind} folder does not exist: check {ENVIRONMENT[kind]}")
        return folder


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path.absolute()


def _roots(folder: Path) -> set[Path]:
    """A folder as written and with its links resolved."""
    absolute = folder if folder.is_absolute() else Path.cwd() / folder
    return {Path(os.path.normpath(absolute)), _resolved(folder)}


def _forms(folders: Iterable[tuple[Path, str]]) -> list[tuple[re.Pattern[str], str]]:
    """For each folder, the ways a text may spell it (as written, absolute, resolved, as the
    catalog shows it), the longest first, each with what replaces it: an absolute spelling
    wherever it stands as a whole path, a relative one only before a `/`."""
    spelt: dict[str, str] = {}
    for folder, name in folders:
        for form in {str(folder), shown(folder), *map(str, _roots(folder))}:
            if form not in ("", ".", os.sep):
                spelt.setdefault(form, name)
    out = []
    for form, name in sorted(spelt.items(), key=lambda item: -len(item[0])):
        end = r"(?![\w.@-])" if Path(form).is_absolute() else "(?=/)"
        out.append((re.compile(rf"(?<![\w.@/-]){re.escape(form)}{end}"), name))
    return out


def shown(path: Path) -> str:
    """A path as the catalog shows it (relative to the working folder when inside it)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


# --- the plan of one change ----------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """A checked change, not yet written. `changed` is False when the file would say the same."""

    kind: Kind
    key: str  # the opportunity or survey id, the rubric's id@version
    old_version: int | None
    new_version: int
    path: Path
    text: str
    changed: bool

    @property
    def file(self) -> str:
        """The file, named from its folder (`rubrics/x@1.yaml`): `Folders.public`."""
        return f"{self.kind}/{self.path.name}"

    @property
    def target(self) -> str:
        return f"{SINGULAR[self.kind]}:{self.key}"

    def write(self) -> bytes | None:
        """Write the file atomically (temporary file + rename); returns what it replaced."""
        try:
            previous = self.path.read_bytes()
        except FileNotFoundError:
            previous = None
        _atomic_write(self.path, self.text.encode("utf-8"))
        return previous

    def undo(self, previous: bytes | None) -> None:
        """Put back what `write` replaced (when what follows the write fails)."""
        if previous is None:
            self.path.unlink(missing_ok=True)
        else:
            _atomic_write(self.path, previous)


def _atomic_write(path: Path, data: bytes) -> None:
    """A reader sees the old file or the new one, never half of one. The temporary file starts
    with a dot and ends in `.tmp`, so a catalog loading meanwhile does not read it."""
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o644
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# --- parsing the file on its own -----------------------------------------------------------------


def _scan(text: str, key: str) -> str | None:
    match = re.search(rf"^{key}:[ \t]*['\"]?([A-Za-z0-9_@-]+)['\"]?[ \t]*(#.*)?$", text, re.M)
    return match.group(1) if match else None


def _version_of(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    if isinstance(value, str) and value.isdigit() and int(value) >= 1:
        return int(value)
    return None


def _same_stem(folder: Path, stem: str) -> list[Path]:
    return sorted(p for p in (folder / f"{stem}.yaml", folder / f"{stem}.yml") if p.is_file())


def _rubric_file(folder: Path, rubric_id: str, version: int) -> Path | None:
    """The file that holds rubric version `id@version`, if one does."""
    ref = f"{rubric_id}@{version}"
    named = _same_stem(folder, ref)
    if named:
        return named[0]
    for path in _same_stem(folder, rubric_id):
        rubric, _ = load_rubric(path)
        if rubric is not None and rubric.version == version:
            return path
    return None


def _target(kind: str, folder: Path, definition_id: str, version: int | None) -> Path:
    """Where the file goes: the file that holds it now, else its canonical name."""
    if kind == "rubrics":
        if version is None:
            return folder / f"{definition_id}.yaml"
        return _rubric_file(folder, definition_id, version) or (
            folder / f"{definition_id}@{version}.yaml"
        )
    existing = _same_stem(folder, definition_id)
    return existing[0] if existing else folder / f"{definition_id}.yaml"


def _parse(
    kind: Kind, folder: Path, text: str, expected: str | None
) -> tuple[YamlDocument, BaseModel, Path]:
    """The file on its own: YAML, the model, the id. Raises Invalid with located problems."""
    wanted_id, _, wanted_version = (expected or "").partition("@")
    guess_id = _scan(text, "id") or wanted_id or "upload"
    guess_version = _version_of(_scan(text, "version") or wanted_version)
    if not _IDENT.match(guess_id):
        guess_id = wanted_id if _IDENT.match(wanted_id) else "upload"
    guess = _target(kind, folder, guess_id, guess_version)
    try:
        doc = parse_yaml(text, shown(guess))
    except YamlError as exc:
        raise Invalid(exc.problems) from None
    if not isinstance(doc.data, dict):
        raise Invalid([doc.problem((), f"a {SINGULAR[kind]} file is a mapping of keys to values")])
    file_id = doc.data.get("id")
    version = _version_of(doc.data.get("version"))
    path = guess
    if isinstance(file_id, str) and _IDENT.match(file_id):
        path = _target(kind, folder, file_id, version)
    doc = YamlDocument(path=shown(path), data=doc.data, lines=doc.lines)
    if expected is not None:
        problems = []
        if file_id != wanted_id:
            problems.append(Problem(BODY, doc.line_of(("id",)), f"id: {NOT_ASKED_FOR}"))
        if wanted_version and doc.data.get("version") != int(wanted_version):
            problems.append(Problem(BODY, doc.line_of(("version",)), f"version: {NOT_ASKED_FOR}"))
        if problems:
            raise Invalid(problems)
    model: BaseModel | None
    if kind == "rubrics":
        model, problems = parse_rubric(doc)
    elif kind == "surveys":
        model, problems = parse_survey(doc)
    else:
        try:
            model, problems = Opportunity.model_validate(doc.data), []
        except ValidationError as exc:
            model = None
            problems = [doc.problem(e.loc, f"{e.path}: {e.message}") for e in field_errors(exc)]
    if model is None or problems:
        raise Invalid(problems or [doc.problem((), f"not a valid {SINGULAR[kind]}")])
    return doc, model, path


# --- versions ------------------------------------------------------------------------------------


def _without_status(rubric: Rubric) -> dict[str, Any]:
    return rubric.model_dump(exclude={"status", "approved_by"})


def _current(kind: Kind, catalog: Catalog, model: BaseModel) -> BaseModel | None:
    if kind == "rubrics":
        return catalog.rubrics.get(model.ref)
    if kind == "surveys":
        return catalog.surveys.get(model.id)
    return catalog.opportunities.get(model.id)


def _check_version(
    kind: Kind, doc: YamlDocument, old: BaseModel | None, new: BaseModel, status_change: bool
) -> bool:
    """Whether the change changes anything; Conflict or Invalid when it may not."""
    if old == new:
        return False
    if kind == "rubrics":
        assert isinstance(new, Rubric)
        if old is None:
            if not status_change and new.status != "draft":
                raise Invalid(
                    [
                        doc.problem(
                            ("status",),
                            f"status: a new rubric version is uploaded as a draft; approve it "
                            f"with POST /api/admin/rubrics/{new.ref}/approve (or on /admin), "
                            "which records who approved it",
                        )
                    ]
                )
            return True
        assert isinstance(old, Rubric)
        if _without_status(old) == _without_status(new):
            if status_change:
                return True
            raise Conflict(
                f"rubric {new.ref} is {old.status}: change its status with "
                f"POST /api/admin/rubrics/{new.ref}/approve or /retire"
            )
        raise Conflict(
            f"rubric {new.ref} exists with different content; rubric versions are immutable: "
            "bump `version`"
        )
    if old is None:
        return True
    if kind == "surveys":
        if new.version == old.version:
            raise Conflict(
                f"survey {new.id}@{new.version} exists with different content; survey versions "
                "are immutable: bump `version`"
            )
        if new.version < old.version:
            raise Conflict(
                f"survey {new.id!r} is at version {old.version}: a new version must be higher"
            )
        return True
    if new.version <= old.version:
        raise Conflict(
            f"opportunity {new.id!r} is at version {old.version}: a changed opportunity needs a "
            "higher `version`"
        )
    return True


# --- the whole catalog with the file in it -------------------------------------------------------


def _mapped(problem: Problem, copy: Path, folder: Path) -> Problem:
    """A problem found in the temporary copy, at the path it has in the real folder."""
    message = problem.message
    for form, name in _forms([(copy, shown(folder))]):
        message = form.sub(lambda _, name=name: name, message)
    path = Path(problem.path)
    if not path.is_absolute():
        path = Path.cwd() / path
    try:
        relative = _resolved(path).relative_to(_resolved(copy))
    except ValueError:
        return Problem(problem.path, problem.line, message)
    return Problem(shown(folder / relative), problem.line, message)


def _copy_folder(folder: Path, copy: Path) -> None:
    shutil.copytree(
        folder, copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*"), symlinks=False
    )


def _loaded(kind: Kind, catalog: Catalog, model: BaseModel) -> bool:
    return _current(kind, catalog, model) is not None


def prepare(
    folders: Folders,
    kind: Kind,
    text: str,
    expected: str | None = None,
    *,
    status_change: bool = False,
) -> Plan:
    """Check `text` as the file of a `kind` definition (`expected`: the id it must have; for a
    rubric `id` or `id@version`). Returns the plan to write, or raises ReadOnly, Invalid,
    Conflict. `status_change`: a rubric version's status may change (approve/retire). The
    problems of Invalid name each file from its folder (`Folders.public`)."""
    try:
        return _prepare(folders, kind, text, expected, status_change)
    except Invalid as exc:
        raise Invalid([folders.public_problem(p) for p in exc.problems]) from None


def _prepare(
    folders: Folders, kind: Kind, text: str, expected: str | None, status_change: bool
) -> Plan:
    folder = folders.check_writable(kind)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text and not text.endswith("\n"):
        text += "\n"
    with tempfile.TemporaryDirectory(prefix="coachflow-definitions-") as scratch_dir:
        scratch = Path(scratch_dir)
        doc, model, path = _parse(kind, folder, text, expected)
        baseline = folders.load()
        old = _current(kind, baseline, model)
        key = model.ref if isinstance(model, Rubric) else model.id
        new_version = model.version
        old_version = old.version if old is not None else None
        if kind != "rubrics" and old is None:
            old_version = _broken_version(path)
        if not _check_version(kind, doc, old, model, status_change):
            return Plan(kind, key, old_version, new_version, path, text, changed=False)
        copy = scratch / "copy"
        _copy_folder(folder, copy)
        (copy / path.name).write_text(text, encoding="utf-8")
        candidate = folders.with_folder(kind, copy).load()
        known = set(baseline.problems)
        problems = [_mapped(p, copy, folder) for p in candidate.problems]
        new_problems = [p for p in problems if p not in known]
        if isinstance(model, Rubric):
            failing = example_problems(model, doc)
            new_problems += [p for p in failing if p not in new_problems]
        if new_problems or not _loaded(kind, candidate, model):
            own = [p for p in problems if p.path == shown(path)]
            raise Invalid(new_problems or own or [Problem(shown(path), 1, "the file did not load")])
    return Plan(kind, key, old_version, new_version, path, text, changed=True)


def _broken_version(path: Path) -> int | None:
    """The version a file that does not load says it has, for the audit log."""
    try:
        data = load_yaml(path).data
    except YamlError:
        return None
    return _version_of(data.get("version")) if isinstance(data, dict) else None


# --- small edits: enable/disable an opportunity, approve/retire a rubric version ----------------


def _edited(text: str, doc: YamlDocument, edits: dict[str, str], after: str) -> str:
    """`text` with top-level keys set to YAML scalars, keeping the rest of the file (comments,
    layout) as it is; rewritten from the data only when the file's layout defeats that."""
    expected = dict(doc.data)
    for key, value in edits.items():
        expected[key] = parse_yaml(value, doc.path).data
    lines = text.split("\n")
    inserts = []
    for key, value in edits.items():
        line = doc.lines.get((key,))
        if line is not None and lines[line - 1].startswith(f"{key}:"):
            lines[line - 1] = f"{key}: {value}"
        elif line is None:
            anchor = doc.lines.get((after,), len(lines))
            inserts.append((anchor, f"{key}: {value}"))
    for anchor, line in sorted(inserts, key=lambda i: i[0], reverse=True):
        lines.insert(anchor, line)
    result = "\n".join(lines)
    try:
        if parse_yaml(result, doc.path).data == expected:
            return result
    except YamlError:
        pass
    return yaml.safe_dump(expected, sort_keys=False, allow_unicode=True)


def _scalar(value: str) -> str:
    """A string as a YAML scalar: bare when it reads back as the same string, else quoted."""
    if re.fullmatch(r"[A-Za-z][A-Za-z0-9_.@-]*", value) and value.lower() not in _WORDS:
        return value
    return json.dumps(value)


_WORDS = {"true", "false", "null", "yes", "no", "on", "off", "y", "n"}


def unchanged(kind: Kind, key: str, version: int, path: Path) -> Plan:
    return Plan(kind, key, version, version, path, "", changed=False)


def set_opportunity_enabled(folders: Folders, opportunity_id: str, enabled: bool) -> Plan:
    """Enable or disable an opportunity: a new version of its file (the version goes up one)."""
    folder = folders.check_writable("opportunities")
    opportunity = folders.load().opportunities.get(opportunity_id)
    path = _target("opportunities", folder, opportunity_id, None)
    if opportunity is None:
        raise NotFound(
            "opportunity_id: no such opportunity is loaded (a file with problems is fixed by "
            "uploading it again)"
        )
    if opportunity.enabled == enabled:
        return unchanged("opportunities", opportunity_id, opportunity.version, path)
    text = path.read_text(encoding="utf-8")
    edits = {"enabled": "true" if enabled else "false", "version": str(opportunity.version + 1)}
    new_text = _edited(text, load_yaml(path, shown(path)), edits, after="version")
    return prepare(folders, "opportunities", new_text, opportunity_id)


def set_rubric_status(
    folders: Folders, ref: str, status: Literal["approved", "retired"], actor: str
) -> Plan:
    """Approve a draft rubric version (recording `actor` as `approved_by`), or retire one."""
    folder = folders.check_writable("rubrics")
    rubric = folders.load().rubrics.get(ref)
    if rubric is None:
        raise NotFound("ref: no such rubric version is loaded")
    path = _rubric_file(folder, rubric.id, rubric.version)
    if path is None:  # pragma: no cover - the catalog just loaded it from this folder
        raise NotFound("ref: no file holds this rubric version")
    if rubric.status == status:
        return unchanged("rubrics", ref, rubric.version, path)
    if status == "approved" and rubric.status == "retired":
        raise Conflict(f"rubric {ref} is retired; upload a new version to use it again")
    edits = {"status": status}
    if status == "approved":
        edits["approved_by"] = _scalar(actor)
    text = path.read_text(encoding="utf-8")
    new_text = _edited(text, load_yaml(path, shown(path)), edits, after="status")
    return prepare(folders, "rubrics", new_text, ref, status_change=True)
