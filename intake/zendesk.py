"""Zendesk adapter: trigger/webhook bodies and tickets with their audits, as TicketEvents.

`parse_zendesk(body)` always returns a list of canonical events, oldest first. Two shapes:

(a) A trigger or automation webhook whose JSON body an admin wrote with placeholders, or a
    ticket as the Tickets API returns it (both go through the same reader)::

        {
          "event_type": "csat.received",                  (optional, see "Event types")
          "ticket": {
            "id": "{{ticket.id}}",
            "subject": "{{ticket.title}}",
            "status": "{{ticket.status}}",
            "priority": "{{ticket.priority}}",
            "via": "{{ticket.via}}",                      (or the API's {"channel": "email"})
            "group": "{{ticket.group.name}}",             (or the API's "group_id")
            "assignee": {"id": "{{ticket.assignee.id}}", "name": "{{ticket.assignee.name}}",
                         "email": "{{ticket.assignee.email}}"},   (or "assignee_id")
            "requester": {"id": "{{ticket.requester.id}}", "name": "{{ticket.requester.name}}",
                          "email": "{{ticket.requester.email}}"}, (or "requester_id")
            "tags": "{{ticket.tags}}",                    (space-separated, or a list)
            "satisfaction_rating": {"score": "{{satisfaction.current_rating}}",
                                    "comment": "{{satisfaction.current_comment}}"},
            "custom_fields": {"product_area": "{{ticket.ticket_field_<id>}}"},
            "created_at": "{{ticket.created_at_with_timestamp}}",
            "updated_at": "{{ticket.updated_at_with_timestamp}}"
          },
          "comments": [...],          (optional: Ticket Comments API objects → messages)
          "ticket_metric": {...},     (optional: Ticket Metrics API object → metrics)
          "users": [...]              (optional: sideloaded users → names and roles)
        }

    It yields exactly one event.

(b) A ticket with its audits, as from the Ticket Audits API (`{"ticket": {...}, "audits":
    [...]}`, plus optional `ticket_metric`, sideloaded `users` and `groups`). Audits are read
    oldest first; `Comment` events become messages, and the events below are emitted **one per
    trigger, in chronological order** (audit time, then the position of the audit event):

    - `ticket.created`        the first audit holding `Create` events;
    - `ticket.first_response` the first public comment by an agent;
    - `ticket.reassigned`     a `Change` of `assignee_id` (else `group_id`) to someone other than
                              the last non-empty holder; `change` is `{field: "assignee"|"group",
                              from, to}`; the first assignment of an unassigned ticket is not a
                              reassignment; at most one per audit (the assignee change wins);
    - `ticket.solved`         a `status` change to `solved`;
    - `ticket.reopened`       a `status` change from `solved`/`closed` back to an open status;
    - `csat.received`         a `SatisfactionRating` event or `satisfaction_score` change to
                              `good`/`bad` (also when the ticket carries a rating that no audit
                              shows, e.g. a truncated audit page: then at the rating's time).

    Each event's ticket is the ticket as it stood after that audit: status, assignee, group,
    priority, rating and messages as of then (a field no audit changes keeps the ticket's
    value). `ticket.metrics` is the ticket's `ticket_metric` as delivered. With no trigger at
    all the payload yields one `ticket.updated` event for the newest audit.

Event types for (a): `event_type` when given (any of domain.events.EVENT_TYPES; an admin sets
it per trigger), else `csat.received` when the ticket has a `good`/`bad` rating, else
`ticket.solved` when its status is `solved`, else `ticket.created` when `created_at` equals
`updated_at`, else `ticket.updated`. A trigger body carries no previous assignee, so
reassignments need shape (b).

Mappings:

- CSAT: canonical scale 5. Zendesk `good` → score 5, `bad` → score 1 (the bundled `low-csat`
  opportunity fires at ≤ 2). `offered`/`unoffered` (and an empty rating) → no CSAT. A rendered
  placeholder such as "Bad, I'm unsatisfied" is read by its first word. The rating's
  `received_at` is its own `updated_at`/`created_at`, else (trigger bodies) the ticket's
  `updated_at`, else (audits) the audit's time.
- Ids (Zendesk integers or rendered strings) → strings; `""` and null → absent.
- Status, priority → lower case (`On-hold` → `hold`, priority `-` → absent).
- Channel (`via`/`via.channel`): mail → `email`; web form/web widget/help center → `web`;
  chat → `chat`; native messaging → `messaging`; voice/phone/voicemail → `voice`; api → `api`;
  other names lower case with `_`; numeric via ids → absent.
- Group → `queue` (its name when known, else its id). Assignee → `agent`, requester →
  `requester`. The agent's team is left to the user directory.
- Custom fields: a `{"product_area": ..., "customer_segment": ...}` object is used as is; the
  API's `[{"id": ..., "value": ...}]` list is mapped by the `custom_fields` argument
  (Zendesk field id → `product_area` or `customer_segment`).
- Metrics: `reply_time_in_minutes.calendar` → `first_response_minutes`,
  `full_resolution_time_in_minutes.calendar` → `resolution_minutes`, `reassignments` →
  `reassignment_count`, `reopens` → `reopens`. Without `ticket_metric`, the first response is
  the minutes from `created_at` to the first public agent comment.
- Message roles: the requester → `customer`; user `-1` (Zendesk itself) → `system`; a
  sideloaded user's role `end-user` → `customer`, `agent`/`admin` → `agent`; any assignee
  (current or in a change), rating assignee or private-note author → `agent`; anyone else →
  `customer`. Bodies prefer `plain_body` over `body`; texts longer than the canonical limits
  are cut, and at most 2,000 messages are kept (the oldest).

Errors are `IntakeError`s naming the source path (`ticket.assignee_id`,
`audits[0].events[1].previous_value`), never the value.

Signatures: `verify_zendesk_signature` checks base64(HMAC-SHA256(secret, timestamp + body))
from the `X-Zendesk-Webhook-Signature` and `X-Zendesk-Webhook-Signature-Timestamp` headers,
with at most five minutes between the timestamp and `now`, either way.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.events import TicketEvent
from intake.adapter_common import (
    BODY_MAX,
    COMMENT_MAX,
    EMAIL_MAX,
    LABEL_MAX,
    MESSAGES_MAX,
    NAME_MAX,
    QUEUE_MAX,
    SUBJECT_MAX,
    TAGS_MAX,
    Obj,
    build_event,
    event_type,
    fail,
    load_json,
    make_event_id,
    minutes_between,
    parse_time,
    person,
    unique,
)
from intake.nul import may_hold_nul, refuse_nul

SOURCE = "zendesk"
SIGNATURE_HEADER = "X-Zendesk-Webhook-Signature"
SIGNATURE_TIMESTAMP_HEADER = "X-Zendesk-Webhook-Signature-Timestamp"
SIGNATURE_TOLERANCE = timedelta(minutes=5)

CSAT_SCALE = 5
CSAT_SCORES = {"good": 5.0, "bad": 1.0}
_UNRATED = ("offered", "unoffered")

CUSTOM_FIELD_TARGETS = ("product_area", "customer_segment")
SYSTEM_USER_ID = "-1"

_OPEN_STATUSES = ("new", "open", "pending", "hold")
_DONE_STATUSES = ("solved", "closed")
_STATUS_ALIASES = {"on-hold": "hold", "on hold": "hold", "on_hold": "hold"}
_CHANNELS = {
    "mail": "email",
    "email": "email",
    "web": "web",
    "web form": "web",
    "web_form": "web",
    "web widget": "web",
    "web_widget": "web",
    "help center": "web",
    "help_center": "web",
    "chat": "chat",
    "chat_transcript": "chat",
    "native messaging": "messaging",
    "native_messaging": "messaging",
    "messaging": "messaging",
    "voice": "voice",
    "phone": "voice",
    "voicemail": "voice",
    "phone call (incoming)": "voice",
    "phone call (outbound)": "voice",
    "api": "api",
    "web service": "api",
    "web_service": "api",
}
_WORD = re.compile(r"[a-z]+")


# --- signatures -------------------------------------------------------------------------------


def verify_zendesk_signature(
    secret: str, body: bytes, timestamp: str, signature: str, now: datetime
) -> bool:
    """True when `signature` is base64(HMAC-SHA256(secret, timestamp + body)) and `timestamp`
    (ISO 8601) is within five minutes of `now` (a naive `now` is taken as UTC)."""
    if not secret or not timestamp or not signature:
        return False
    try:
        sent_at = parse_time(timestamp)
        if sent_at is None:
            return False
        current = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
        if abs(current - sent_at) > SIGNATURE_TOLERANCE:
            return False
        given = base64.b64decode(signature.strip(), validate=True)
        expected = hmac.new(
            secret.encode(), timestamp.encode() + bytes(body), hashlib.sha256
        ).digest()
    except (binascii.Error, ValueError, TypeError, OverflowError):
        return False
    return hmac.compare_digest(expected, given)


# --- reading source fields --------------------------------------------------------------------


@dataclass
class _Rating:
    score: str  # "good" or "bad"
    comment: str | None = None
    at: datetime | None = None
    id: str | None = None

    def canonical(self) -> dict[str, Any]:
        return {
            "score": CSAT_SCORES[self.score],
            "scale": CSAT_SCALE,
            "comment": self.comment,
            "received_at": self.at,
        }


@dataclass
class _User:
    name: str | None = None
    email: str | None = None
    role: str | None = None


@dataclass
class _Comment:
    id: str
    author_id: str
    public: bool
    body: str
    at: datetime | None


@dataclass
class _Ticket:
    id: str
    subject: str | None
    status: str | None
    priority: str | None
    channel: str | None
    queue: str | None
    tags: list[str]
    created_at: datetime | None
    updated_at: datetime | None
    assignee_id: str | None
    agent: dict[str, Any] | None
    requester_id: str | None
    requester: dict[str, Any] | None
    rating: _Rating | None
    custom: dict[str, str]


def _label(o: Obj, key: str) -> str | None:
    value = o.text(key, max_length=LABEL_MAX)
    if value is None:
        return None
    value = value.lower()
    if value == "-":
        return None
    return _STATUS_ALIASES.get(value, value)


def _score(o: Obj, key: str) -> str | None:
    """`good`, `bad`, or None for no rating."""
    value = o.text(key, max_length=LABEL_MAX)
    if value is None:
        return None
    word = _WORD.match(value.lower())
    token = word.group(0) if word else ""
    if token in CSAT_SCORES:
        return token
    if token in _UNRATED:
        return None
    fail(o.at(key), "must be good, bad, offered or unoffered")


def _channel(o: Obj) -> str | None:
    via = o.raw("via")
    if isinstance(via, dict):
        via_obj = Obj(via, o.at("via"))
        raw = via_obj.raw("channel")
        if isinstance(raw, int) and not isinstance(raw, bool):
            return None  # a numeric via id
        name = via_obj.text("channel", max_length=LABEL_MAX)
    else:
        name = o.text("via", max_length=LABEL_MAX)
    if name is None:
        return None
    name = name.lower()
    return _CHANNELS.get(name, name.replace(" ", "_"))


def _user_ref(o: Obj, role: str, users: Mapping[str, _User]) -> tuple[str | None, dict | None]:
    """`role` as an object (trigger placeholders) or `role_id` (API)."""
    if role in o:
        ref = o.obj(role)
        if ref is None:
            return None, None
        uid = ref.ident("id")
        name = ref.text("name", max_length=NAME_MAX)
        email = ref.text("email", max_length=EMAIL_MAX)
    else:
        uid = o.ident(f"{role}_id")
        name = email = None
    known = users.get(uid or "", _User())
    return uid, person(uid, name or known.name, email or known.email)


def _group(o: Obj, groups: Mapping[str, str]) -> str | None:
    if "group" in o:
        value = o.raw("group")
        if isinstance(value, dict):
            ref = Obj(value, o.at("group"))
            return ref.text("name", max_length=QUEUE_MAX) or ref.ident("id")
        return o.text("group", max_length=QUEUE_MAX)
    gid = o.ident("group_id")
    return groups.get(gid, gid) if gid else None


def _tags(o: Obj) -> list[str]:
    value = o.raw("tags")
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return unique(value.split())[:TAGS_MAX]
    if not isinstance(value, list):
        fail(o.at("tags"), "must be a list of strings or a space-separated string")
    out = []
    for i, tag in enumerate(value):
        if not isinstance(tag, str):
            fail((*o.at("tags"), i), "must be a string")
        if tag.strip():
            out.append(tag.strip())
    return unique(out)[:TAGS_MAX]


def _rating(o: Obj | None) -> _Rating | None:
    if o is None:
        return None
    score = _score(o, "score")
    comment = o.text("comment", clip_to=COMMENT_MAX)
    at = o.time("updated_at") or o.time("created_at")
    rid = o.ident("id")
    if score is None:
        return None
    return _Rating(score, comment, at, rid)


def _custom_fields(o: Obj, mapping: Mapping[str, str]) -> dict[str, str]:
    value = o.raw("custom_fields")
    out: dict[str, str] = {}
    if isinstance(value, dict):
        fields = Obj(value, o.at("custom_fields"))
        for target in CUSTOM_FIELD_TARGETS:
            text = fields.text(target, max_length=NAME_MAX)
            if text is not None:
                out[target] = text
        return out
    for item in o.objects("custom_fields"):
        target = mapping.get(item.ident("id") or "")
        if target is None:
            continue
        text = item.text("value", max_length=NAME_MAX)
        if text is not None:
            out[target] = text
    return out


def _users(root: Obj) -> dict[str, _User]:
    out = {}
    for user in root.objects("users"):
        uid = user.ident("id")
        if uid is None:
            continue
        out[uid] = _User(
            name=user.text("name", max_length=NAME_MAX),
            email=user.text("email", max_length=EMAIL_MAX),
            role=user.text("role", max_length=LABEL_MAX),
        )
    return out


def _groups(root: Obj) -> dict[str, str]:
    out = {}
    for group in root.objects("groups"):
        gid = group.ident("id")
        name = group.text("name", max_length=QUEUE_MAX)
        if gid is not None and name is not None:
            out[gid] = name
    return out


def _ticket(
    t: Obj, mapping: Mapping[str, str], users: Mapping[str, _User], groups: Mapping[str, str]
) -> _Ticket:
    tid = t.ident("id", required=True)
    assert tid is not None
    assignee_id, agent = _user_ref(t, "assignee", users)
    requester_id, requester = _user_ref(t, "requester", users)
    return _Ticket(
        id=tid,
        subject=(
            t.text("subject", clip_to=SUBJECT_MAX) or t.text("raw_subject", clip_to=SUBJECT_MAX)
        ),
        status=_label(t, "status"),
        priority=_label(t, "priority"),
        channel=_channel(t),
        queue=_group(t, groups),
        tags=_tags(t),
        created_at=t.time("created_at"),
        updated_at=t.time("updated_at"),
        assignee_id=assignee_id,
        agent=agent,
        requester_id=requester_id,
        requester=requester,
        rating=_rating(t.obj("satisfaction_rating")),
        custom=_custom_fields(t, mapping),
    )


def _minutes(m: Obj, key: str) -> float | None:
    value = m.raw(key)
    if isinstance(value, dict):
        return Obj(value, m.at(key)).number("calendar")
    return m.number(key)


@dataclass
class _Metrics:
    first_response_minutes: float | None = None
    resolution_minutes: float | None = None
    reassignment_count: int | None = None
    reopens: int | None = None
    solved_at: datetime | None = None

    def canonical(self) -> dict[str, Any]:
        return {
            "first_response_minutes": self.first_response_minutes,
            "resolution_minutes": self.resolution_minutes,
            "reassignment_count": self.reassignment_count,
            "reopens": self.reopens,
        }


def _metrics(root: Obj, t: Obj) -> _Metrics:
    m = root.obj("ticket_metric") or t.obj("metric_set")
    if m is None:
        return _Metrics()
    return _Metrics(
        first_response_minutes=_minutes(m, "reply_time_in_minutes"),
        resolution_minutes=_minutes(m, "full_resolution_time_in_minutes"),
        reassignment_count=m.integer("reassignments"),
        reopens=m.integer("reopens"),
        solved_at=m.time("solved_at"),
    )


def _comment(
    o: Obj, fallback_id: str, fallback_author: str | None, fallback_at: datetime | None
) -> _Comment:
    author = o.ident("author_id") or fallback_author
    if author is None:
        fail(o.at("author_id"), "required field is missing")
    public = o.boolean("public")
    body = o.text("plain_body", clip_to=BODY_MAX) or o.text("body", clip_to=BODY_MAX) or ""
    return _Comment(
        id=o.ident("id") or fallback_id,
        author_id=author,
        public=True if public is None else public,
        body=body,
        at=o.time("created_at") or fallback_at,
    )


class _Roles:
    """Who is the customer and who the agent, from what the payload tells."""

    def __init__(self, requester_id: str | None, users: Mapping[str, _User], agents: set[str]):
        self.requester_id = requester_id
        self.users = users
        self.agents = agents

    def role(self, uid: str) -> str:
        if uid == self.requester_id:
            return "customer"
        if uid == SYSTEM_USER_ID:
            return "system"
        known = self.users.get(uid)
        if known is not None and known.role in ("agent", "admin"):
            return "agent"
        if known is not None and known.role == "end-user":
            return "customer"
        return "agent" if uid in self.agents else "customer"

    def message(self, comment: _Comment) -> dict[str, Any]:
        author: dict[str, Any] = {"id": comment.author_id, "role": self.role(comment.author_id)}
        name = self.users.get(comment.author_id, _User()).name
        if name:
            author["name"] = name
        return {
            "id": comment.id,
            "author": author,
            "public": comment.public,
            "created_at": comment.at,
            "body": comment.body,
        }


def _canonical_ticket(
    info: _Ticket,
    *,
    status: str | None,
    priority: str | None,
    queue: str | None,
    agent: dict | None,
    rating: _Rating | None,
    solved_at: datetime | None,
    metrics: dict[str, Any],
    messages: list[dict[str, Any]],
) -> dict[str, Any]:
    return {
        "id": info.id,
        "subject": info.subject,
        "status": status,
        "channel": info.channel,
        "priority": priority,
        "queue": queue,
        "product_area": info.custom.get("product_area"),
        "customer_segment": info.custom.get("customer_segment"),
        "tags": info.tags,
        "created_at": info.created_at,
        "solved_at": solved_at,
        "agent": agent,
        "requester": info.requester,
        "metrics": metrics,
        "csat": rating.canonical() if rating else None,
        "messages": messages[:MESSAGES_MAX],
    }


def _first_reply_minutes(
    created_at: datetime | None, comments: list[_Comment], roles: _Roles
) -> float | None:
    for comment in comments:
        if comment.public and roles.role(comment.author_id) == "agent":
            return minutes_between(created_at, comment.at)
    return None


def _stamp(at: datetime) -> str:
    return at.strftime("%Y%m%dT%H%M%SZ")


# --- (a) one ticket, as a trigger body or from the Tickets API --------------------------------


def _from_ticket(root: Obj, mapping: Mapping[str, str]) -> list[TicketEvent]:
    explicit = event_type(root)
    t = root.obj("ticket", required=True)
    assert t is not None
    users = _users(root)
    info = _ticket(t, mapping, users, _groups(root))
    metrics = _metrics(root, t)
    comments = [
        _comment(c, f"comment-{i}", None, None) for i, c in enumerate(root.objects("comments"))
    ]
    comments.sort(key=lambda c: c.at or datetime.min.replace(tzinfo=UTC))
    agents = {info.assignee_id} if info.assignee_id else set()
    agents |= {c.author_id for c in comments if not c.public}
    roles = _Roles(info.requester_id, users, agents)

    if explicit:
        kind = explicit
    elif info.rating is not None:
        kind = "csat.received"
    elif info.status == "solved":
        kind = "ticket.solved"
    elif info.created_at is not None and info.created_at == info.updated_at:
        kind = "ticket.created"
    else:
        kind = "ticket.updated"

    occurred = info.updated_at or info.created_at
    if kind == "csat.received" and info.rating is not None and info.rating.at is not None:
        occurred = info.rating.at
    if occurred is None:
        fail(t.at("updated_at"), "required field is missing")
    if kind == "csat.received" and info.rating is not None:
        # Keyed like the audits' fallback rating event, so both shapes agree on one rating.
        event_id = make_event_id(info.id, "csat", info.rating.id or _stamp(occurred))
    else:
        event_id = make_event_id(info.id, kind, _stamp(occurred))

    rating = info.rating
    if kind == "csat.received" and rating is not None and rating.at is None:
        # The trigger fires as the rating arrives: the update time is when it was received.
        rating = _Rating(rating.score, rating.comment, occurred, rating.id)
    solved_at = None
    if info.status in _DONE_STATUSES:
        solved_at = metrics.solved_at or (occurred if kind == "ticket.solved" else None)
    canonical_metrics = metrics.canonical()
    if canonical_metrics["first_response_minutes"] is None:
        canonical_metrics["first_response_minutes"] = _first_reply_minutes(
            info.created_at, comments, roles
        )
    ticket = _canonical_ticket(
        info,
        status=info.status,
        priority=info.priority,
        queue=info.queue,
        agent=info.agent,
        rating=rating,
        solved_at=solved_at,
        metrics=canonical_metrics,
        messages=[roles.message(c) for c in comments],
    )
    return [
        build_event(
            {
                "event_id": event_id,
                "source": SOURCE,
                "type": kind,
                "occurred_at": occurred,
                "ticket": ticket,
            }
        )
    ]


# --- (b) a ticket with its audits -------------------------------------------------------------


@dataclass
class _Audit:
    position: int
    id: str
    at: datetime
    creates: bool = False
    comments: list[tuple[int, _Comment]] = field(default_factory=list)
    # (field name, previous value, value, index of the audit event)
    changes: list[tuple[str, Any, Any, int]] = field(default_factory=list)
    rating: tuple[int, _Rating] | None = None


def _change_value(o: Obj, name: str, key: str) -> Any:
    if name in ("assignee_id", "group_id"):
        return o.ident(key)
    if name in ("status", "priority"):
        return _label(o, key)
    if name == "satisfaction_score":
        return _score(o, key)
    return o.text(key, clip_to=COMMENT_MAX)  # satisfaction_comment


_TRACKED = ("status", "priority", "assignee_id", "group_id", "satisfaction_score")
_TRACKED_TEXT = ("satisfaction_comment",)


def _audit(a: Obj) -> _Audit:
    audit_id = a.ident("id", required=True)
    at = a.time("created_at", required=True)
    assert audit_id is not None and at is not None
    author = a.ident("author_id")
    audit = _Audit(position=a.loc[-1] if isinstance(a.loc[-1], int) else 0, id=audit_id, at=at)
    score: tuple[int, str] | None = None
    comment_text: str | None = None
    rating_event: tuple[int, Obj] | None = None
    for j, ev in enumerate(a.objects("events")):
        kind = ev.text("type", max_length=LABEL_MAX)
        if kind == "Comment":
            audit.comments.append((j, _comment(ev, f"{audit_id}-{j}", author, at)))
        elif kind in ("Change", "Create"):
            name = ev.text("field_name", max_length=LABEL_MAX)
            if kind == "Create":
                audit.creates = True
            if name not in _TRACKED and name not in _TRACKED_TEXT:
                continue
            previous = _change_value(ev, name, "previous_value") if kind == "Change" else None
            value = _change_value(ev, name, "value")
            if name == "satisfaction_score":
                if value is not None:
                    score = (j, value)
            elif name == "satisfaction_comment":
                comment_text = value
            else:
                audit.changes.append((name, previous, value, j))
        elif kind == "SatisfactionRating":
            value = _score(ev, "score")
            rating_event = (j, ev)
            if value is not None:
                score = (j, value)
    if rating_event is not None:
        j, ev = rating_event
        comment_text = ev.text("body", clip_to=COMMENT_MAX) or comment_text
        rater = ev.ident("assignee_id")
        if rater is not None:
            audit.changes.append(("rated_assignee", None, rater, j))
    if score is not None:
        audit.rating = (score[0], _Rating(score[1], comment_text, at, None))
    return audit


class _History:
    """A field's value after each audit, from its changes; the ticket's value when none."""

    def __init__(self, final: Any):
        self.final = final
        self.entries: list[tuple[int, Any, Any]] = []

    def at(self, k: int) -> Any:
        found, last = False, None
        for i, previous, value in self.entries:
            if i > k:
                return last if found else previous
            found, last = True, value
        return last if found else self.final


def _from_audits(root: Obj, mapping: Mapping[str, str]) -> list[TicketEvent]:
    t = root.obj("ticket", required=True)
    assert t is not None
    users = _users(root)
    groups = _groups(root)
    info = _ticket(t, mapping, users, groups)
    metrics = _metrics(root, t)
    audits = sorted((_audit(a) for a in root.objects("audits")), key=lambda a: (a.at, a.position))

    history = {
        "status": _History(info.status),
        "priority": _History(info.priority),
        "assignee_id": _History(info.assignee_id),
        "group_id": _History(None),
    }
    agents = {info.assignee_id} if info.assignee_id else set()
    ratings: list[tuple[int, _Rating]] = []
    solved_times: list[tuple[int, datetime]] = []
    for k, audit in enumerate(audits):
        for name, previous, value, _ in audit.changes:
            if name == "rated_assignee":
                agents.add(value)
                continue
            history[name].entries.append((k, previous, value))
            if name == "assignee_id":
                agents |= {v for v in (previous, value) if v}
            if name == "status" and value == "solved" and previous != "solved":
                solved_times.append((k, audit.at))
        if audit.rating is not None:
            ratings.append((k, audit.rating[1]))
        agents |= {c.author_id for _, c in audit.comments if not c.public}
    roles = _Roles(info.requester_id, users, agents)

    all_comments = [c for audit in audits for _, c in audit.comments]
    canonical_metrics = metrics.canonical()
    if canonical_metrics["first_response_minutes"] is None:
        canonical_metrics["first_response_minutes"] = _first_reply_minutes(
            info.created_at, all_comments, roles
        )

    def queue_at(k: int) -> str | None:
        if not history["group_id"].entries:
            return info.queue
        gid = history["group_id"].at(k)
        return groups.get(gid, gid) if gid else None

    def rating_at(k: int) -> _Rating | None:
        if not ratings:
            return info.rating
        current = None
        for i, rating in ratings:
            if i <= k:
                current = rating
        return current

    def snapshot(k: int, rating: _Rating | None = None) -> dict[str, Any]:
        status = history["status"].at(k)
        assignee = history["assignee_id"].at(k)
        if assignee == info.assignee_id:
            agent = info.agent
        else:
            known = users.get(assignee or "", _User())
            agent = person(assignee, known.name, known.email)
        solved_at = None
        if status in _DONE_STATUSES:
            solved = [at for i, at in solved_times if i <= k]
            solved_at = solved[-1] if solved else metrics.solved_at
        messages = [roles.message(c) for a in audits[: k + 1] for _, c in a.comments]
        messages.sort(key=lambda m: m["created_at"] or datetime.min.replace(tzinfo=UTC))
        return _canonical_ticket(
            info,
            status=status,
            priority=history["priority"].at(k),
            queue=queue_at(k),
            agent=agent,
            rating=rating or rating_at(k),
            solved_at=solved_at,
            metrics=canonical_metrics,
            messages=messages,
        )

    # (audit index, audit-event index, type, event-id part, change)
    triggers: list[tuple[int, int, str, str, dict | None]] = []
    first_reply_seen = False
    holders: dict[str, str | None] = {"assignee_id": None, "group_id": None}
    created_seen = False
    for k, audit in enumerate(audits):
        if audit.creates and not created_seen:
            created_seen = True
            triggers.append((k, -1, "ticket.created", "created", None))
        for j, comment in audit.comments:
            if not first_reply_seen and comment.public and roles.role(comment.author_id) == "agent":
                first_reply_seen = True
                triggers.append((k, j, "ticket.first_response", "first_response", None))
        reassigned: dict[str, tuple[int, dict]] = {}
        status_seen = False
        for name, previous, value, j in audit.changes:
            if name in holders:
                holder = holders[name] or previous
                if value is not None:
                    if holder is not None and value != holder and name not in reassigned:
                        label = "assignee" if name == "assignee_id" else "group"
                        reassigned[name] = (j, {"field": label, "from": holder, "to": value})
                    holders[name] = value
                elif holders[name] is None:
                    holders[name] = previous
            elif name == "status" and not status_seen:
                if value == "solved" and previous != "solved":
                    status_seen = True
                    triggers.append((k, j, "ticket.solved", "solved", None))
                elif previous in _DONE_STATUSES and value in _OPEN_STATUSES:
                    status_seen = True
                    triggers.append((k, j, "ticket.reopened", "reopened", None))
        pick = reassigned.get("assignee_id") or reassigned.get("group_id")
        if pick is not None:
            triggers.append((k, pick[0], "ticket.reassigned", "reassigned", pick[1]))
        if audit.rating is not None:
            triggers.append((k, audit.rating[0], "csat.received", "csat", None))
    triggers.sort(key=lambda trig: (trig[0], trig[1]))

    events = []
    for k, _, kind, part, change in triggers:
        data: dict[str, Any] = {
            "event_id": make_event_id(info.id, "audit", audits[k].id, part),
            "source": SOURCE,
            "type": kind,
            "occurred_at": audits[k].at,
            "ticket": snapshot(k),
        }
        if change is not None:
            data["change"] = change
        events.append(build_event(data))

    last = len(audits) - 1
    if not ratings and info.rating is not None:
        # A rating no audit shows (a truncated page of audits): at the rating's own time.
        occurred = info.rating.at or info.updated_at or (audits[-1].at if audits else None)
        if occurred is None:
            fail(t.at("updated_at"), "required field is missing")
        events.append(
            build_event(
                {
                    "event_id": make_event_id(info.id, "csat", info.rating.id or _stamp(occurred)),
                    "source": SOURCE,
                    "type": "csat.received",
                    "occurred_at": occurred,
                    "ticket": snapshot(last, info.rating),
                }
            )
        )
    if not events:
        if audits:
            event_id = make_event_id(info.id, "audit", audits[-1].id, "updated")
            occurred = audits[-1].at
        else:
            occurred = info.updated_at
            if occurred is None:
                fail(t.at("updated_at"), "required field is missing")
            event_id = make_event_id(info.id, "updated", _stamp(occurred))
        events.append(
            build_event(
                {
                    "event_id": event_id,
                    "source": SOURCE,
                    "type": "ticket.updated",
                    "occurred_at": occurred,
                    "ticket": snapshot(last),
                }
            )
        )
    events.sort(key=lambda e: e.occurred_at)
    return events


# --- entry point ------------------------------------------------------------------------------


def parse_zendesk(body: bytes, custom_fields: Mapping[str, str] | None = None) -> list[TicketEvent]:
    """The canonical events in a Zendesk payload, oldest first (see the module docstring).

    `custom_fields` maps Zendesk custom field ids to `product_area` or `customer_segment`.
    Raises IntakeError, naming source field paths and never values, for anything else.
    """
    mapping = {str(k): v for k, v in (custom_fields or {}).items()}
    for target in mapping.values():
        if target not in CUSTOM_FIELD_TARGETS:
            raise ValueError(f"custom fields map to one of {', '.join(CUSTOM_FIELD_TARGETS)}")
    root = Obj.of(load_json(body), (), required=True)
    assert root is not None
    events = _from_audits(root, mapping) if "audits" in root else _from_ticket(root, mapping)
    if may_hold_nul(body):
        refuse_nul(events)
    return events
