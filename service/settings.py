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


class SettingsError(ValueError):
    """A variable's value cannot be used; the message names the variable."""


def _positive_int(name: str) -> int | None:
    raw = _env(name)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise SettingsError(f"{name} must be a whole number greater than 0")
    return value


def _flag(name: str) -> bool | None:
    raw = _env(name)
    if raw is None:
        return None
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false")


def _path(name: str) -> Path | None:
    raw = _env(name)
    return Path(raw) if raw else None


# 10,000 assessments awaiting review keep a worker near 360 MB with 500 cached (about 0.33 MB
# each on a base of 190 MB, bench/many_waiting.py); the SDK's default of 1,000 needs 520 MB.
DEFAULT_MAX_CACHED_WORKFLOWS = 500


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
        default_factory=lambda: _positive_int("COACHFLOW_START_CONCURRENCY") or 50
    )
    zendesk_secret: str | None = field(default_factory=lambda: _env("COACHFLOW_ZENDESK_SECRET"))
    servicenow_secret: str | None = field(
        default_factory=lambda: _env("COACHFLOW_SERVICENOW_SECRET")
    )
    secret_key: str | None = field(default_factory=lambda: _env("COACHFLOW_SECRET_KEY"))
    max_body_bytes: int = field(
        default_factory=lambda: _positive_int("COACHFLOW_MAX_BODY_BYTES") or 1_000_000
    )
    web_port: int = field(default_factory=lambda: _positive_int("COACHFLOW_WEB_PORT") or 8000)
    metrics_token: str | None = field(default_factory=lambda: _env("COACHFLOW_METRICS_TOKEN"))
    worker_metrics_port: int | None = field(
        default_factory=lambda: _positive_int("COACHFLOW_WORKER_METRICS_PORT")
    )
    # A secured Temporal cluster or Temporal Cloud; the names are those of Temporal's own tools.
    temporal_api_key: str | None = field(
        default_factory=lambda: _env("TEMPORAL_API_KEY"), repr=False
    )
    temporal_tls: bool | None = field(default_factory=lambda: _flag("TEMPORAL_TLS"))
    temporal_tls_client_cert: Path | None = field(
        default_factory=lambda: _path("TEMPORAL_TLS_CLIENT_CERT_PATH")
    )
    temporal_tls_client_key: Path | None = field(
        default_factory=lambda: _path("TEMPORAL_TLS_CLIENT_KEY_PATH")
    )
    temporal_tls_server_ca_cert: Path | None = field(
        default_factory=lambda: _path("TEMPORAL_TLS_SERVER_CA_CERT_PATH")
    )
    temporal_tls_server_name: str | None = field(
        default_factory=lambda: _env("TEMPORAL_TLS_SERVER_NAME")
    )
    # Worker tuning; unset: the Temporal SDK's defaults.
    worker_max_concurrent_workflow_tasks: int | None = field(
        default_factory=lambda: _positive_int("COACHFLOW_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS")
    )
    worker_max_concurrent_activities: int | None = field(
        default_factory=lambda: _positive_int("COACHFLOW_WORKER_MAX_CONCURRENT_ACTIVITIES")
    )
    worker_max_concurrent_local_activities: int | None = field(
        default_factory=lambda: _positive_int("COACHFLOW_WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES")
    )
    worker_max_cached_workflows: int = field(
        default_factory=lambda: (
            _positive_int("COACHFLOW_WORKER_MAX_CACHED_WORKFLOWS") or DEFAULT_MAX_CACHED_WORKFLOWS
        )
    )
    worker_sticky_schedule_to_start_seconds: int | None = field(
        default_factory=lambda: _positive_int("COACHFLOW_WORKER_STICKY_SCHEDULE_TO_START_SECONDS")
    )
    worker_graceful_shutdown_seconds: int | None = field(
        default_factory=lambda: _positive_int("COACHFLOW_WORKER_GRACEFUL_SHUTDOWN_SECONDS")
    )

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
