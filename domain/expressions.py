"""CEL expressions in definition files: compile once, type-probe, evaluate per event.

The CEL library checks syntax at compile time but not types, so a compiled expression is
also run once against a fully populated sample context: a type error or an unknown field
there is a definition error. At run time, an expression that cannot be evaluated because
data is missing is reported to the caller as an error, never as a match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import cel

MAX_EXPRESSION_LENGTH = 2000
MAX_NESTING = 32
# A comprehension (all, exists, map...) inside another multiplies their lengths: a few hundred
# characters of nested ones take minutes to evaluate, at `check` and on every event.
MAX_COMPREHENSION_NESTING = 1

_STRING_LITERAL = re.compile(
    r"""
      (?<!\w) (?: [bB]?[rR] | [rR][bB] )                 # raw: a backslash is just a backslash
      (?: '{3} [\s\S]*? '{3} | "{3} [\s\S]*? "{3} | ' [^'\n]* ' | " [^"\n]* " )
    | (?: '{3} (?: \\[\s\S] | [^\\] )*? '{3} | "{3} (?: \\[\s\S] | [^\\] )*? "{3}
        | ' (?: \\. | [^'\\\n] )* ' | " (?: \\. | [^"\\\n] )* " )
    """,
    re.VERBOSE,
)
_COMPREHENSION = re.compile(r"\.\s*(?:all|exists_one|existsOne|exists|map|filter)\s*\(")


class ExpressionError(ValueError):
    pass


@dataclass(frozen=True)
class Expression:
    source: str
    program: Any

    def evaluate(self, context: Any) -> bool:
        try:
            result = self.program.execute(context)
        except Exception as exc:
            raise ExpressionError(_definition_text_only(_first_line(exc), self.source)) from None
        if not isinstance(result, bool):
            raise ExpressionError(f"evaluated to {type(result).__name__}, not true/false")
        return result


_QUOTED = re.compile(r"'((?:\\.|[^'\\])*)'|\"((?:\\.|[^\"\\])*)\"")


def _definition_text_only(message: str, source: str) -> str:
    """The library's message may quote the event's values (`duration()` quotes the string it
    could not parse); a quoted text the expression does not itself hold becomes '…'."""

    def keep_or_hide(match: re.Match) -> str:
        quoted = match.group(1) if match.group(1) is not None else match.group(2)
        return match.group(0) if quoted in source else "'…'"

    return _QUOTED.sub(keep_or_hide, message)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else exc.__class__.__name__
    if isinstance(exc, KeyError):
        return f"no such field {first}"
    return first


def _nesting(source: str) -> int:
    depth = deepest = 0
    for ch in source:
        if ch in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in ")]}":
            depth -= 1
    return deepest


def _comprehension_nesting(source: str) -> int:
    """How many comprehension macros enclose one another at the deepest point, string literals
    aside."""
    code = _STRING_LITERAL.sub('""', source)
    opening = {match.end() - 1 for match in _COMPREHENSION.finditer(code)}
    stack: list[bool] = []
    inside = deepest = 0
    for i, ch in enumerate(code):
        if ch in "([{":
            stack.append(i in opening)
            inside += stack[-1]
            deepest = max(deepest, inside)
        elif ch in ")]}" and stack:
            inside -= stack.pop()
    return deepest


def compile_expression(source: str, allowed: tuple[str, ...], probe: dict[str, Any]) -> Expression:
    """Compile and type-probe `source`; raises ExpressionError with a readable message."""
    if not isinstance(source, str) or not source.strip():
        raise ExpressionError("the expression is empty")
    if len(source) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(f"the expression is longer than {MAX_EXPRESSION_LENGTH} characters")
    if _nesting(source) > MAX_NESTING:
        raise ExpressionError(f"the expression nests deeper than {MAX_NESTING} levels")
    if _comprehension_nesting(source) > MAX_COMPREHENSION_NESTING:
        raise ExpressionError(
            "a comprehension (all, exists, exists_one, map, filter) inside another one is too "
            f"costly to evaluate; at most {MAX_COMPREHENSION_NESTING} level"
        )
    try:
        program = cel.compile(source)
    except Exception as exc:
        detail = str(exc).splitlines()
        message = detail[0] if detail else "syntax error"
        raise ExpressionError(f"CEL syntax error: {message}") from None
    unknown = sorted(set(program.variables()) - set(allowed) - _bound_names(source))
    if unknown:
        raise ExpressionError(
            f"unknown variable {unknown[0]!r}; expressions may use {', '.join(allowed)}"
        )
    expression = Expression(source=source, program=program)
    try:
        expression.evaluate(cel.Context(probe))
    except ExpressionError as exc:
        raise ExpressionError(f"CEL type error: {exc}") from None
    return expression


def _bound_names(source: str) -> set[str]:
    """Names bound by comprehension macros such as `tags.exists(t, t == "vip")`."""
    return set(re.findall(r"\.(?:all|exists|exists_one|map|filter)\(\s*([A-Za-z_]\w*)\s*,", source))
