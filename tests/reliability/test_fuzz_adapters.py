"""Property-based fuzzing of the intake: the canonical event, the Zendesk and the ServiceNow
formats.

Inputs are either near-valid (a sample payload with up to four mutations: a key deleted, a
value replaced by arbitrary JSON or by one of another type, an extra key, a huge or an odd
unicode string, often carrying a planted customer address) or arbitrary JSON, and for the
parsers also damaged bytes (truncated, spliced, not UTF-8) and arbitrary bytes.

- The parsers (many examples, no database): each input is either parsed into canonical events or
  refused with the adapter's own error type, whose message names fields, never the planted
  value.
- Over HTTP, with a valid token, signature or secret so the adapter is reached: the answer is
  exactly what the parser decided (202 when it parses, 413 over the size limit, 422 otherwise;
  never a 500), a refused request stores no row, and an accepted one stores its events.

Hypothesis runs derandomized (the same examples on every run) without its example database.
Nothing here measures time, so there is no deadline; the example counts bound the run.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlalchemy import select

from domain.errors import field_errors
from domain.events import TicketEvent
from intake.errors import IntakeError
from intake.generic import parse_event
from intake.servicenow import parse_servicenow
from intake.zendesk import parse_zendesk
from store.models import EventRow
from tests.factories import event_dict
from tests.helpers import bearer
from tests.reliability.intake_support import (
    MAX_BODY,
    PLANTED,
    SERVICENOW_BASES,
    ZENDESK_BASES,
    canonical_for,
    servicenow_for,
    servicenow_headers,
    stored,
    zendesk_for,
    zendesk_headers,
)

PARSER_EXAMPLES = 250
HTTP_EXAMPLES = 40

parsers = settings(max_examples=PARSER_EXAMPLES, derandomize=True, database=None, deadline=None)
over_http = settings(max_examples=HTTP_EXAMPLES, derandomize=True, database=None, deadline=None)


# --- strategies --------------------------------------------------------------------------------

ODD_STRINGS = (
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ufeff",
    "\u202etxet",
    "\U0001f642",
    "e\u0301",
    "9" * 40,
    "-1",
    "1e999",
    "null",
    "2026-11-20T10:15:00Z",
    "2026-11-20 10:15:00",
    "2026-02-30T25:61:00+99:00",
    PLANTED,
)
huge_strings = st.builds(
    lambda unit, count: PLANTED + unit * count,
    st.sampled_from(["x", "\u00e9", "\U0001f642", " ", "\x00"]),
    st.sampled_from([20_000, 120_000, 250_000, 400_000]),
)
strings = st.one_of(
    st.text(max_size=30),
    st.sampled_from(ODD_STRINGS),
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=200),
)
leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    strings,
)
json_values = st.recursive(
    leaves,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            out += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            out += _paths(child, (*prefix, index))
    return out


def _at(doc: Any, path: tuple) -> Any:
    for part in path:
        doc = doc[part]
    return doc


def _retyped(value: Any, kind: str) -> Any:
    if kind == "string":
        return value if isinstance(value, str) else json.dumps(value)
    if kind == "number":
        return len(value) if isinstance(value, str | list | dict) else -1
    if kind == "bool":
        return not value
    if kind == "list":
        return [value]
    if kind == "object":
        return {"value": value}
    return None


MUTATIONS = ("delete", "replace", "retype", "extra", "huge", "odd")


@st.composite
def near_valid(draw: st.DrawFn, base: Any) -> Any:
    """`base` with up to four mutations at paths drawn from what it holds by then."""
    doc = copy.deepcopy(base)
    for _ in range(draw(st.integers(0, 4))):
        path = draw(st.sampled_from(_paths(doc)))
        mutation = draw(st.sampled_from(MUTATIONS))
        target = _at(doc, path)
        if mutation == "extra" and isinstance(target, dict):
            target[draw(st.text(max_size=12))] = draw(json_values)
            continue
        if not path:
            doc = draw(json_values)
            continue
        parent, last = _at(doc, path[:-1]), path[-1]
        if mutation == "delete":
            del parent[last]
        elif mutation == "retype":
            kind = draw(st.sampled_from(("string", "number", "bool", "list", "object", "null")))
            parent[last] = _retyped(target, kind)
        elif mutation == "huge":
            parent[last] = draw(huge_strings)
        elif mutation == "odd":
            parent[last] = draw(st.sampled_from(ODD_STRINGS))
        else:
            parent[last] = draw(json_values)
    return doc


def _encoded(draw: st.DrawFn, value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=draw(st.booleans())).encode("utf-8")


@st.composite
def damaged(draw: st.DrawFn, body: bytes) -> bytes:
    """A valid body cut short, with bytes spliced in, or re-encoded away from UTF-8."""
    how = draw(st.sampled_from(("truncate", "splice", "latin-1", "utf-16")))
    at = draw(st.integers(0, len(body)))
    if how == "truncate":
        return body[:at]
    if how == "splice":
        return body[:at] + draw(st.binary(min_size=1, max_size=8)) + body[at:]
    text = body.decode("utf-8").replace("Dana", "D\u00e4n\u00e4")
    return text.encode(how, errors="replace")


def parser_inputs(bases: list[Any]) -> st.SearchStrategy[bytes]:
    """Near-valid and arbitrary JSON, encoded; damaged valid bodies; arbitrary bytes."""

    @st.composite
    def encoded(draw: st.DrawFn) -> bytes:
        value = draw(st.one_of(st.sampled_from(bases).flatmap(near_valid), json_values))
        return _encoded(draw, value)

    @st.composite
    def damaged_base(draw: st.DrawFn) -> bytes:
        return draw(damaged(json.dumps(draw(st.sampled_from(bases))).encode()))

    return st.one_of(encoded(), damaged_base(), st.binary(max_size=300))


# --- the parsers -------------------------------------------------------------------------------


def _refusal_is_clean(exc: IntakeError) -> None:
    """Named fields, never the planted value, and text a JSON answer can carry."""
    assert exc.errors, "a refusal without a reason"
    text = str(exc) + json.dumps(exc.as_dict(), ensure_ascii=False)
    assert PLANTED not in text
    text.encode("utf-8")


@parsers
@given(st.one_of(near_valid(event_dict()), json_values))
def test_the_canonical_event_parser_raises_only_intake_errors(data):
    try:
        event = parse_event(data)
    except IntakeError as exc:
        _refusal_is_clean(exc)
    else:
        assert isinstance(event, TicketEvent)


@parsers
@given(parser_inputs([event_dict()]))
def test_the_canonical_event_from_bytes_is_an_event_or_named_field_errors(body):
    """What POST /events does with the raw body."""
    try:
        event = TicketEvent.model_validate_json(body)
    except ValidationError as exc:
        _refusal_is_clean(IntakeError(field_errors(exc)))
    else:
        assert isinstance(event, TicketEvent)


@parsers
@given(parser_inputs(list(ZENDESK_BASES.values())))
def test_the_zendesk_parser_raises_only_intake_errors(body):
    try:
        events = parse_zendesk(body)
    except IntakeError as exc:
        _refusal_is_clean(exc)
    else:
        assert all(isinstance(e, TicketEvent) for e in events)


@parsers
@given(parser_inputs(list(SERVICENOW_BASES.values())))
def test_the_servicenow_parser_raises_only_intake_errors(body):
    try:
        event = parse_servicenow(body)
    except IntakeError as exc:
        _refusal_is_clean(exc)
    else:
        assert isinstance(event, TicketEvent)


# --- over HTTP ---------------------------------------------------------------------------------


def _verdict(body: bytes, parses: bool) -> int:
    if len(body) > MAX_BODY:
        return 413
    return 202 if parses else 422


def _parses(parse, body: bytes) -> bool:
    try:
        return bool(parse(body))
    except (IntakeError, ValidationError):
        return False


async def _sweep(
    strategy: st.SearchStrategy[bytes], attempt: Callable[[bytes], Awaitable[int]]
) -> None:
    """Run the examples from a worker thread, each request on the test's own event loop (where
    the app's Temporal client and database engine live); both verdicts must come up."""
    loop = asyncio.get_running_loop()
    seen: Counter[int] = Counter()

    @over_http
    @given(strategy)
    def example(body: bytes) -> None:
        seen[asyncio.run_coroutine_threadsafe(attempt(body), loop).result()] += 1

    await asyncio.to_thread(example)
    assert seen[202] and seen[422], f"the examples missed a verdict: {seen}"


