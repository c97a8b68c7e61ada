"""Certificates made with the `openssl` command, and a TLS front for the plaintext dev server.

The Temporal dev server speaks plaintext only. `tls_front` terminates TLS, optionally asking
for a client certificate, and passes the bytes on to it, as a load balancer in front of a
secured cluster does; so a client's TLS settings meet a real handshake.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

SERVER_NAME = "temporal.coachflow.test"


@dataclass(frozen=True)
class Certificates:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def _openssl(folder: Path, command: str) -> None:
    subprocess.run(["openssl", *command.split()], cwd=folder, check=True, capture_output=True)


def _signed(folder: Path, name: str, subject: str, extensions: str, serial: int) -> None:
    (folder / f"{name}.ext").write_text(extensions)
    _openssl(folder, f"ecparam -name prime256v1 -genkey -noout -out {name}.key")
    _openssl(folder, f"req -new -key {name}.key -subj /CN={subject} -out {name}.csr")
    _openssl(
        folder,
        f"x509 -req -in {name}.csr -CA ca.pem -CAkey ca.key -set_serial {serial} -days 2 "
        f"-extfile {name}.ext -out {name}.pem",
    )


def make_certificates(folder: Path) -> Certificates:
    """A private CA, a server certificate for SERVER_NAME and a client certificate."""
    folder.mkdir(parents=True, exist_ok=True)
    _openssl(folder, "ecparam -name prime256v1 -genkey -noout -out ca.key")
    _openssl(
        folder,
        "req -x509 -new -key ca.key -subj /CN=coachflow-test-ca -days 2 -out ca.pem "
        "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign",
    )
    leaf = "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
    server = f"{leaf}extendedKeyUsage=serverAuth\nsubjectAltName=DNS:{SERVER_NAME}\n"
    _signed(folder, "server", SERVER_NAME, server, serial=2)
    _signed(folder, "client", "coachflow-worker", f"{leaf}extendedKeyUsage=clientAuth\n", serial=3)
    return Certificates(
        ca=folder / "ca.pem",
        server_cert=folder / "server.pem",
        server_key=folder / "server.key",
        client_cert=folder / "client.pem",
        client_key=folder / "client.key",
    )


def server_context(certs: Certificates, require_client_cert: bool) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certs.server_cert, certs.server_key)
    context.set_alpn_protocols(["h2"])
    if require_client_cert:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(certs.ca)
    return context


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        writer.close()


@contextlib.asynccontextmanager
async def tls_front(target: str, context: ssl.SSLContext) -> AsyncIterator[str]:
    """TLS on a free local port in front of `target` (host:port); yields its address."""
    host, _, port = target.rpartition(":")
    handlers: set[asyncio.Task] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handlers.add(asyncio.current_task())
        try:
            up_reader, up_writer = await asyncio.open_connection(host, int(port))
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
    try:
        yield f"127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        await server.wait_closed()
