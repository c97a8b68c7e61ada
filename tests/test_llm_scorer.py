"""The optional language-model scorer, against a local server that speaks the protocol."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from activities.llm_client import LlmClient
from domain.definitions import Criterion
from opportunities.catalog import load_catalog
from rubrics.case import Case
from tests.chat_model import ChatModel, serving
from tests.drafting import case_for
from tests.factories import make_event

CRITERION = Criterion.model_validate(
    {
        "id": "accurate",
        "name": "Gives accurate information",
        "check": {"kind": "llm", "question": "Did the agent give accurate refund information?"},
    }
)


@pytest.fixture
def stub() -> Iterator[ChatModel]:
    with serving(ChatModel()) as model:
        yield model


def _case() -> Case:
    return case_for(make_event(), load_catalog())


async def test_a_verbatim_verdict_is_scored_with_its_quote(stub):
    stub.reply = {
        "status": "passed",
        "explanation": "Set a clear expectation.",
        "quotes": [{"message_id": "m2", "quote": "I'll check with billing"}],
    }
    client = LlmClient(base_url=stub.url, model="m", api_key="k")
    outcome = await client.judge(CRITERION, _case())
    assert outcome.status == "passed"
    (quote,) = outcome.evidence
    assert (quote.message_id, quote.quote) == ("m2", "I'll check with billing")
    request = stub.requests[0]
    assert request["path"] == "/v1/chat/completions" and request["auth"] == "Bearer k"
    assert request["body"]["response_format"] == {"type": "json_object"}


async def test_only_the_redacted_thread_is_sent(stub):
    stub.reply = {
        "status": "failed",
        "explanation": "x",
        "quotes": [{"message_id": "m2", "quote": "The receipt went to [EMAIL]."}],
    }
    outcome = await LlmClient(base_url=stub.url, model="m").judge(CRITERION, _case())
    sent = json.dumps(stub.requests[0]["body"])
    assert "maria@example.org" not in sent and "7946" not in sent and "Maria" not in sent
    assert "[EMAIL]" in sent
    assert outcome.status == "failed"


@pytest.mark.parametrize(
    ("reply", "explanation"),
    [
        (
            {
                "status": "failed",
                "explanation": "x",
                "quotes": [{"message_id": "m2", "quote": "we never refund anything"}],
            },
            "not in message m2",
        ),
        ({"status": "passed", "explanation": "x", "quotes": []}, "no quote"),
        ("this is not json", "not the required JSON"),
        ({"status": "great", "explanation": "x", "quotes": []}, "not the required JSON"),
    ],
)
async def test_an_unverifiable_answer_is_not_scored(stub, reply, explanation):
    stub.reply = reply
    outcome = await LlmClient(base_url=stub.url, model="m").judge(CRITERION, _case())
    assert outcome.status == "not_scored" and explanation in outcome.explanation


async def test_a_failing_endpoint_is_not_scored(stub):
    stub.status = 500
    outcome = await LlmClient(base_url=stub.url, model="m").judge(CRITERION, _case())
    assert outcome.status == "not_scored"


def test_without_an_endpoint_the_criterion_is_not_scored(monkeypatch):
    from rubrics.checks import run_check

    monkeypatch.delenv("COACHFLOW_LLM_BASE_URL", raising=False)
    assert LlmClient.from_env() is None
    assert run_check(CRITERION.check, _case(), CRITERION.id).status == "not_scored"