def request_bodies(bases: list[Any]) -> st.SearchStrategy[bytes]:
    """Near-valid payloads three times as often as arbitrary JSON, so that some pass."""
    near = st.sampled_from(bases).flatmap(near_valid)
    return st.tuples(st.one_of(near, near, near, json_values), st.booleans()).map(
        lambda pair: json.dumps(pair[0], ensure_ascii=pair[1]).encode("utf-8")
    )


async def _answered(http, sessions, url: str, body: bytes, headers: dict, expected: int) -> int:
    before = await stored(sessions)
    response = await http.post(url, content=body, headers=headers)
    assert response.status_code == expected, response.text[:500]
    if expected != 202:
        assert PLANTED not in response.text
        assert response.json()["detail"]["error"]
        assert await stored(sessions) == before, "a refused request stored rows"
        return expected
    answer = response.json()
    event_ids = [e["event_id"] for e in answer.get("events", [answer])]
    query = select(EventRow.event_id).where(EventRow.event_id.in_(event_ids))
    async with sessions() as session:
        found = (await session.execute(query)).scalars().all()
    assert set(found) == set(event_ids)
    return expected


async def test_posted_events_are_accepted_or_refused_as_the_parser_decides(
    http, tokens, sessions, ticket_id
):
    headers = {**bearer(tokens["ada"]), "Content-Type": "application/json"}

    async def attempt(body: bytes) -> int:
        expected = _verdict(body, _parses(TicketEvent.model_validate_json, body))
        return await _answered(http, sessions, "/events", body, headers, expected)

    await _sweep(request_bodies([canonical_for(ticket_id)]), attempt)


async def test_signed_zendesk_payloads_are_accepted_or_refused_as_the_parser_decides(
    http, sessions, ticket_id
):
    async def attempt(body: bytes) -> int:
        expected = _verdict(body, _parses(parse_zendesk, body))
        headers = zendesk_headers(body)
        return await _answered(http, sessions, "/webhooks/zendesk", body, headers, expected)

    await _sweep(request_bodies([zendesk_for(name, ticket_id) for name in ZENDESK_BASES]), attempt)


async def test_servicenow_records_with_the_secret_are_accepted_or_refused_as_the_parser_decides(
    http, sessions, ticket_id
):
    headers = servicenow_headers()

    async def attempt(body: bytes) -> int:
        expected = _verdict(body, _parses(parse_servicenow, body))
        return await _answered(http, sessions, "/webhooks/servicenow", body, headers, expected)

    bases = [servicenow_for(name, ticket_id) for name in SERVICENOW_BASES]
    await _sweep(request_bodies(bases), attempt)
