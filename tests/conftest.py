"""Real Temporal (dev server and time-skipping server) and a real database for every test.

The database is PostgreSQL when COACHFLOW_DATABASE_URL points at one (a fresh database is
created for the session and dropped after it), else SQLite in a temporary folder.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import (
    Client,
    Interceptor,
    OutboundInterceptor,
    StartWorkflowInput,
    WorkflowHandle,
)
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from opportunities.catalog import Catalog, load_catalog
from service.intake import Intake
from service.settings import Settings
from service.temporal import embedded_server, find_binary
from service.worker import build_worker
from store.db import (
    create_database,
    drop_database,
    make_engine,
    normalize_url,
    session_factory,
    sqlite_url,
)
from store.migrate import upgrade
from store.models import Base


@pytest.fixture(scope="session")
async def database_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    configured = os.environ.get("COACHFLOW_DATABASE_URL", "").strip()
    if configured and make_url(normalize_url(configured)).get_backend_name() == "postgresql":
        url, admin = await create_database(configured, "coachflow_test")
        await upgrade(url)
        yield url
        await drop_database(admin, url)
        return
    url = sqlite_url(tmp_path_factory.mktemp("db") / "coachflow.db")
    await upgrade(url)
    yield url


@pytest.fixture(scope="session")
async def session_maker(database_url: str) -> AsyncIterator[async_sessionmaker]:
    engine = make_engine(database_url)
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture
async def sessions(session_maker: async_sessionmaker) -> async_sessionmaker:
    """Every test starts from empty tables."""
    async with session_maker() as session, session.begin():
        for table in reversed(Base.metadata.sorted_tables):
            await session.execute(text(f"DELETE FROM {table.name}"))
    return session_maker


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("coachflow")


@pytest.fixture(scope="session")
async def dev_client(data_dir: Path) -> AsyncIterator[Client]:
    """The real Temporal dev server, started the way the product starts it."""
    async with embedded_server(Settings(data_dir=data_dir / "temporal")) as server:
        yield server.client


class _StartedWorkflows(Interceptor):
    """Remembers the id of every workflow a client starts."""

    def __init__(self) -> None:
        self.ids: list[str] = []

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        ids = self.ids

        class Tracking(OutboundInterceptor):
            async def start_workflow(self, input: StartWorkflowInput) -> WorkflowHandle:
                handle = await super().start_workflow(input)
                ids.append(input.id)
                return handle

        return Tracking(next)


@dataclass
class TimeSkipping:
    """The module's time-skipping server as one test sees it."""

    env: WorkflowEnvironment
    client: Client

    async def sleep(self, duration: timedelta) -> None:
        await self.env.sleep(duration)


@pytest.fixture(scope="module")
async def time_skipping_server() -> AsyncIterator[WorkflowEnvironment]:
    """One time-skipping server per test module: a server that has run a whole session's
    workflows once lost its connection mid-sleep and stalled every test after it."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=find_binary("temporal-test-server"),
    )
    yield env
    await env.shutdown()


@pytest.fixture
async def time_skipping_env(
    time_skipping_server: WorkflowEnvironment,
) -> AsyncIterator[TimeSkipping]:
    """Every workflow a test starts is terminated after it: the server skips time only when
    nothing runs, so a workflow left waiting on a timer with no worker would stall the next
    test's clock."""
    started = _StartedWorkflows()
    config = time_skipping_server.client.config()
    config["interceptors"] = [*config["interceptors"], started]
    client = Client(**config)
    yield TimeSkipping(time_skipping_server, client)
    for workflow_id in started.ids:
        try:
            await client.get_workflow_handle(workflow_id).terminate("test over")
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND and "completed" not in exc.message:
                raise


@pytest.fixture(params=["local", "time-skipping"])
def any_client(request: pytest.FixtureRequest) -> Client:
    """Both servers, for the paths that must behave the same on each."""
    if request.param == "local":
        return request.getfixturevalue("dev_client")
    return request.getfixturevalue("time_skipping_env").client


@pytest.fixture
def task_queue() -> str:
    return f"test-{uuid.uuid4().hex}"


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    loaded = load_catalog()
    assert not loaded.problems, [str(p) for p in loaded.problems]
    return loaded


@pytest.fixture
async def worker(dev_client: Client, task_queue: str, sessions: async_sessionmaker):
    async with build_worker(dev_client, task_queue, sessions) as running:
        yield running


@pytest.fixture
def intake(
    dev_client: Client, sessions: async_sessionmaker, catalog: Catalog, task_queue: str
) -> Intake:
    return Intake(dev_client, sessions, catalog, task_queue)


@pytest.fixture
def ticket_id() -> str:
    """Tests share one Temporal server, and workflow ids derive from ticket ids."""
    return f"t{uuid.uuid4().hex[:12]}"


@pytest.fixture
def web_settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        zendesk_secret="zendesk-test-secret",
        servicenow_secret="servicenow-test-secret",
        secret_key="test-secret-key-" + "k" * 32,
        max_body_bytes=200_000,
    )


@pytest.fixture
def web_context(web_settings, dev_client, sessions, catalog, task_queue):
    """What the web app runs on: the real dev server and the test database."""
    from web.context import WebContext

    return WebContext(
        settings=web_settings,
        client=dev_client,
        sessions=sessions,
        definitions=catalog,
        task_queue=task_queue,
        secret_key=web_settings.secret_key,
    )


@pytest.fixture
def folders(tmp_path: Path):
    """Copies of the bundled definition folders (opportunities, rubrics, surveys)."""
    from tests.definition_files import copy_definitions

    root = tmp_path / "definitions"
    root.mkdir()
    return copy_definitions(root)


@pytest.fixture
async def editable_app(web_settings, folders, dev_client, worker, sessions, task_queue):
    """`web_app`, with COACHFLOW_*_DIR pointing at `folders`, so admin changes land there."""
    from tests.app_support import editable_app as app_with_folders

    return app_with_folders(web_settings, folders, dev_client, sessions, task_queue)


@pytest.fixture
async def api(editable_app) -> AsyncIterator:
    """An HTTP client on `editable_app`."""
    from tests.app_support import http_client

    async with http_client(editable_app) as client:
        yield client


@pytest.fixture
async def web_app(web_context, worker):
    """The web app on the real dev server, a running worker and the test database."""
    from web.app import create_app

    return create_app(web_context)


@pytest.fixture
async def http(web_app) -> AsyncIterator:
    import httpx

    transport = httpx.ASGITransport(app=web_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://coachflow.test") as client:
        yield client


@pytest.fixture
async def tokens(sessions) -> dict[str, str]:
    """Every person of tests/people.py in the directory, with a bearer token each."""
    from store.users import add_user, issue_token
    from tests import people

    out = {}
    async with sessions() as session, session.begin():
        for actor in (
            people.TRAINEE,
            people.OTHER_TRAINEE,
            people.LEAD,
            people.SECOND_LEAD,
            people.QA_LEAD,
            people.OUTSIDE_LEAD,
            people.ADMIN,
        ):
            await add_user(session, actor.id, actor.role, actor.teams, actor.groups)
            out[actor.id] = await issue_token(session, actor.id)
    return out
