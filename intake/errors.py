"""Intake errors name the field path; they never repeat the rejected value."""

from __future__ import annotations

from domain.errors import FieldError


class IntakeError(ValueError):
    def __init__(self, errors: list[FieldError], where: str = ""):
        super().__init__()
        self.errors = errors
        self.where = where

    def __str__(self) -> str:
        prefix = f"{self.where}: " if self.where else ""
        return prefix + "; ".join(str(e) for e in self.errors)

    def as_dict(self) -> list[dict]:
        return [{"loc": list(e.loc), "path": e.path, "message": e.message} for e in self.errors]
