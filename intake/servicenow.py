"""ServiceNow adapter: a Table API `incident` record with its journal and audit rows, as one
TicketEvent.

The body is the record, bare or as the Table API wraps it (`{"result": {...}}`), with two
optional companions an outbound REST message or a script adds::

    {
      "result": {"sys_id": "...", "number": "INC0010023", "state": "2", ...},
      "sys_journal_field": [                      (or {"result": [...]}, in any order)
        {"sys_id": "...", "element": "comments", "element_id": "<incident sys_id>",
         "value": "...", "sys_created_on": "2026-11-18 08:40:12", "sys_created_by": "beth.anglin"}
      ],
      "sys_audit": [                              (or {"result": [...]})
        {"sys_id": "...", "documentkey": "<incident sys_id>", "fieldname": "assigned_to",
         "oldvalue": "<sys_id>", "newvalue": "<sys_id>", "sys_created_on": "..."}
      ]
    }

Reference fields are `{"link": ..., "value": ...}`, a bare sys_id (with
`sysparm_exclude_reference_link`), `""` for empty, or `{"display_value": ..., "value": ...}`
(with `sysparm_display_value=all`, which wraps every field so). Dot-walked fields the request
asks for (`caller_id.user_name`, `caller_id.name`, `caller_id.email`, `assigned_to.user_name`,
`assigned_to.name`, `assigned_to.email`) fill in names and tell the caller's journal entries
apart. Times are `YYYY-MM-DD HH:MM:SS` in UTC (ISO 8601 with a zone is accepted too).

Mappings:

- Ticket id = `number` (what people search for); `sys_id` ties journal and audit rows to the
  record and keys the event id. `short_description` → subject; `category` → product_area;
  `assignment_group` → queue (its display value when given, else its sys_id);
  `assigned_to` → agent, `caller_id` → requester (ids are sys_ids).
- `state`: 1 New → `new`, 2 In Progress → `open`, 3 On Hold → `hold`, 6 Resolved → `solved`,
  7 Closed → `closed`, 8 Canceled → `canceled` (numbers or the display labels); other custom
  states → absent.
- `priority`: 1 Critical → `urgent`, 2 High → `high`, 3 Moderate → `normal`, 4 Low and
  5 Planning → `low`.
- `contact_type`: phone → `voice`, self-service/virtual_agent → `web`, email/chat/walk-in and
  others as they are (lower case, `_` for spaces).
- Journal: `comments` → public messages, `work_notes` → internal (`public: false`) messages by
  agents; other elements are ignored. A comment's author is the `customer` when it is the
  caller (`caller_id.user_name`), `system` for `system`, else an `agent` when they are the
  assignee or wrote a work note, or when the caller is known (anyone else who comments
  publicly is staff); with no caller user name, unknown commenters are `customer`s.
- Metrics: `reassignment_count`, `reopen_count`; resolution from `calendar_stc` (seconds),
  else `opened_at` → `resolved_at`; first response = minutes from `opened_at` to the first
  public agent comment.
- No CSAT: ServiceNow surveys live in other tables.

Event type (one event per delivery): the latest of these triggers, ties broken in this order:
`ticket.solved` (state Resolved/Closed, at `resolved_at`), `ticket.reopened` (a `state` audit
row from Resolved/Closed back to an open state), `ticket.reassigned` (an `assigned_to` or
`assignment_group` audit row from one non-empty value to another; `change` is
`{field: "assignee"|"group", from, to}` with sys_ids; an assignee change wins over a group
change at the same time), `ticket.first_response` (the first public agent comment). With
none: `ticket.created` when `sys_mod_count` is 0 or `opened_at` equals `sys_updated_on`, else
`ticket.updated`. An explicit top-level `event_type` wins. Event ids derive from the record
and the trigger, so a redelivery yields the same id; a later update may repeat an earlier
trigger's event (same id), which downstream deduplication absorbs. `reassignment_count`
alone, without audit rows, does not make a reassignment event.

`verify_servicenow_secret` compares the `X-Coachflow-Secret` header with the configured secret
in constant time.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Any

from domain.events import TicketEvent
from intake.adapter_common import (
    BODY_MAX,
    EMAIL_MAX,
    LABEL_MAX,
    MESSAGES_MAX,
    NAME_MAX,
    QUEUE_MAX,
    SUBJECT_MAX,
    Loc,
    Obj,
    build_event,
    event_type,
    fail,
    load_json,
    make_event_id,
    minutes_between,
    person,
)
from intake.nul import may_hold_nul, refuse_nul

SOURCE = "servicenow"
SECRET_HEADER = "X-Coachflow-Secret"

STATES = {
    "1": "new",
    "2": "open",
    "3": "hold",
    "6": "solved",
    "7": "closed",
    "8": "canceled",
    "new": "new",
    "in progress": "open",
    "on hold": "hold",
    "resolved": "solved",
    "closed": "closed",
    "canceled": "canceled",
    "cancelled": "canceled",
}
PRIORITIES = {
    "1": "urgent",
    "2": "high",
    "3": "normal",
    "4": "low",
    "5": "low",
    "1 - critical": "urgent",
    "2 - high": "high",
    "3 - moderate": "normal",
    "4 - low": "low",
    "5 - planning": "low",
}
CHANNELS = {"phone": "voice", "self-service": "web", "virtual_agent": "web"}
_OPEN_STATE_VALUES = ("1", "2", "3")
_DONE_STATE_VALUES = ("6", "7")
_REASSIGNABLE = {"assigned_to": "assignee", "assignment_group": "group"}
_TRIGGER_RANK = {
    "ticket.first_response": 0,
    "ticket.reassigned": 1,
    "ticket.reopened": 2,
    "ticket.solved": 3,
}


def verify_servicenow_secret(expected: str, header_value: str | None) -> bool:
    """True when the header carries the configured secret; never with no secret configured."""
    if not expected or header_value is None:
        return False
    try:
        return hmac.compare_digest(expected.encode(), header_value.encode())
    except (UnicodeEncodeError, AttributeError):
        return False


class _Record(Obj):
    """A ServiceNow row: a `{"value": ...}` wrapper (sysparm_display_value=all) reads as its
    value."""

    def raw(self, key: str) -> Any:
        value = self.data.get(key)
        if isinstance(value, dict) and "value" in value:
            return value["value"]
        return value

    def display(self, key: str, *, max_length: int) -> str | None:
        value = self.data.get(key)
        if not isinstance(value, dict) or "display_value" not in value:
            return None
        return Obj(value, self.at(key)).text("display_value", max_length=max_length)

    def ref(self, key: str) -> str | None:
        """A reference field's sys_id."""
        value = self.data.get(key)
        if isinstance(value, dict):
            return Obj(value, self.at(key)).ident("value")
        return self.ident(key)

    def time_utc(self, key: str, *, required: bool = False) -> datetime | None:
        return self.time(key, required=required, naive_utc=True)


