"""Turn pydantic validation errors into `field.path: message` lines that never echo input."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

_MESSAGES = {
    "extra_forbidden": "unknown key",
    "missing": "required field is missing",
}


@dataclass(frozen=True)
class FieldError:
    loc: tuple[str | int, ...]
    message: str

    @property
    def path(self) -> str:
        out = ""
        for part in self.loc:
            if isinstance(part, int):
                out += f"[{part}]"
            else:
                out += f".{part}" if out else part
        return out or "(root)"

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def _without_union_tags(loc: tuple, union_fields: tuple[str, ...]) -> tuple:
    """Pydantic puts the chosen tag of a discriminated union in the path; the file has none."""
    out: list = []
    skip = False
    for part in loc:
        if skip and isinstance(part, str):
            skip = False
            continue
        skip = part in union_fields
        out.append(part)
    return tuple(out)


def field_errors(exc: ValidationError, union_fields: tuple[str, ...] = ()) -> list[FieldError]:
    """One FieldError per problem; the message is pydantic's, without the offending value."""
    out = []
    for err in exc.errors(include_input=False, include_url=False, include_context=False):
        loc = _without_union_tags(tuple(err["loc"]), union_fields)
        message = _MESSAGES.get(err["type"], err["msg"])
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        out.append(FieldError(loc=loc, message=message))
    return out
