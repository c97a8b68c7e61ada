"""Serve the web app with uvicorn inside the running process (`starter.py dev`)."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import uvicorn
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client

from opportunities.catalog import Catalog
from opportunities.live import LiveCatalog
from service.settings import Settings
from web.app import create_app
from web.context import WebContext

MIN_KEY_LENGTH = 32
KEY_WAIT_SECONDS = 10.0
KEY_POLL_SECONDS = 0.05


def secret_key(
    settings: Settings,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> str:
    """COACHFLOW_SECRET_KEY, or one kept in the data folder so sessions survive restarts.

    The file is created 0600 and written through the handle that created it (O_EXCL), so no
    process ever signs with an empty key: another process that finds the file waits, up to
    KEY_WAIT_SECONDS, until it holds a whole key. A key shorter than MIN_KEY_LENGTH is refused,
    whatever its source, naming where it came from and never showing it."""
    if settings.secret_key is not None:
        if len(settings.secret_key) < MIN_KEY_LENGTH:
            raise SystemExit(f"COACHFLOW_SECRET_KEY: must be at least {MIN_KEY_LENGTH} characters")
        return settings.secret_key
    path = settings.secret_key_file
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = clock() + KEY_WAIT_SECONDS
    while True:
        with contextlib.suppress(FileExistsError):
            return _create_key(path)
        try:
            key = path.read_text().strip()
        except FileNotFoundError:
            key = ""  # its writer failed and removed it: the next round creates it
        if len(key) >= MIN_KEY_LENGTH:
            return key
        if clock() > deadline:
            raise SystemExit(
                f"the secret key file ({path.name} in COACHFLOW_DATA_DIR) holds no key of "
                f"{MIN_KEY_LENGTH} characters or more; remove it and a new one is made, or set "
                "COACHFLOW_SECRET_KEY"
            )
        sleep(KEY_POLL_SECONDS)


def _create_key(path: Path) -> str:
    """A new key in a new file; FileExistsError when the file is there already. A write that
    fails removes the file, so it never stays behind empty."""
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    key = secrets.token_urlsafe(48)
    try:
        with os.fdopen(handle, "w") as file:
            file.write(key)
            file.flush()
            os.fsync(file.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return key


class _Server(uvicorn.Server):
    """Stops on SIGINT or SIGTERM as uvicorn's server does, but then returns instead of raising
    the signal again, which would end the process before the caller stops the worker and the
    embedded Temporal dev server it started (that server was left running)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        stops = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in stops}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def web_server(
    settings: Settings,
    client: Client,
    sessions: async_sessionmaker,
    definitions: LiveCatalog | Catalog,
    host: str = "127.0.0.1",
    interactive_docs: bool = False,
) -> uvicorn.Server:
    context = WebContext(
        settings=settings,
        client=client,
        sessions=sessions,
        definitions=definitions,
        task_queue=settings.task_queue,
        secret_key=secret_key(settings),
    )
    config = uvicorn.Config(
        create_app(context, interactive_docs=interactive_docs),
        host=host,
        port=settings.web_port,
        log_level="warning",
        lifespan="off",
        server_header=False,
    )
    return _Server(config)
