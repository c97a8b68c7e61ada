"""Load a YAML file and remember the line of every key, so problems can say `path:line:`.

Booleans follow YAML 1.2 (`true`/`false` only): `on:` and `yes:` stay strings.

Every definition file is read here, and read within bounds: at most MAX_YAML_BYTES, at most
MAX_NODES nodes nested at most MAX_DEPTH deep, and no anchors or aliases (`&name`, `*name`),
which no definition needs and which let a few lines expand into billions of nodes. A file
past a bound is refused while it is composed, before any Python object is built from it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

MAX_YAML_BYTES = 256 * 1024
MAX_NODES = 25_000
MAX_DEPTH = 32
NO_ALIASES = "anchors and aliases (&name, *name) are not allowed in definition files"
_BOOL = "tag:yaml.org,2002:bool"


class _Loader(yaml.SafeLoader):
    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._nodes = 0
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _refusal(NO_ALIASES, event.start_mark)
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise _refusal(f"more than {MAX_NODES} values", event.start_mark)
        if self._depth >= MAX_DEPTH:
            raise _refusal("nested too deeply", event.start_mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _refusal(message: str, mark: yaml.Mark) -> yaml.MarkedYAMLError:
    return yaml.MarkedYAMLError(problem=message, problem_mark=mark)


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != _BOOL]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass
class YamlDocument:
    path: str
    data: Any
    lines: dict[tuple[str | int, ...], int] = field(default_factory=dict)

    def line_of(self, loc: tuple[str | int, ...]) -> int:
        """The line of the deepest part of `loc` that exists in the file."""
        for end in range(len(loc), -1, -1):
            line = self.lines.get(tuple(loc[:end]))
            if line is not None:
                return line
        return 1

    def problem(self, loc: tuple[str | int, ...], message: str) -> Problem:
        return Problem(self.path, self.line_of(loc), message)


def _index(node: yaml.Node, loc: tuple, lines: dict, problems: list[Problem], path: str) -> None:
    lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if key in seen:
                problems.append(
                    Problem(path, key_node.start_mark.line + 1, f"duplicate key {key!r}")
                )
            seen.add(key)
            lines[(*loc, key)] = key_node.start_mark.line + 1
            _index(value_node, (*loc, key), lines, problems, path)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index(item, (*loc, i), lines, problems, path)


class YamlError(Exception):
    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(map(str, problems)))
        self.problems = problems


def _syntax_problem(path: str, exc: yaml.MarkedYAMLError) -> Problem:
    """Located where the broken construct starts, naming the line the parser gave up on."""
    problem = exc.problem_mark.line + 1 if exc.problem_mark else None
    start = exc.context_mark.line + 1 if exc.context_mark else None
    message = f"invalid YAML: {exc.problem or exc.context}"
    if start and problem and start != problem:
        return Problem(path, start, f"{message} (at line {problem}, {exc.context})")
    return Problem(path, start or problem or 1, message)


def _too_large(shown: str) -> Problem:
    return Problem(
        shown, 1, f"too large: a definition file is at most {MAX_YAML_BYTES // 1024} KiB"
    )


def load_yaml(path: Path, display: str | None = None) -> YamlDocument:
    """Read and parse one YAML file; raises YamlError with located problems."""
    shown = display or str(path)
    try:
        with path.open("rb") as file:
            data = file.read(MAX_YAML_BYTES + 1)
        if len(data) > MAX_YAML_BYTES:
            raise YamlError([_too_large(shown)])
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise YamlError(
            [Problem(shown, 1, f"cannot read file: {exc.__class__.__name__}")]
        ) from None
    return parse_yaml(text, shown)


def parse_yaml(text: str, shown: str) -> YamlDocument:
    """Parse one YAML document, shown as `shown` in problems; raises YamlError."""
    if len(text.encode("utf-8")) > MAX_YAML_BYTES:
        raise YamlError([_too_large(shown)])
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise YamlError([Problem(shown, 1, "the file is empty")])
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        raise YamlError([_syntax_problem(shown, exc)]) from None
    except yaml.YAMLError as exc:
        raise YamlError([Problem(shown, 1, f"invalid YAML: {exc}")]) from None
    finally:
        loader.dispose()
    lines: dict = {}
    duplicates: list[Problem] = []
    _index(node, (), lines, duplicates, shown)
    if duplicates:
        raise YamlError(duplicates)
    return YamlDocument(path=shown, data=data, lines=lines)
