"""An OpenAI-compatible chat endpoint for `kind: llm` criteria, configured by environment."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import httpx

from domain.definitions import Criterion
from rubrics.case import Case
from rubrics.checks.base import Outcome
from rubrics.llm import build_messages, verdict_outcome

log = logging.getLogger(__name__)


@dataclass
class LlmClient:
    base_url: str
    model: str
    api_key: str | None = None
    timeout: float = 20.0

    @classmethod
    def from_env(cls) -> LlmClient | None:
        base = os.environ.get("COACHFLOW_LLM_BASE_URL", "").strip()
        if not base:
            return None
        return cls(
            base_url=base.rstrip("/"),
            model=os.environ.get("COACHFLOW_LLM_MODEL", "").strip() or "default",
            api_key=os.environ.get("COACHFLOW_LLM_API_KEY", "").strip() or None,
        )

    async def judge(self, criterion: Criterion, case: Case) -> Outcome:
        """Ask the model; a transport or format failure is `not_scored`, never a guess."""
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        body = {
            "model": self.model,
            "temperature": 0,
            "response_format": {"type": "json_object"},
            "messages": build_messages(criterion, case),
        }
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as http:
                response = await http.post(
                    f"{self.base_url}/chat/completions", json=body, headers=headers
                )
            response.raise_for_status()
            content = response.json()["choices"][0]["message"]["content"]
        except (httpx.HTTPError, KeyError, IndexError, TypeError, ValueError) as exc:
            log.warning(
                "language model call failed for criterion %s: %s", criterion.id, type(exc).__name__
            )
            return Outcome("not_scored", "the language model could not be reached", confidence=0.0)
        return verdict_outcome(content or "", case)
