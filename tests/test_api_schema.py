"""Schemathesis against the served OpenAPI schema (`/openapi.json`), through ASGI, with a lead's
token: no 500 on any generated input, and every response conforms to the schema (status code
declared, content type, body, headers).

How it runs. The app's Temporal client and database engine belong to the test's event loop, but
schemathesis's ASGI transport is synchronous and drives the app from its own portal thread and
loop. So the Hypothesis sweep runs in a worker thread (`asyncio.to_thread`), and the app it
calls is `OnLoop`, a thin ASGI shim that runs each request on the test's loop and relays
`receive`/`send` back to the portal's. Everything else is stock schemathesis: the schema is
loaded with `schemathesis.openapi.from_asgi`, cases come from `operation.as_strategy()` and are
sent and checked with `case.call_and_validate()` (all default checks).

Bounded: every operation gets negative and positive inputs, plus positive inputs on real ids
(a pending assessment, one in coaching, its task and the lead's survey), MAX_EXAMPLES each,
derandomized and without shrinking.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig

from domain.events import TicketEvent
from tests.factories import event_dict
from tests.helpers import assessment_of, bearer, until_drafted
from web.throttle import POLICIES, Policy, Throttle

MAX_EXAMPLES = 20


def _config(token: str) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            # The lead's token, as the schema's HTTPBearer scheme says it is sent.
            "auth": {"openapi": {"HTTPBearer": {"bearer": token}}},
            # Schema-valid input may still be refused by a rule no JSON schema can state (an
            # unknown rubric, an override without a reason): the documented 422, not a
            # rejected valid request.
            "checks": {
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "401", "403", "404", "409", "422"]
                },
                # Over the body limit is refused before anything else looks at the request.
                "negative_data_rejection": {
                    "expected-statuses": [
                        "400",
                        "401",
                        "403",
                        "404",
                        "405",
                        "406",
                        "409",
                        "413",
                        "415",
                        "422",
                        "428",
                        "429",
                    ]
                },
            },
        }
    )


OVERRIDE = {"action": "override", "scores": {"empathy": 0}, "reason": "no empathy in reply 2"}


class OnLoop:
    """Serve `app` on `loop` to an ASGI server running on another loop and thread."""

    def __init__(self, app: Callable, loop: asyncio.AbstractEventLoop) -> None:
        self.app, self.loop = app, loop

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "lifespan":  # the app has no startup or shutdown work
            while True:
                message = await receive()
                kind = message["type"].rsplit(".", 1)[-1]
                await send({"type": f"lifespan.{kind}.complete"})
                if kind == "shutdown":
                    return
        caller = asyncio.get_running_loop()

        async def on_caller(coroutine: Any) -> Any:
            return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, caller))

        async def relayed_receive() -> dict:
            return await on_caller(receive())

        async def relayed_send(message: dict) -> None:
            await on_caller(send(message))

        served = self.app(scope, relayed_receive, relayed_send)
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(served, self.loop))


async def http_get_schema(app) -> dict:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://coachflow.test"
    ) as http:
        return (await http.get("/openapi.json")).json()


def _event(ticket_id: str) -> TicketEvent:
    return TicketEvent.model_validate(
        event_dict(**{"event_id": f"evt-{ticket_id}", "ticket.id": ticket_id})
    )


async def _assessment(intake, client, sessions) -> int:
    ticket_id = f"t{uuid.uuid4().hex[:12]}"
    (workflow_id,) = (await intake.ingest(_event(ticket_id))).started
    await until_drafted(client, workflow_id)
    return (await assessment_of(sessions, workflow_id)).id


def _sweep(
    app: OnLoop, token: str, real: dict[str, list[int]]
) -> tuple[list[str], dict[str, Counter]]:
    """Every operation of the served schema: the failures, one line each, and the statuses
    each operation answered."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=_config(token))
    failures: list[str] = []
    statuses: dict[str, Counter] = defaultdict(Counter)
    for result in schema.get_all_operations():
        operation = result.ok()
        names = [p.name for p in operation.path_parameters]
        variants: list[tuple[str, GenerationMode, dict | None]] = [
            ("negative", GenerationMode.NEGATIVE, None),
            ("positive", GenerationMode.POSITIVE, None),
        ]
        for name in names:
            for value in real.get(name, []):
                variants.append((f"{name}={value}", GenerationMode.POSITIVE, {name: value}))
        for label, mode, path_parameters in variants:
            strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)

            @settings(
                max_examples=MAX_EXAMPLES,
                derandomize=True,
                database=None,
                deadline=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=strategy)
            def check(case) -> None:
                response = case.call_and_validate()
                statuses[case.operation.label][response.status_code] += 1

            try:
                check()
            except Unsatisfiable:  # no negative input exists for an operation without inputs
                continue
            except (Exception, BaseExceptionGroup) as exc:  # report every failing operation
                failures.append(f"{operation.label} [{label}]: {str(exc)[:1500]}")
    return failures, statuses


async def test_no_500_and_every_response_conforms_to_the_schema(
    web_app, tokens, intake, dev_client, sessions
):
    pending = await _assessment(intake, dev_client, sessions)
    coaching = await _assessment(intake, dev_client, sessions)
    # The sweep sends wrong tokens on purpose, more often than one address may (web/throttle.py).
    web_app.state.throttle = Throttle({kind: Policy(10**9, 0, 0) for kind in POLICIES})
    app = OnLoop(web_app, asyncio.get_running_loop())
    # The lead decides one, so there is a task, surveys and a lifecycle to aim at.
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=web_app), base_url="http://coachflow.test"
    ) as http:
        lead = bearer(tokens["lee"])
        decided = await http.post(
            f"/api/assessments/{coaching}/decision", json=OVERRIDE, headers=lead
        )
        assert decided.status_code == 200, decided.text
        (task,) = (await http.get("/api/me/tasks", headers=bearer(tokens["a-17"]))).json()
        (survey,) = (await http.get("/api/me/surveys", headers=lead)).json()
    real = {
        "assessment_id": [pending, coaching],
        "task_id": [task["id"]],
        "survey_id": [survey["id"]],
    }
    started = time.monotonic()
    failures, statuses = await asyncio.to_thread(_sweep, app, tokens["lee"], real)
    elapsed = time.monotonic() - started
    assert not failures, "\n\n".join(failures)
    served = (await http_get_schema(web_app))["paths"]
    operations = {f"{m.upper()} {p}" for p, ops in served.items() for m in ops}
    assert set(statuses) == operations  # every operation was called
    seen = sum(statuses.values(), Counter())
    assert seen[200] and seen[422] and seen[404] and seen[403] and not seen[500], seen
    assert elapsed < 60, f"the sweep took {elapsed:.0f} s"