def _rows(root: Obj, key: str) -> list[_Record]:
    """Companion rows: a list, or a Table API response `{"result": [...]}`."""
    value = root.data.get(key)
    loc: Loc = root.at(key)
    if isinstance(value, dict):
        value, loc = value.get("result"), (*loc, "result")
    if value is None or value == "":
        return []
    if not isinstance(value, list):
        fail(loc, "must be a list")
    rows = [_Record.of(item, (*loc, i), required=True) for i, item in enumerate(value)]
    return [row for row in rows if isinstance(row, _Record)]


def _trigger_order(trigger: tuple[datetime, str, str, dict | None]) -> tuple:
    """Latest first; at one time, by type rank, then an assignee change over a group change."""
    at, kind, _, change = trigger
    return (at, _TRIGGER_RANK[kind], bool(change and change["field"] == "assignee"))


def _lookup(table: dict[str, str], value: str | None) -> str | None:
    return None if value is None else table.get(value.lower())


def _channel(rec: _Record) -> str | None:
    value = rec.text("contact_type", max_length=LABEL_MAX)
    if value is None:
        return None
    value = value.lower()
    return CHANNELS.get(value, value.replace(" ", "_"))


def _stamp(at: datetime) -> str:
    return at.strftime("%Y%m%dT%H%M%SZ")


