"""IBM's Twitter customer-care conversations (github:IBM/twitter-customer-care-document-
prediction, Apache-2.0) as canonical events: the customer's tweets and the brand's earlier
replies form the thread, and the brand's last reply is the one reviewers judged, so it alone
is the agent's under review (the earlier replies are a colleague's: the brand's agents sign
their tweets with their own initials).

Tweets carry no ticket metrics, so only the criteria that read the text are scored on them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from domain.events import TicketEvent

TWITTER_EPOCH_MS = 1288834974657


def _tweet_time(tweet_id: str) -> datetime:
    return datetime.fromtimestamp(((int(tweet_id) >> 22) + TWITTER_EPOCH_MS) / 1000, UTC)


def load(path: Path) -> dict[str, dict[str, Any]]:
    """Conversations by session id."""
    return {c["dialogHeader"]["sessionID"]: c for c in json.loads(path.read_text("utf-8"))}


def to_event(conversation: dict[str, Any]) -> TicketEvent:
    header, reply = conversation["dialogHeader"], conversation["agentURL"]
    brand = header["company"]
    agent = {"id": brand, "role": "agent", "name": brand}
    colleague = {"id": f"{brand}-earlier", "role": "agent", "name": brand}
    messages = []
    for i, turn in enumerate(conversation["dialogContent"]):
        if "agent" in turn:
            author = colleague
        else:
            handle = turn.get("client") or turn.get("client1") or "customer"
            author = {"id": f"@{handle}", "role": "customer"}
        messages.append(
            {
                "id": f"t{i}",
                "author": author,
                "created_at": turn["datetime"],
                "body": turn["message"],
            }
        )
    messages.append(
        {
            "id": "reply",
            "author": agent,
            "created_at": _tweet_time(reply["tweet_ID"]).isoformat(),
            "body": reply["url_utterance"],
        }
    )
    customer = next((m["author"] for m in messages if m["author"]["role"] == "customer"), None)
    return TicketEvent.model_validate(
        {
            "event_id": f"twitter-{header['sessionID']}",
            "source": "twitter",
            "type": "qa.sampled",
            "occurred_at": messages[-1]["created_at"],
            "ticket": {
                "id": header["sessionID"],
                "status": "open",
                "channel": "social",
                "agent": {"id": brand, "name": brand},
                "requester": {"id": customer["id"]} if customer else None,
                "messages": messages,
            },
        }
    )
