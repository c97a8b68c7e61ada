"""Configuration, from the environment only."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from domain.config import DEFAULT_TASK_QUEUE
from store.db import normalize_url, sqlite_url


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(default_factory=lambda: Path(_env("COACHFLOW_DATA_DIR") or ".coachflow"))
    database_url: str | None = field(default_factory=lambda: _env("COACHFLOW_DATABASE_URL"))
    temporal_address: str | None = field(default_factory=lambda: _env("TEMPORAL_ADDRESS"))
    namespace: str = field(default_factory=lambda: _env("TEMPORAL_NAMESPACE") or "default")
    task_queue: str = field(
        default_factory=lambda: _env("COACHFLOW_TASK_QUEUE") or DEFAULT_TASK_QUEUE
    )
    opportunities_dir: Path | None = field(
        default_factory=lambda: Path(p) if (p := _env("COACHFLOW_OPPORTUNITIES_DIR")) else None
    )
    rubrics_dir: Path | None = field(
        default_factory=lambda: Path(p) if (p := _env("COACHFLOW_RUBRICS_DIR")) else None
    )
    surveys_dir: Path | None = field(
        default_factory=lambda: Path(p) if (p := _env("COACHFLOW_SURVEYS_DIR")) else None
    )
    start_concurrency: int = field(
        default_factory=lambda: int(_env("COACHFLOW_START_CONCURRENCY") or 50)
    )

    @property
    def db_url(self) -> str:
        return normalize_url(self.database_url or sqlite_url(self.data_dir / "coachflow.db"))

    @property
    def temporal_db(self) -> Path:
        return self.data_dir / "temporal.db"

    @property
    def dev_server_file(self) -> Path:
        return self.data_dir / "dev-server.json"
