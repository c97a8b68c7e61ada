"""Connecting to a secured Temporal cluster or Temporal Cloud: TLS, mTLS and API keys.

`connect_options` turns the TEMPORAL_* variables into `Client.connect`'s arguments; the real
connections go to the dev server, plainly or through a TLS front with a private CA.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client
from temporalio.service import TLSConfig

from service.intake import Intake
from service.settings import Settings, SettingsError
from service.temporal import connect_options, get_client
from service.worker import build_worker
from tests.factories import make_event
from tests.helpers import until_drafted
from tests.tls import SERVER_NAME, Certificates, make_certificates, server_context, tls_front

VARIABLES = (
    "TEMPORAL_ADDRESS",
    "TEMPORAL_API_KEY",
    "TEMPORAL_TLS",
    "TEMPORAL_TLS_CLIENT_CERT_PATH",
    "TEMPORAL_TLS_CLIENT_KEY_PATH",
    "TEMPORAL_TLS_SERVER_CA_CERT_PATH",
    "TEMPORAL_TLS_SERVER_NAME",
)
API_KEY = "tc-api-key-0123456789"


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("certs"))


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch):
    """Sets the given variables, unsets the other Temporal ones, and reads the settings."""

    def settings(**values: str | Path) -> Settings:
        for name in VARIABLES:
            monkeypatch.delenv(name, raising=False)
        for name, value in values.items():
            monkeypatch.setenv(name, str(value))
        return Settings()

    return settings


def test_a_plain_server_gets_no_tls_and_no_key(environment):
    assert connect_options(environment(TEMPORAL_ADDRESS="temporal:7233")) == {}


def test_an_api_key_turns_tls_on_and_stays_out_of_the_settings_repr(environment):
    settings = environment(TEMPORAL_ADDRESS="ns.acct.tmprl.cloud:7233", TEMPORAL_API_KEY=API_KEY)
    assert connect_options(settings) == {"api_key": API_KEY, "tls": True}
    assert API_KEY not in repr(settings)


def test_an_api_key_without_tls_when_tls_is_off(environment):
    settings = environment(
        TEMPORAL_ADDRESS="temporal:7233", TEMPORAL_API_KEY=API_KEY, TEMPORAL_TLS="false"
    )
    assert connect_options(settings) == {"api_key": API_KEY, "tls": False}


def test_tls_on_alone_uses_the_system_roots(environment):
    options = connect_options(environment(TEMPORAL_ADDRESS="t:7233", TEMPORAL_TLS="true"))
    assert options == {"tls": TLSConfig()}


def test_mtls_with_a_private_ca_and_a_server_name(environment, certs):
    settings = environment(
        TEMPORAL_ADDRESS="ns.acct.tmprl.cloud:7233",
        TEMPORAL_TLS_CLIENT_CERT_PATH=certs.client_cert,
        TEMPORAL_TLS_CLIENT_KEY_PATH=certs.client_key,
        TEMPORAL_TLS_SERVER_CA_CERT_PATH=certs.ca,
        TEMPORAL_TLS_SERVER_NAME=SERVER_NAME,
    )
    assert connect_options(settings) == {
        "tls": TLSConfig(
            server_root_ca_cert=certs.ca.read_bytes(),
            domain=SERVER_NAME,
            client_cert=certs.client_cert.read_bytes(),
            client_private_key=certs.client_key.read_bytes(),
        )
    }


def test_without_temporal_address_the_settings_do_not_apply(environment):
    assert connect_options(environment(TEMPORAL_API_KEY=API_KEY, TEMPORAL_TLS="true")) == {}


@pytest.mark.parametrize(
    ("given", "missing"),
    [
        ("TEMPORAL_TLS_CLIENT_CERT_PATH", "TEMPORAL_TLS_CLIENT_KEY_PATH"),
        ("TEMPORAL_TLS_CLIENT_KEY_PATH", "TEMPORAL_TLS_CLIENT_CERT_PATH"),
    ],
)
def test_a_client_cert_and_key_come_together(environment, certs, given, missing):
    settings = environment(TEMPORAL_ADDRESS="t:7233", **{given: certs.client_cert})
    with pytest.raises(SettingsError) as raised:
        connect_options(settings)
    assert str(raised.value) == f"{missing} must be set together with {given}"


def test_a_missing_file_is_named_with_its_variable(environment, certs, tmp_path):
    absent = tmp_path / "nowhere" / "ca.pem"
    settings = environment(
        TEMPORAL_ADDRESS="t:7233",
        TEMPORAL_API_KEY=API_KEY,
        TEMPORAL_TLS_SERVER_CA_CERT_PATH=absent,
    )
    with pytest.raises(SettingsError) as raised:
        connect_options(settings)
    message = str(raised.value)
    assert message == f"TEMPORAL_TLS_SERVER_CA_CERT_PATH: no such file: {absent}"
    assert API_KEY not in message


def test_an_unreadable_file_is_named_with_its_variable(environment, certs, tmp_path):
    settings = environment(
        TEMPORAL_ADDRESS="t:7233",
        TEMPORAL_TLS_CLIENT_CERT_PATH=certs.client_cert,
        TEMPORAL_TLS_CLIENT_KEY_PATH=tmp_path,
    )
    with pytest.raises(SettingsError) as raised:
        connect_options(settings)
    assert (
        str(raised.value) == f"TEMPORAL_TLS_CLIENT_KEY_PATH: cannot read {tmp_path}: Is a directory"
    )


def test_tls_off_contradicts_tls_files(environment, certs):
    settings = environment(
        TEMPORAL_ADDRESS="t:7233", TEMPORAL_TLS="off", TEMPORAL_TLS_SERVER_CA_CERT_PATH=certs.ca
    )
    with pytest.raises(SettingsError, match=r"TEMPORAL_TLS is false.*SERVER_CA_CERT_PATH"):
        connect_options(settings)


def test_tls_takes_true_or_false(environment):
    with pytest.raises(SettingsError, match=r"^TEMPORAL_TLS must be true or false$"):
        environment(TEMPORAL_TLS="sometimes")


# Real connections


def _address(client: Client) -> str:
    return client.service_client.config.target_host


async def _namespace_of(client: Client) -> str:
    described = await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace=client.namespace)
    )
    return described.namespace_info.name


async def test_the_dev_server_without_tls_still_connects(environment, dev_client):
    address = _address(dev_client)
    settings = environment(TEMPORAL_ADDRESS=address)
    client = await get_client(address, dev_client.namespace, **connect_options(settings))
    assert await _namespace_of(client) == dev_client.namespace


async def test_mtls_through_a_tls_front_runs_a_coaching_workflow(
    environment, certs, dev_client, sessions, catalog, task_queue, ticket_id
):
    async with tls_front(_address(dev_client), server_context(certs, True)) as address:
        settings = environment(
            TEMPORAL_ADDRESS=address,
            TEMPORAL_TLS_CLIENT_CERT_PATH=certs.client_cert,
            TEMPORAL_TLS_CLIENT_KEY_PATH=certs.client_key,
            TEMPORAL_TLS_SERVER_CA_CERT_PATH=certs.ca,
            TEMPORAL_TLS_SERVER_NAME=SERVER_NAME,
        )
        client = await get_client(address, dev_client.namespace, **connect_options(settings))
        async with build_worker(client, task_queue, sessions):
            intake = Intake(client, sessions, catalog, task_queue)
            (workflow_id,) = (await intake.ingest(make_event(**{"ticket.id": ticket_id}))).started
            state = await until_drafted(client, workflow_id)
    assert state.status != "drafting"


async def test_an_api_key_over_tls_connects(environment, certs, dev_client):
    async with tls_front(_address(dev_client), server_context(certs, False)) as address:
        settings = environment(
            TEMPORAL_ADDRESS=address,
            TEMPORAL_API_KEY=API_KEY,
            TEMPORAL_TLS_SERVER_CA_CERT_PATH=certs.ca,
            TEMPORAL_TLS_SERVER_NAME=SERVER_NAME,
        )
        client = await get_client(address, dev_client.namespace, **connect_options(settings))
        assert await _namespace_of(client) == dev_client.namespace


CLIENT_CERT = ("TEMPORAL_TLS_CLIENT_CERT_PATH", "TEMPORAL_TLS_CLIENT_KEY_PATH")
SERVER_CHECK = ("TEMPORAL_TLS_SERVER_CA_CERT_PATH", "TEMPORAL_TLS_SERVER_NAME")
# The front closes the connection; the SDK reports it as a "transport error", or as a
# cancelled call whose source is the transport, depending on when the close lands.
CONNECTION_CLOSED = r"transport error|tonic::transport::Error\(Transport"


@pytest.mark.parametrize(
    ("leave_out", "failure"),
    [
        (CLIENT_CERT, CONNECTION_CLOSED),
        (("TEMPORAL_TLS_SERVER_NAME",), "NotValidForName"),
        (("TEMPORAL_TLS_SERVER_CA_CERT_PATH",), "UnknownIssuer"),
        (CLIENT_CERT + SERVER_CHECK, CONNECTION_CLOSED),
    ],
    ids=["no-client-cert", "no-server-name", "no-private-ca", "no-tls"],
)
async def test_each_tls_setting_is_needed_for_mtls(
    environment, certs, dev_client, leave_out, failure
):
    """Every setting reaches the connection: leave one out and the handshake fails."""
    async with tls_front(_address(dev_client), server_context(certs, True)) as address:
        values = {
            "TEMPORAL_ADDRESS": address,
            "TEMPORAL_TLS_CLIENT_CERT_PATH": certs.client_cert,
            "TEMPORAL_TLS_CLIENT_KEY_PATH": certs.client_key,
            "TEMPORAL_TLS_SERVER_CA_CERT_PATH": certs.ca,
            "TEMPORAL_TLS_SERVER_NAME": SERVER_NAME,
        }
        settings = environment(**{k: v for k, v in values.items() if k not in leave_out})
        with pytest.raises(RuntimeError, match=failure):
            async with asyncio.timeout(60):
                await get_client(address, dev_client.namespace, **connect_options(settings))
