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
    zendesk_secret: str | None = field(default_factory=lambda: _env("COACHFLOW_ZENDESK_SECRET"))
    servicenow_secret: str | None = field(
        default_factory=lambda: _env("COACHFLOW_SERVICENOW_SECRET")
    )
    secret_key: str | None = field(default_factory=lambda: _env("COACHFLOW_SECRET_KEY"))
    max_body_bytes: int = field(
        default_factory=lambda: int(_env("COACHFLOW_MAX_BODY_BYTES") or 1_000_000)
    )
    web_port: int = field(default_factory=lambda: int(_env("COACHFLOW_WEB_PORT") or 8000))

    @property
    def db_url(self) -> str:
        return normalize_url(self.database_url or sqlite_url(self.data_dir / "coachflow.db"))

    @property
    def temporal_db(self) -> Path:
        return self.data_dir / "temporal.db"

    @property
    def secret_key_file(self) -> Path:
        return self.data_dir / "secret-key"

    @property
    def dev_server_file(self) -> Path:
        return self.data_dir / "dev-server.json"
