"""The canonical event and the generic adapter: field paths in errors, never the values."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from intake.errors import IntakeError
from intake.generic import parse_event, read_export
from tests.factories import event_dict


def test_valid_event_parses():
    event = parse_event(event_dict())
    assert event.ticket.id == "35436"
    assert event.ticket.messages[1].author.role == "agent"


def test_only_the_five_required_fields_are_needed():
    event = parse_event(
        {
            "event_id": "e",
            "source": "generic",
            "type": "ticket.solved",
            "occurred_at": "2026-11-20T10:15:00Z",
            "ticket": {"id": "1"},
        }
    )
    assert event.ticket.messages == []
    assert event.ticket.csat is None


@pytest.mark.parametrize(
    ("overrides", "path", "message"),
    [
        (
            {
                "ticket.messages": [
                    {"id": "m1", "author": {"id": "x", "role": "robot"}, "body": "b"}
                ]
            },
            "ticket.messages[0].author.role",
            "Input should be",
        ),
        ({"ticket.csat": {"score": "great"}}, "ticket.csat.score", "valid number"),
        ({"occurred_at": "yesterday"}, "occurred_at", "datetime"),
        ({"occurred_at": "2026-11-20T10:15:00"}, "occurred_at", "timezone"),
        ({"ticket.id": None}, "ticket.id", "required field is missing"),
        ({"ticket.mesages": []}, "ticket.mesages", "unknown key"),
        (
            {"ticket.metrics": {"first_response_minutes": -3}},
            "ticket.metrics.first_response_minutes",
            "greater than or equal to 0",
        ),
    ],
)
def test_invalid_event_names_the_field_path(overrides, path, message):
    with pytest.raises(IntakeError) as caught:
        parse_event(event_dict(**overrides))
    assert any(e.path == path and message in e.message for e in caught.value.errors), [
        str(e) for e in caught.value.errors
    ]


def test_errors_never_repeat_the_rejected_value():
    bad = event_dict(
        **{
            "ticket.requester": {
                "id": "c-9",
                "email": "maria@example.org",
                "phone": "+44 20 7946 0958",
            }
        }
    )
    with pytest.raises(IntakeError) as caught:
        parse_event(bad)
    text = str(caught.value)
    assert "ticket.requester.phone: unknown key" in text
    assert "7946" not in text and "maria" not in text


def test_export_reports_each_bad_line_and_keeps_the_good(tmp_path: Path):
    path = tmp_path / "export.jsonl"
    lines = [
        json.dumps(event_dict()),
        "{not json",
        json.dumps(event_dict(**{"type": "Bad Type"})),
        "",
        json.dumps(event_dict(**{"event_id": "evt-2"})),
    ]
    path.write_text("\n".join(lines))
    results = list(read_export(path, source="generic"))
    assert [where.rsplit(":", 1)[1] for where, _ in results] == ["1", "2", "3", "5"]
    assert [isinstance(r, IntakeError) for _, r in results] == [False, True, True, False]
    assert str(results[1][1]).startswith(f"{path}:2: ")
    assert "type:" in str(results[2][1])


def test_export_as_a_json_array_and_a_single_object(tmp_path: Path):
    array = tmp_path / "a.json"
    array.write_text(json.dumps([event_dict(), event_dict(**{"event_id": "x"})], indent=2))
    assert len([r for _, r in read_export(array) if not isinstance(r, IntakeError)]) == 2
    single = tmp_path / "o.json"
    single.write_text(json.dumps(event_dict(), indent=2))
    assert [type(r).__name__ for _, r in read_export(single)] == ["TicketEvent"]


def test_generic_source_fills_a_missing_source():
    data = event_dict()
    del data["source"]
    assert parse_event(data, source="generic").source == "generic"
