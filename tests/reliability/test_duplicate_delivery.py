"""Duplicate deliveries (#7): every event of a batch is delivered three times, concurrently and
in a shuffled order: canonical events through `POST /events`, Zendesk triggers and ticket
audits through the signed webhook, ServiceNow incidents through theirs. Every delivery is
accepted; of the three, exactly one starts each workflow and the other two report it as a
duplicate; each match is drafted once. Then each lead decision is also sent three times at once
with one Idempotency-Key: the three answers agree, and the decision is applied once."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import random
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from domain.events import TicketEvent
from intake.servicenow import SECRET_HEADER, parse_servicenow
from intake.zendesk import SIGNATURE_HEADER, SIGNATURE_TIMESTAMP_HEADER, parse_zendesk
from tests.reliability.invariants import assert_invariants, expected_assessments, until_settled

SEED = 3131
CANONICAL = 60
ZENDESK = 6
SERVICENOW = 4
COPIES = 3
DECIDED_SHARE = 0.3
CONCURRENCY = 24
PAYLOADS = Path(__file__).resolve().parent.parent / "payloads"
ZENDESK_FILES = ("trigger_csat_bad.json", "ticket_audits_reassignment.json")
SERVICENOW_FILE = "incident_reassigned_with_journal.json"
SERVICENOW_SYS_ID = "9d385017c611228701d22104cc95c371"


@dataclass(frozen=True)
class Delivery:
    """One payload as a help desk sends it, with the events it carries."""

    path: str
    body: bytes
    events: tuple[TicketEvent, ...]


def _canonical(payload: dict) -> Delivery:
    body = json.dumps(payload).encode()
    return Delivery("/events", body, (TicketEvent.model_validate_json(body),))


def _zendesk(name: str, ticket_id: int) -> Delivery:
    data = json.loads((PAYLOADS / "zendesk" / name).read_text(encoding="utf-8"))
    data["ticket"]["id"] = ticket_id
    body = json.dumps(data).encode()
    return Delivery("/webhooks/zendesk", body, tuple(parse_zendesk(body)))


def _servicenow(rng: random.Random, number: int) -> Delivery:
    """The incident under a new sys_id (its journal and audit rows follow) and number."""
    text = (PAYLOADS / "servicenow" / SERVICENOW_FILE).read_text(encoding="utf-8")
    text = text.replace(SERVICENOW_SYS_ID, f"{rng.getrandbits(128):032x}")
    data = json.loads(text)
    data["result"]["number"] = f"INC{number}"
    body = json.dumps(data).encode()
    return Delivery("/webhooks/servicenow", body, (parse_servicenow(body),))


def _zendesk_signature(secret: str, body: bytes) -> dict[str, str]:
    timestamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return {
        SIGNATURE_HEADER: base64.b64encode(digest).decode(),
        SIGNATURE_TIMESTAMP_HEADER: timestamp,
    }


async def test_every_event_delivered_three_times_at_once_starts_one_workflow(
    dev_client,
    worker,
    sessions,
    catalog,
    task_queue,
    fault_events,
    fault_people,
    fault_api,
    fault_settings,
):
    rng = random.Random(SEED)
    base = rng.randrange(10**9, 2 * 10**9)
    deliveries = [_canonical(p) for p in fault_events(CANONICAL, SEED)]
    deliveries += [_zendesk(ZENDESK_FILES[i % 2], base + i) for i in range(ZENDESK)]
    deliveries += [_servicenow(rng, base + i) for i in range(SERVICENOW)]
    sends = [d for d in deliveries for _ in range(COPIES)]
    rng.shuffle(sends)
    api = fault_api(dev_client, sessions, task_queue, await fault_people(sessions))
    headers = {
        "/events": {"Authorization": f"Bearer {api.people.admin}"},
        "/webhooks/servicenow": {SECRET_HEADER: fault_settings.servicenow_secret},
    }
    gate = asyncio.Semaphore(CONCURRENCY)

    async def send(delivery: Delivery) -> tuple[Delivery, int, dict]:
        extra = headers.get(delivery.path) or _zendesk_signature(
            fault_settings.zendesk_secret, delivery.body
        )
        async with gate:
            response = await api.http.post(
                delivery.path,
                content=delivery.body,
                headers={"Content-Type": "application/json", **extra},
            )
        return delivery, response.status_code, response.json()

    answers = await asyncio.gather(*(send(d) for d in sends))

    assert Counter(status for _, status, _ in answers) == {202: len(sends)}
    by_delivery: dict[bytes, list[dict]] = {}
    for delivery, _, body in answers:
        by_delivery.setdefault(delivery.body, []).append(body)
    for delivery in deliveries:
        results = by_delivery[delivery.body]
        expected = expected_assessments(delivery.events, catalog)
        assert len(results) == COPIES
        assert all(sorted(r["matched"]) == sorted(results[0]["matched"]) for r in results)
        started = Counter(w for r in results for w in r["started"])
        duplicates = Counter(w for r in results for w in r["duplicates"])
        assert started == Counter(set(expected)), (delivery.path, started)
        assert duplicates == Counter({w: COPIES - 1 for w in expected}), (delivery.path, duplicates)

    events = [e for d in deliveries for e in d.events]
    expected = expected_assessments(events, catalog)
    assert len(expected) > CANONICAL // 2
    await until_settled(sessions, catalog, events, {})
    queue = await api.undecided()
    chosen = sorted(w for w in expected if rng.random() < DECIDED_SHARE)
    actions = {queue[w]: rng.choice(["approve", "override", "dismiss"]) for w in chosen}
    decisions = [(a, action) for a, action in actions.items() for _ in range(COPIES)]
    rng.shuffle(decisions)
    decided = await asyncio.gather(*(api.decide(a, action, f"dup-{a}") for a, action in decisions))
    by_assessment: dict[int, list[dict]] = {}
    for result in decided:
        by_assessment.setdefault(result["assessment_id"], []).append(result)
    assert sorted(by_assessment) == sorted(actions)
    assert all(r == results[0] for results in by_assessment.values() for r in results)

    await until_settled(sessions, catalog, events, actions)
    await assert_invariants(sessions, catalog, events, actions, client=dev_client)
