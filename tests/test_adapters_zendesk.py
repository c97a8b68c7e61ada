"""The Zendesk adapter: trigger bodies and ticket audits in, canonical events out; signatures."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from domain.events import Change, TicketEvent
from intake.errors import IntakeError
from intake.zendesk import (
    SIGNATURE_HEADER,
    SIGNATURE_TIMESTAMP_HEADER,
    parse_zendesk,
    verify_zendesk_signature,
)
from opportunities.matcher import match_event

PAYLOADS = Path(__file__).parent / "payloads" / "zendesk"
FIELD_MAP = {"360012345": "product_area"}
PLANTED = "maria.planted+7731@example.org"


def _data(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


def _body(data: Any) -> bytes:
    return json.dumps(data).encode()


def _trigger(**ticket: Any) -> dict[str, Any]:
    data = _data("trigger_csat_bad.json")
    data["ticket"].update(ticket)
    return data


def _audits() -> list[TicketEvent]:
    return parse_zendesk((PAYLOADS / "ticket_audits_reassignment.json").read_bytes(), FIELD_MAP)


def _outcomes(event: TicketEvent, catalog) -> dict[str, str]:
    return {m.opportunity_id: m.outcome for m in match_event(event, catalog)}


# --- (a) trigger bodies ------------------------------------------------------------------------


def test_a_trigger_with_a_bad_rating_is_a_low_csat_event(catalog):
    [event] = parse_zendesk((PAYLOADS / "trigger_csat_bad.json").read_bytes())
    assert event.model_dump(mode="json") == {
        "event_id": "48213:csat:20261119T174500Z",
        "source": "zendesk",
        "type": "csat.received",
        "occurred_at": "2026-11-19T17:45:00Z",
        "ticket": {
            "id": "48213",
            "subject": "Charged twice for the annual plan",
            "status": "solved",
            "channel": "email",
            "priority": "high",
            "queue": "Billing",
            "product_area": "subscriptions",
            "customer_segment": "smb",
            "tags": ["billing", "double_charge", "refund_requested"],
            "created_at": "2026-11-16T08:02:00Z",
            "solved_at": None,
            "agent": {
                "id": "381912004",
                "name": "Dana Ruiz",
                "email": "dana.ruiz@acme-support.example",
                "team": None,
            },
            "requester": {
                "id": "390045117",
                "name": "Tomás Herrera",
                "email": "tomas.herrera@example.net",
                "team": None,
            },
            "participants": [],
            "metrics": {
                "first_response_minutes": None,
                "resolution_minutes": None,
                "reassignment_count": None,
                "reopens": None,
            },
            "queue_backlog_per_agent": None,
            "csat": {
                "score": 1.0,
                "scale": 5,
                "comment": "Three days and two agents before anyone read my first email properly.",
                "received_at": "2026-11-19T17:45:00Z",
            },
            "messages": [],
            "kb_articles": [],
            "policies": [],
            "escalations": [],
        },
        "change": None,
    }
    assert _outcomes(event, catalog) == {"low-csat": "matched"}


@pytest.mark.parametrize(
    ("overrides", "extra", "kind", "score"),
    [
        ({"satisfaction_rating": {"score": "good", "comment": "Lovely"}}, {}, "csat.received", 5),
        (
            {"satisfaction_rating": {"score": "Bad, I'm unsatisfied", "comment": ""}},
            {},
            "csat.received",
            1,
        ),
        ({"satisfaction_rating": {"score": "offered", "comment": ""}}, {}, "ticket.solved", None),
        ({"satisfaction_rating": {"score": "unoffered"}}, {}, "ticket.solved", None),
        (
            {"satisfaction_rating": None, "status": "New", "updated_at": "2026-11-16T08:02Z"},
            {},
            "ticket.created",
            None,
        ),
        ({"satisfaction_rating": {"score": ""}, "status": "Pending"}, {}, "ticket.updated", None),
        ({}, {"event_type": "ticket.escalated"}, "ticket.escalated", 1),
    ],
)
def test_the_event_type_follows_the_trigger_body(overrides, extra, kind, score):
    data = {**_trigger(**overrides), **extra}
    [event] = parse_zendesk(_body(data))
    assert event.type == kind
    assert (event.ticket.csat.score if event.ticket.csat else None) == score
    if event.ticket.csat:
        assert event.ticket.csat.scale == 5


def test_a_good_rating_does_not_match_low_csat(catalog):
    [event] = parse_zendesk(_body(_trigger(satisfaction_rating={"score": "good"})))
    assert _outcomes(event, catalog) == {"low-csat": "condition_false"}


def test_an_api_ticket_maps_integer_ids_to_strings_and_empty_strings_to_nothing():
    data = {
        "ticket": {
            "id": 9051,
            "subject": "",
            "status": "open",
            "priority": None,
            "via": {"channel": "web", "source": {"from": {}, "to": {}, "rel": None}},
            "requester_id": 77,
            "assignee_id": 381912004,
            "group_id": 360004101,
            "tags": ["vip", "vip", "outage"],
            "custom_fields": [{"id": 360012345, "value": "dashboards"}, {"id": 1, "value": True}],
            "satisfaction_rating": {"score": "unoffered"},
            "created_at": "2026-11-20T08:00:00Z",
            "updated_at": "2026-11-20T09:30:00Z",
        },
        "comments": [
            {
                "id": 501,
                "author_id": 381912004,
                "public": True,
                "body": "Looking now.",
                "created_at": "2026-11-20T08:45:00Z",
            },
            {
                "id": 500,
                "author_id": 77,
                "public": True,
                "plain_body": "Dashboards are blank.",
                "body": "<p>Dashboards are blank.</p>",
                "created_at": "2026-11-20T08:00:00Z",
            },
        ],
    }
    [event] = parse_zendesk(_body(data), {360012345: "product_area"})
    ticket = event.ticket
    assert (event.type, event.event_id) == (
        "ticket.updated",
        "9051:ticket.updated:20261120T093000Z",
    )
    assert ticket.id == "9051" and ticket.subject is None and ticket.priority is None
    assert ticket.agent is not None and ticket.agent.id == "381912004"
    assert ticket.requester is not None and ticket.requester.id == "77"
    assert (ticket.queue, ticket.channel, ticket.product_area) == ("360004101", "web", "dashboards")
    assert ticket.tags == ["vip", "outage"]
    assert ticket.csat is None
    assert [(m.id, m.author.role, m.body) for m in ticket.messages] == [
        ("500", "customer", "Dashboards are blank."),
        ("501", "agent", "Looking now."),
    ]
    assert ticket.metrics.first_response_minutes == 45


def test_a_redelivered_body_gives_the_same_event():
    body = (PAYLOADS / "trigger_csat_bad.json").read_bytes()
    assert parse_zendesk(body) == parse_zendesk(body)


# --- (b) a ticket with its audits --------------------------------------------------------------


def test_audits_yield_one_event_per_trigger_in_order():
    events = _audits()
    assert [(e.type, e.event_id, e.occurred_at.isoformat()) for e in events] == [
        ("ticket.created", "35436:audit:9100000001:created", "2026-11-18T08:00:00+00:00"),
        ("ticket.reassigned", "35436:audit:9100000002:reassigned", "2026-11-18T09:10:00+00:00"),
        (
            "ticket.first_response",
            "35436:audit:9100000003:first_response",
            "2026-11-18T10:05:00+00:00",
        ),
        ("ticket.solved", "35436:audit:9100000005:solved", "2026-11-18T15:00:00+00:00"),
        ("csat.received", "35436:audit:9100000006:csat", "2026-11-19T16:30:00+00:00"),
    ]


def test_a_reassignment_change_is_a_reassigned_event_with_the_ticket_as_of_then(catalog):
    reassigned = _audits()[1]
    assert reassigned.model_dump(mode="json", by_alias=True) == {
        "event_id": "35436:audit:9100000002:reassigned",
        "source": "zendesk",
        "type": "ticket.reassigned",
        "occurred_at": "2026-11-18T09:10:00Z",
        "ticket": {
            "id": "35436",
            "subject": "CSV export times out for last quarter",
            "status": "open",
            "channel": "email",
            "priority": "normal",
            "queue": "Reporting",
            "product_area": "reporting",
            "customer_segment": None,
            "tags": ["export", "reporting", "timeout"],
            "created_at": "2026-11-18T08:00:00Z",
            "solved_at": None,
            "agent": {
                "id": "381912004",
                "name": "Dana Ruiz",
                "email": "dana.ruiz@acme-support.example",
                "team": None,
            },
            "requester": {
                "id": "20978392",
                "name": "Priya Shah",
                "email": "priya.shah@harbourdesign.example",
                "team": None,
            },
            "participants": [],
            "metrics": {
                "first_response_minutes": 125.0,
                "resolution_minutes": 420.0,
                "reassignment_count": 1,
                "reopens": 0,
            },
            "queue_backlog_per_agent": None,
            "csat": None,
            "messages": [
                {
                    "id": "9100000101",
                    "author": {"id": "20978392", "role": "customer", "name": "Priya Shah"},
                    "public": True,
                    "created_at": "2026-11-18T08:00:00Z",
                    "body": "Hi, the CSV export of last quarter's report spins for a minute and "
                    "then fails with a timeout. I need it for our board pack on Friday.\n\n"
                    "Priya Shah\nHarbour Design",
                },
                {
                    "id": "9100000201",
                    "author": {"id": "381900001", "role": "agent", "name": "Sam Okafor"},
                    "public": False,
                    "created_at": "2026-11-18T09:10:00Z",
                    "body": "Reproduced: the export query times out above 50k rows. Passing to "
                    "Reporting; customer needs it by Friday for a board pack.",
                },
            ],
            "kb_articles": [],
            "policies": [],
            "escalations": [],
        },
        "change": {"field": "assignee", "from": "381900001", "to": "381912004"},
    }
    assert _outcomes(reassigned, catalog) == {"reassignment": "matched"}


def test_each_event_carries_the_ticket_as_it_stood_after_its_audit(catalog):
    created, _, first, solved, csat = _audits()
    assert (created.ticket.status, created.ticket.queue) == ("new", "Tier 1")
    assert created.ticket.agent is not None and created.ticket.agent.name == "Sam Okafor"
    assert [m.id for m in created.ticket.messages] == ["9100000101"]

    assert first.ticket.status == "pending"
    assert first.ticket.agent is not None and first.ticket.agent.id == "381912004"
    assert [(m.author.role, m.public) for m in first.ticket.messages] == [
        ("customer", True),
        ("agent", False),
        ("agent", True),
    ]
    assert first.ticket.csat is None
    assert _outcomes(first, catalog) == {"first-response": "matched"}

    assert solved.ticket.status == "solved"
    assert solved.ticket.solved_at == datetime(2026, 11, 18, 15, 0, tzinfo=UTC)
    assert len(solved.ticket.messages) == 5

    assert csat.ticket.csat is not None
    assert csat.ticket.csat.model_dump(mode="json") == {
        "score": 5.0,
        "scale": 5,
        "comment": "Quick once it reached the right person.",
        "received_at": "2026-11-19T16:30:00Z",
    }
    assert _outcomes(csat, catalog) == {"low-csat": "condition_false"}


def _minimal_audits(*audits: dict[str, Any], **ticket: Any) -> dict[str, Any]:
    base = {
        "id": 7,
        "status": "open",
        "requester_id": 1,
        "assignee_id": 30,
        "created_at": "2026-11-01T08:00:00Z",
        "updated_at": "2026-11-03T08:00:00Z",
    }
    return {"ticket": {**base, **ticket}, "audits": list(audits)}


def _audit(audit_id: int, at: str, *events: dict[str, Any], author: int = 20) -> dict[str, Any]:
    return {"id": audit_id, "created_at": at, "author_id": author, "events": list(events)}


def _change(name: str, previous: Any, value: Any) -> dict[str, Any]:
    return {"type": "Change", "field_name": name, "previous_value": previous, "value": value}


def test_unassigning_then_assigning_someone_else_is_one_reassignment_and_first_assignment_none():
    data = _minimal_audits(
        _audit(1, "2026-11-01T08:00:00Z", _change("assignee_id", None, "10")),
        _audit(2, "2026-11-01T09:00:00Z", _change("assignee_id", "10", None)),
        _audit(3, "2026-11-01T10:00:00Z", _change("assignee_id", "", 30)),
        _audit(4, "2026-11-01T11:00:00Z", _change("group_id", 5, 6)),
    )
    events = parse_zendesk(_body(data))
    assert [(e.type, e.change) for e in events] == [
        ("ticket.reassigned", Change(field="assignee", from_="10", to="30")),
        ("ticket.reassigned", Change(field="group", from_="5", to="6")),
    ]
    assert events[0].ticket.agent is not None and events[0].ticket.agent.id == "30"


def test_a_status_back_from_solved_is_a_reopen():
    data = _minimal_audits(
        _audit(1, "2026-11-01T08:00:00Z", _change("status", "open", "solved")),
        _audit(2, "2026-11-02T08:00:00Z", _change("status", "solved", "open"), author=1),
    )
    solved, reopened = parse_zendesk(_body(data))
    assert (solved.type, solved.ticket.status) == ("ticket.solved", "solved")
    assert (reopened.type, reopened.ticket.status, reopened.ticket.solved_at) == (
        "ticket.reopened",
        "open",
        None,
    )


def test_a_rating_no_audit_shows_still_arrives_and_a_quiet_history_is_an_update():
    rated = _minimal_audits(
        _audit(1, "2026-11-01T08:00:00Z", {"type": "Comment", "public": False, "body": "note"}),
        satisfaction_rating={"id": 99, "score": "bad", "updated_at": "2026-11-03T07:00:00Z"},
    )
    [event] = parse_zendesk(_body(rated))
    assert (event.type, event.event_id) == ("csat.received", "7:csat:99")
    assert event.ticket.csat is not None and event.ticket.csat.score == 1

    quiet = _minimal_audits(
        _audit(1, "2026-11-01T08:00:00Z", {"type": "Notification", "body": "hi"}),
    )
    [event] = parse_zendesk(_body(quiet))
    assert (event.type, event.event_id) == ("ticket.updated", "7:audit:1:updated")


def test_every_parsed_event_round_trips_through_the_canonical_model():
    events = [*_audits(), *parse_zendesk((PAYLOADS / "trigger_csat_bad.json").read_bytes())]
    for event in events:
        assert TicketEvent.model_validate(event.model_dump(mode="json")) == event
        assert TicketEvent.model_validate(event.model_dump(mode="json", by_alias=True)) == event


# --- errors ------------------------------------------------------------------------------------


def _set(data: dict[str, Any], path: tuple, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(data)
    target = data
    for part in path[:-1]:
        target = target[part]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


_DELETE = object()
TRIGGER = "trigger_csat_bad.json"
AUDITS = "ticket_audits_reassignment.json"


@pytest.mark.parametrize(
    ("name", "path", "value", "where"),
    [
        (TRIGGER, ("ticket", "id"), _DELETE, "ticket.id"),
        (TRIGGER, ("ticket",), PLANTED, "ticket"),
        (TRIGGER, ("ticket", "assignee", "id"), {"email": PLANTED}, "ticket.assignee.id"),
        (TRIGGER, ("ticket", "updated_at"), PLANTED, "ticket.updated_at"),
        (TRIGGER, ("ticket", "created_at"), "2026-11-16T08:02:00", "ticket.created_at"),
        (
            TRIGGER,
            ("ticket", "satisfaction_rating", "score"),
            PLANTED,
            "ticket.satisfaction_rating.score",
        ),
        (TRIGGER, ("ticket", "tags"), [PLANTED, 7], "ticket.tags[1]"),
        (TRIGGER, ("ticket", "requester", "email"), PLANTED * 20, "ticket.requester.email"),
        (TRIGGER, ("event_type",), PLANTED, "event_type"),
        (AUDITS, ("ticket", "assignee_id"), [PLANTED], "ticket.assignee_id"),
        (
            AUDITS,
            ("audits", 1, "events", 2, "previous_value"),
            {"name": PLANTED},
            "audits[1].events[2].previous_value",
        ),
        (AUDITS, ("audits", 0, "created_at"), PLANTED, "audits[0].created_at"),
        (AUDITS, ("audits", 3, "id"), None, "audits[3].id"),
        (AUDITS, ("audits", 2, "events", 0, "public"), PLANTED, "audits[2].events[0].public"),
        (AUDITS, ("audits",), PLANTED, "audits"),
        (AUDITS, ("ticket_metric", "reopens"), PLANTED, "ticket_metric.reopens"),
        (
            AUDITS,
            ("ticket_metric", "reply_time_in_minutes", "calendar"),
            -5,
            "ticket_metric.reply_time_in_minutes.calendar",
        ),
        (AUDITS, ("users", 0, "name"), {"first": PLANTED}, "users[0].name"),
    ],
)
def test_a_malformed_payload_names_the_field_and_never_the_value(name, path, value, where):
    with pytest.raises(IntakeError) as caught:
        parse_zendesk(_body(_set(_data(name), path, value)), FIELD_MAP)
    assert [e.path for e in caught.value.errors] == [where]
    assert PLANTED not in str(caught.value)
    assert "maria" not in json.dumps(caught.value.as_dict())


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"ticket": {"id": "1", "subject": "' + PLANTED.encode() + b'"', "invalid JSON"),
        (b"\xff\xfe" + PLANTED.encode(), "not UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "invalid JSON"),
        (b'["' + PLANTED.encode() + b'"]', "must be a JSON object"),
        (b"null", "required field is missing"),
        (b"", "invalid JSON"),
    ],
)
def test_a_body_that_is_not_a_payload_is_an_intake_error(body, message):
    with pytest.raises(IntakeError) as caught:
        parse_zendesk(body)
    assert message in str(caught.value)
    assert PLANTED not in str(caught.value)


def _leaf_paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            out += _leaf_paths(child, (*prefix, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            out += _leaf_paths(child, (*prefix, i))
    return out


@pytest.mark.parametrize("name", [TRIGGER, AUDITS])
def test_any_json_either_parses_or_is_an_intake_error(name):
    data = _data(name)
    odd_values = [None, "", 0, -1, 2.5, True, [], {}, PLANTED, "9" * 40, _DELETE]
    for path in _leaf_paths(data):
        for value in odd_values:
            try:
                events = parse_zendesk(_body(_set(data, path, value)), FIELD_MAP)
            except IntakeError as exc:
                assert PLANTED not in str(exc), path
            else:
                assert events and all(isinstance(e, TicketEvent) for e in events)


# --- signatures --------------------------------------------------------------------------------

SECRET = "dGhpc2lzYXNlY3JldGZvcnRlc3Rz"
NOW = datetime(2026, 11, 20, 10, 0, 0, tzinfo=UTC)
STAMP = "2026-11-20T09:59:30Z"
BODY = b'{"ticket": {"id": "48213"}}'


def _sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def test_the_header_names_are_zendesks():
    assert SIGNATURE_HEADER == "X-Zendesk-Webhook-Signature"
    assert SIGNATURE_TIMESTAMP_HEADER == "X-Zendesk-Webhook-Signature-Timestamp"


def test_a_valid_signature_verifies():
    assert verify_zendesk_signature(SECRET, BODY, STAMP, _sign(SECRET, STAMP, BODY), NOW)


@pytest.mark.parametrize(
    ("secret", "timestamp", "signature", "now"),
    [
        (SECRET, STAMP, _sign(SECRET, STAMP, BODY + b" "), NOW),  # another body
        ("another-secret", STAMP, _sign(SECRET, STAMP, BODY), NOW),
        (SECRET, STAMP, _sign(SECRET, "2026-11-20T09:59:31Z", BODY), NOW),  # another timestamp
        (
            SECRET,
            "2026-11-20T09:54:59Z",
            _sign(SECRET, "2026-11-20T09:54:59Z", BODY),
            NOW,
        ),  # replayed: over five minutes old
        (
            SECRET,
            "2026-11-20T10:05:01Z",
            _sign(SECRET, "2026-11-20T10:05:01Z", BODY),
            NOW,
        ),  # over five minutes in the future
        (SECRET, STAMP, "not base64 at all!", NOW),
        (SECRET, STAMP, _sign(SECRET, STAMP, BODY)[:-2], NOW),  # bad padding
        (SECRET, STAMP, "ü" + _sign(SECRET, STAMP, BODY), NOW),
        (SECRET, STAMP, "", NOW),
        (SECRET, "yesterday", _sign(SECRET, "yesterday", BODY), NOW),
        (SECRET, "", _sign(SECRET, "", BODY), NOW),
        ("", STAMP, _sign("", STAMP, BODY), NOW),
    ],
)
def test_a_wrong_stale_or_malformed_signature_does_not_verify(secret, timestamp, signature, now):
    assert not verify_zendesk_signature(secret, BODY, timestamp, signature, now)


def test_the_window_is_five_minutes_either_way():
    for offset in (timedelta(minutes=5), timedelta(minutes=-5)):
        stamp = (NOW + offset).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert verify_zendesk_signature(SECRET, BODY, stamp, _sign(SECRET, stamp, BODY), NOW)
    naive_now = NOW.replace(tzinfo=None)
    assert verify_zendesk_signature(SECRET, BODY, STAMP, _sign(SECRET, STAMP, BODY), naive_now)