def parse_servicenow(body: bytes) -> TicketEvent:
    """The canonical event for a ServiceNow incident payload (see the module docstring).

    Raises IntakeError, naming source field paths and never values, for anything else.
    """
    data = load_json(body)
    root = _Record.of(data, (), required=True)
    assert isinstance(root, _Record)
    explicit = event_type(root)
    if "result" in root.data:
        rec = _Record.of(root.data["result"], ("result",), required=True)
    else:
        rec = root
    assert isinstance(rec, _Record)

    sys_id = rec.ident("sys_id", required=True)
    number = rec.ident("number", required=True)
    assert sys_id is not None and number is not None
    state_value = rec.text("state", max_length=LABEL_MAX)
    status = _lookup(STATES, state_value)
    opened_at = rec.time_utc("opened_at")
    resolved_at = rec.time_utc("resolved_at")
    updated_at = rec.time_utc("sys_updated_on")

    caller_user = rec.text("caller_id.user_name", max_length=NAME_MAX)
    assignee_user = rec.text("assigned_to.user_name", max_length=NAME_MAX)
    agent_id = rec.ref("assigned_to")
    requester_id = rec.ref("caller_id")
    agent = person(
        agent_id,
        rec.display("assigned_to", max_length=NAME_MAX)
        or rec.text("assigned_to.name", max_length=NAME_MAX),
        rec.text("assigned_to.email", max_length=EMAIL_MAX),
    )
    requester = person(
        requester_id,
        rec.display("caller_id", max_length=NAME_MAX)
        or rec.text("caller_id.name", max_length=NAME_MAX),
        rec.text("caller_id.email", max_length=EMAIL_MAX),
    )
    queue = rec.display("assignment_group", max_length=QUEUE_MAX) or rec.ref("assignment_group")

    # Journal entries → messages.
    entries = []
    for row in _rows(root, "sys_journal_field"):
        element = row.text("element", max_length=LABEL_MAX)
        if element not in ("comments", "work_notes"):
            continue
        owner = row.ident("element_id")
        if owner is not None and owner != sys_id:
            fail(row.at("element_id"), "belongs to another record than the incident's sys_id")
        at = row.time_utc("sys_created_on", required=True)
        author = row.ident("sys_created_by", required=True)
        entries.append(
            {
                "id": row.ident("sys_id") or f"{element}-{row.loc[-1]}",
                "element": element,
                "author": author,
                "at": at,
                "body": row.text("value", clip_to=BODY_MAX) or "",
            }
        )
    entries.sort(key=lambda e: e["at"])
    agents = {e["author"] for e in entries if e["element"] == "work_notes"}
    if assignee_user:
        agents.add(assignee_user)

    def role(author: str, element: str) -> str:
        if element == "work_notes":
            return "agent"
        if caller_user is not None and author == caller_user:
            return "customer"
        if author == "system":
            return "system"
        if author in agents or caller_user is not None:
            return "agent"
        return "customer"

    messages = [
        {
            "id": e["id"],
            "author": {"id": e["author"], "role": role(e["author"], e["element"])},
            "public": e["element"] == "comments",
            "created_at": e["at"],
            "body": e["body"],
        }
        for e in entries
    ][:MESSAGES_MAX]
    first_reply = next(
        (m for m in messages if m["public"] and m["author"]["role"] == "agent"), None
    )

    # Triggers: (time, type, event-id part, change).
    triggers: list[tuple[datetime, str, str, dict | None]] = []
    if first_reply is not None:
        triggers.append(
            (first_reply["created_at"], "ticket.first_response", f"reply-{first_reply['id']}", None)
        )
    for row in _rows(root, "sys_audit"):
        owner = row.ident("documentkey")
        if owner is not None and owner != sys_id:
            fail(row.at("documentkey"), "belongs to another record than the incident's sys_id")
        name = row.text("fieldname", max_length=LABEL_MAX)
        if name not in _REASSIGNABLE and name != "state":
            continue
        at = row.time_utc("sys_created_on", required=True)
        assert at is not None
        old, new = row.ident("oldvalue"), row.ident("newvalue")
        key = row.ident("sys_id") or f"{name}-{_stamp(at)}"
        if name in _REASSIGNABLE:
            if old is not None and new is not None and old != new:
                change = {"field": _REASSIGNABLE[name], "from": old, "to": new}
                triggers.append((at, "ticket.reassigned", f"audit-{key}", change))
        elif old in _DONE_STATE_VALUES and new in _OPEN_STATE_VALUES:
            triggers.append((at, "ticket.reopened", f"audit-{key}", None))
    if status in ("solved", "closed"):
        at = resolved_at or updated_at
        if at is None:
            fail(rec.at("resolved_at"), "required field is missing")
        triggers.append((at, "ticket.solved", f"resolved-{_stamp(at)}", None))

    change = None
    if explicit:
        kind, occurred = explicit, updated_at or opened_at
        part = f"{explicit.partition('.')[2]}-{_stamp(occurred)}" if occurred else ""
    elif triggers:
        occurred, kind, part, change = max(triggers, key=_trigger_order)
    else:
        occurred = updated_at or opened_at
        mods = rec.integer("sys_mod_count")
        created = mods == 0 or (opened_at is not None and opened_at == updated_at)
        kind = "ticket.created" if created else "ticket.updated"
        part = f"{kind.partition('.')[2]}-{_stamp(occurred)}" if occurred else ""
    if occurred is None:
        fail(rec.at("sys_updated_on"), "required field is missing")

    stc = rec.number("calendar_stc")
    resolution = None
    if stc:
        resolution = round(stc / 60, 2)
    elif status in ("solved", "closed"):
        resolution = minutes_between(opened_at, resolved_at)
    ticket = {
        "id": number,
        "subject": rec.text("short_description", clip_to=SUBJECT_MAX),
        "status": status,
        "channel": _channel(rec),
        "priority": _lookup(PRIORITIES, rec.text("priority", max_length=LABEL_MAX)),
        "queue": queue,
        "product_area": rec.text("category", max_length=NAME_MAX),
        "created_at": opened_at,
        "solved_at": resolved_at if status in ("solved", "closed") else None,
        "agent": agent,
        "requester": requester,
        "metrics": {
            "first_response_minutes": minutes_between(
                opened_at, first_reply["created_at"] if first_reply else None
            ),
            "resolution_minutes": resolution,
            "reassignment_count": rec.integer("reassignment_count"),
            "reopens": rec.integer("reopen_count"),
        },
        "messages": messages,
    }
    event: dict[str, Any] = {
        "event_id": make_event_id(sys_id, part),
        "source": SOURCE,
        "type": kind,
        "occurred_at": occurred,
        "ticket": ticket,
    }
    if change is not None:
        event["change"] = change
    built = build_event(event)
    if may_hold_nul(body):
        refuse_nul([built])
    return built
