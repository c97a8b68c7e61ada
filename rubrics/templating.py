"""The Jinja2 environment every note template renders in, the defaults and a rubric's own.

A rubric's templates are data an admin chose, so they render sandboxed: no attribute that
starts with `_`, no method that changes a value, nothing reaches Python's internals. A check
refuses a template that names such an attribute before it is ever rendered. The defaults
shipped in `rubrics/templates/` are the project's own code and render without the sandbox's
cost (it checks every attribute read).

Nothing is escaped: a note is plain text, and every page that shows one escapes it there.
HTML escaping here would put `&amp;` into the text an agent reads.
"""

from __future__ import annotations

from functools import lru_cache
from types import TracebackType

from jinja2 import Environment, StrictUndefined, Template, TemplateSyntaxError, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from domain.definitions import CAUSE_LABELS

TEMPLATE_FILE = "<template>"

OPTIONS = {
    "undefined": StrictUndefined,
    "autoescape": False,
    "trim_blocks": True,
    "lstrip_blocks": True,
    "keep_trailing_newline": True,
}
MAX_PRODUCT = 100_000
MAX_EXPONENT = 64


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """Also refuses arithmetic that would build a huge value: `'x' * 10**10` or `9 ** 9 ** 9`
    raise a SecurityError (and the default note is used) instead of exhausting the worker."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context, operator: str, left, right):
        if operator == "**" and isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
            raise SecurityError(f"an exponent above {MAX_EXPONENT}")
        if operator == "*" and _too_long(left, right):
            raise SecurityError(f"a repeated value longer than {MAX_PRODUCT:,}")
        return super().call_binop(context, operator, left, right)


def _too_long(left, right) -> bool:
    for value, times in ((left, right), (right, left)):
        if isinstance(value, str | list | tuple) and isinstance(times, int):
            return len(value) * times > MAX_PRODUCT
    return False


SANDBOX = BoundedSandbox(**OPTIONS)
SHIPPED = Environment(**OPTIONS)
for _env in (SANDBOX, SHIPPED):
    _env.filters["num"] = lambda value: "-" if value is None else f"{value:g}"
    _env.filters["cause"] = lambda cause: CAUSE_LABELS.get(cause or "", "")


@lru_cache(maxsize=64)
def compiled(source: str) -> Template:
    """A rubric's own template, sandboxed."""
    return SANDBOX.from_string(source)


@lru_cache(maxsize=8)
def compiled_shipped(source: str) -> Template:
    """A default template of `rubrics/templates/`, never one a rubric names."""
    return SHIPPED.from_string(source)


def _private_names(tree: nodes.Template) -> list[tuple[int, str]]:
    found = [(n.lineno, n.attr) for n in tree.find_all(nodes.Getattr)]
    found += [
        (n.lineno, n.arg.value)
        for n in tree.find_all(nodes.Getitem)
        if isinstance(n.arg, nodes.Const) and isinstance(n.arg.value, str)
    ]
    found += [
        (n.lineno, n.args[0].value)
        for n in tree.find_all(nodes.Filter)
        if n.name == "attr" and n.args and isinstance(n.args[0], nodes.Const)
    ]
    return [(line, name) for line, name in found if str(name).startswith("_")]


def static_problem(source: str) -> tuple[int, str] | None:
    """A syntax error, or an attribute no note template may use: (line, message)."""
    try:
        tree = SANDBOX.parse(source)
    except TemplateSyntaxError as exc:
        return exc.lineno or 1, exc.message or "syntax error"
    private = _private_names(tree)
    if private:
        return min(private)[0], "a template may not use an attribute whose name starts with _"
    return None


def failure_line(exc: BaseException) -> int:
    """The template line an exception raised while rendering points at (1 when none does)."""
    line, tb = 1, exc.__traceback__
    while isinstance(tb, TracebackType):
        if tb.tb_frame.f_code.co_filename == TEMPLATE_FILE:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
