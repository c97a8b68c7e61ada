"""The ServiceNow adapter: incident records with journal and audit rows in, one canonical event
out; the shared-secret header."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from domain.events import Change, TicketEvent
from intake.errors import IntakeError
from intake.servicenow import SECRET_HEADER, parse_servicenow, verify_servicenow_secret
from opportunities.matcher import match_event

PAYLOADS = Path(__file__).parent / "payloads" / "servicenow"
REASSIGNED = "incident_reassigned_with_journal.json"
EMPTY_REFS = "incident_new_empty_references.json"
RESOLVED = "incident_resolved_display_values.json"
PLANTED = "fred.planted+4417@example.com"
SYS_ID = "9d385017c611228701d22104cc95c371"


def _data(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


def _body(data: Any) -> bytes:
    return json.dumps(data).encode()


def _parse(name: str) -> TicketEvent:
    return parse_servicenow((PAYLOADS / name).read_bytes())


def _outcomes(event: TicketEvent, catalog) -> dict[str, str]:
    return {m.opportunity_id: m.outcome for m in match_event(event, catalog)}


def test_an_incident_with_journal_and_a_reassignment_is_a_reassigned_event(catalog):
    event = _parse(REASSIGNED)
    assert event.model_dump(mode="json", by_alias=True) == {
        "event_id": f"{SYS_ID}:audit-c3f5b3d21b3330109f3a0f66cc4bcb91",
        "source": "servicenow",
        "type": "ticket.reassigned",
        "occurred_at": "2026-11-18T09:03:00Z",
        "ticket": {
            "id": "INC0010042",
            "subject": "VPN drops every ten minutes since the client update",
            "status": "open",
            "channel": "email",
            "priority": "normal",
            "queue": "287ebd7da9fe198100f92cc8d1d2154e",
            "product_area": "network",
            "customer_segment": None,
            "tags": [],
            "created_at": "2026-11-18T07:55:10Z",
            "solved_at": None,
            "agent": {
                "id": "46d44a23a9fe19810012d100cca80666",
                "name": "Beth Anglin",
                "email": "beth.anglin@acme-it.example",
                "team": None,
            },
            "requester": {
                "id": "5137153cc611227c000bbd1bd8cd2005",
                "name": "Fred Luddy",
                "email": "fred.luddy@example.com",
                "team": None,
            },
            "participants": [],
            "metrics": {
                "first_response_minutes": 64.92,
                "resolution_minutes": None,
                "reassignment_count": 1,
                "reopens": 0,
            },
            "queue_backlog_per_agent": None,
            "csat": None,
            "messages": [
                {
                    "id": "99e5b3d21b3330109f3a0f66cc4bcb6f",
                    "author": {"id": "fred.luddy", "role": "customer", "name": None},
                    "public": True,
                    "created_at": "2026-11-18T07:55:10Z",
                    "body": "Since Monday's VPN client update my connection drops roughly every "
                    "ten minutes. Please call me on +1 555 0100 if you need to reproduce it. "
                    "Fred Luddy",
                },
                {
                    "id": "a7e5b3d21b3330109f3a0f66cc4bcb70",
                    "author": {"id": "david.loo", "role": "agent", "name": None},
                    "public": True,
                    "created_at": "2026-11-18T09:00:05Z",
                    "body": "Hi Fred, thanks for the details. This looks like a known problem "
                    "with the new VPN client; I'm passing your ticket to our network team, who "
                    "can roll your client back today.",
                },
                {
                    "id": "b2e5b3d21b3330109f3a0f66cc4bcb71",
                    "author": {"id": "david.loo", "role": "agent", "name": None},
                    "public": False,
                    "created_at": "2026-11-18T09:02:31Z",
                    "body": "Matches the known issue with VPN client 5.2 (KB0012345). "
                    "Reassigning to Network for the rollback.",
                },
            ],
            "kb_articles": [],
            "policies": [],
            "escalations": [],
        },
        "change": {
            "field": "assignee",
            "from": "681b365ec0a80164000fb0b05854a0cd",
            "to": "46d44a23a9fe19810012d100cca80666",
        },
    }
    assert _outcomes(event, catalog) == {"reassignment": "matched"}


def test_empty_references_are_absent_and_a_fresh_record_is_created():
    event = _parse(EMPTY_REFS)
    assert (event.type, event.event_id) == (
        "ticket.created",
        "1c741bd70b2322007518478d83673af3:created-20261120T134109Z",
    )
    ticket = event.ticket
    assert ticket.agent is None and ticket.queue is None
    assert ticket.requester is not None
    assert ticket.requester.model_dump() == {
        "id": "62826bf03710200044e0bfc8bcbe5df1",
        "name": None,
        "email": None,
        "team": None,
    }
    assert (ticket.id, ticket.status, ticket.priority, ticket.channel) == (
        "INC0010051",
        "new",
        "low",
        "web",
    )
    assert ticket.metrics.model_dump() == {
        "first_response_minutes": None,
        "resolution_minutes": None,
        "reassignment_count": 0,
        "reopens": 0,
    }
    assert ticket.messages == [] and event.change is None


def test_display_values_and_a_wrapped_journal_read_as_values(catalog):
    event = _parse(RESOLVED)
    ticket = event.ticket
    assert (event.type, event.occurred_at.isoformat()) == (
        "ticket.solved",
        "2026-11-20T16:12:00+00:00",
    )
    assert (ticket.id, ticket.status, ticket.priority, ticket.channel, ticket.queue) == (
        "INC0010017",
        "solved",
        "high",
        "voice",
        "Service Desk",
    )
    assert ticket.agent is not None and ticket.agent.name == "Beth Anglin"
    assert ticket.requester is not None and ticket.requester.name == "Bud Richman"
    assert ticket.solved_at is not None and ticket.solved_at.isoformat() == (
        "2026-11-20T16:12:00+00:00"
    )
    assert ticket.metrics.resolution_minutes == 1920
    assert [(m.public, m.author.role) for m in ticket.messages] == [
        (False, "agent"),
        (True, "agent"),
    ]
    # The weekly sample's condition holds; whether this ticket is drawn is the sampler's call.
    assert _outcomes(event, catalog)["weekly-qa-sample"] in ("matched", "not_sampled")


def test_without_audit_rows_the_first_public_agent_reply_is_the_event(catalog):
    data = _data(REASSIGNED)
    del data["sys_audit"]
    event = parse_servicenow(_body(data))
    assert (event.type, event.event_id, event.change) == (
        "ticket.first_response",
        f"{SYS_ID}:reply-a7e5b3d21b3330109f3a0f66cc4bcb70",
        None,
    )
    assert event.ticket.metrics.reassignment_count == 1
    assert _outcomes(event, catalog) == {"first-response": "matched"}


def test_a_group_change_alone_is_a_group_reassignment():
    data = _data(REASSIGNED)
    data["sys_audit"] = [row for row in data["sys_audit"] if row["fieldname"] != "assigned_to"]
    event = parse_servicenow(_body(data))
    assert event.change == Change(
        field="group",
        from_="d625dccec0a8016700a222a0f7900d06",
        to="287ebd7da9fe198100f92cc8d1d2154e",
    )


def test_a_state_audit_back_from_resolved_is_a_reopen():
    data = _data(REASSIGNED)
    data["sys_audit"].append(
        {
            "sys_id": "f0f5b3d21b3330109f3a0f66cc4bcb99",
            "documentkey": SYS_ID,
            "fieldname": "state",
            "oldvalue": "6",
            "newvalue": "2",
            "sys_created_on": "2026-11-18 10:30:00",
        }
    )
    event = parse_servicenow(_body(data))
    assert (event.type, event.event_id) == (
        "ticket.reopened",
        f"{SYS_ID}:audit-f0f5b3d21b3330109f3a0f66cc4bcb99",
    )


def test_without_the_callers_user_name_unknown_commenters_are_customers():
    data = _data(REASSIGNED)
    del data["result"]["caller_id.user_name"]
    roles = [m.author.role for m in parse_servicenow(_body(data)).ticket.messages]
    assert roles == ["customer", "agent", "agent"]  # david.loo wrote a work note


def test_an_explicit_event_type_wins():
    data = {**_data(REASSIGNED), "event_type": "ticket.escalated"}
    event = parse_servicenow(_body(data))
    assert (event.type, event.event_id, event.change) == (
        "ticket.escalated",
        f"{SYS_ID}:escalated-20261118T090300Z",
        None,
    )


def test_every_parsed_event_round_trips_through_the_canonical_model():
    for name in (REASSIGNED, EMPTY_REFS, RESOLVED):
        event = _parse(name)
        assert TicketEvent.model_validate(event.model_dump(mode="json")) == event
        assert TicketEvent.model_validate(event.model_dump(mode="json", by_alias=True)) == event
        assert _parse(name) == event  # a redelivery is the same event


# --- errors ------------------------------------------------------------------------------------

_DELETE = object()


def _set(data: Any, path: tuple, value: Any) -> Any:
    data = copy.deepcopy(data)
    target = data
    for part in path[:-1]:
        target = target[part]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("name", "path", "value", "where"),
    [
        (REASSIGNED, ("result", "opened_at"), PLANTED, "result.opened_at"),
        (REASSIGNED, ("result", "sys_updated_on"), "18/11/2026 09:03", "result.sys_updated_on"),
        (REASSIGNED, ("result", "sys_id"), _DELETE, "result.sys_id"),
        (REASSIGNED, ("result", "number"), "", "result.number"),
        (REASSIGNED, ("result", "reassignment_count"), PLANTED, "result.reassignment_count"),
        (REASSIGNED, ("result", "reassignment_count"), "-1", "result.reassignment_count"),
        (
            REASSIGNED,
            ("result", "assigned_to", "value"),
            {"email": PLANTED},
            "result.assigned_to.value",
        ),
        (REASSIGNED, ("result", "caller_id.email"), PLANTED * 20, "result.caller_id.email"),
        (REASSIGNED, ("result",), [PLANTED], "result"),
        (
            REASSIGNED,
            ("sys_journal_field", 0, "sys_created_on"),
            PLANTED,
            "sys_journal_field[0].sys_created_on",
        ),
        (
            REASSIGNED,
            ("sys_journal_field", 1, "element_id"),
            "0000000000000000000000000000beef",
            "sys_journal_field[1].element_id",
        ),
        (
            REASSIGNED,
            ("sys_journal_field", 2, "sys_created_by"),
            None,
            "sys_journal_field[2].sys_created_by",
        ),
        (REASSIGNED, ("sys_journal_field", 2, "value"), [PLANTED], "sys_journal_field[2].value"),
        (REASSIGNED, ("sys_audit",), PLANTED, "sys_audit"),
        (REASSIGNED, ("sys_audit", 1, "newvalue"), {"x": PLANTED}, "sys_audit[1].newvalue"),
        (REASSIGNED, ("event_type",), PLANTED, "event_type"),
        (EMPTY_REFS, ("opened_at",), PLANTED, "opened_at"),
        (EMPTY_REFS, ("assigned_to",), [PLANTED], "assigned_to"),
        (EMPTY_REFS, ("sys_updated_on",), _DELETE, "sys_updated_on"),
        (
            RESOLVED,
            ("sys_journal_field", "result", 0, "sys_created_on"),
            PLANTED,
            "sys_journal_field.result[0].sys_created_on",
        ),
        (RESOLVED, ("result", "resolved_at", "value"), PLANTED, "result.resolved_at"),
    ],
)
def test_a_malformed_payload_names_the_field_and_never_the_value(name, path, value, where):
    data = _set(_data(name), path, value)
    if where == "sys_updated_on":
        data = _set(data, ("opened_at",), _DELETE)
    with pytest.raises(IntakeError) as caught:
        parse_servicenow(_body(data))
    assert [e.path for e in caught.value.errors] == [where]
    assert PLANTED not in str(caught.value)
    assert "planted" not in json.dumps(caught.value.as_dict())


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"result": {"sys_id": "' + PLANTED.encode(), "invalid JSON"),
        (b"\xc3\x28" + PLANTED.encode(), "not UTF-8"),
        (b"{" * 50_000, "invalid JSON"),
        (b'"' + PLANTED.encode() + b'"', "must be a JSON object"),
        (b"[]", "must be a JSON object"),
    ],
)
def test_a_body_that_is_not_a_payload_is_an_intake_error(body, message):
    with pytest.raises(IntakeError) as caught:
        parse_servicenow(body)
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


@pytest.mark.parametrize("name", [REASSIGNED, EMPTY_REFS, RESOLVED])
def test_any_json_either_parses_or_is_an_intake_error(name):
    data = _data(name)
    odd_values = [None, "", 0, -1, 2.5, True, [], {}, {"value": {}}, PLANTED, "9" * 40, _DELETE]
    for path in _leaf_paths(data):
        for value in odd_values:
            try:
                event = parse_servicenow(_body(_set(data, path, value)))
            except IntakeError as exc:
                assert PLANTED not in str(exc), path
            else:
                assert isinstance(event, TicketEvent)


# --- the shared secret -------------------------------------------------------------------------


def test_the_header_name():
    assert SECRET_HEADER == "X-Coachflow-Secret"


@pytest.mark.parametrize(
    ("expected", "header", "ok"),
    [
        ("s3cr3t-value-for-tests", "s3cr3t-value-for-tests", True),
        ("s3cr3t-value-for-tests", "s3cr3t-value-for-test", False),
        ("s3cr3t-value-for-tests", "", False),
        ("s3cr3t-value-for-tests", None, False),
        ("s3cr3t-value-for-tests", "s3cr3t-välue-for-tests", False),
        ("", "", False),
        ("", None, False),
    ],
)
def test_the_shared_secret_is_compared_exactly(expected, header, ok):
    assert verify_servicenow_secret(expected, header) is ok
