"""Sentences of a message set that perform an act, as verbatim evidence."""

from __future__ import annotations

import re
from collections.abc import Callable

from domain.assessment import MessageEvidence
from domain.events import Message
from rubrics.meaning.sentences import Sentence, sentences

MAX_EXCERPTS = 3


def find_sentences(
    messages: list[Message],
    wanted: Callable[[Sentence], bool],
    limit: int = MAX_EXCERPTS,
    holds: re.Pattern[str] | None = None,
) -> list[MessageEvidence]:
    """With `holds`, a message whose lower-cased text it does not match is skipped whole."""
    found = []
    for message in messages:
        if holds is not None and not holds.search(message.body.lower().replace("\u2019", "'")):
            continue
        for s in sentences(message.body):
            if wanted(s):
                found.append(
                    MessageEvidence(
                        message_id=message.id,
                        quote=message.body[s.start : s.end],
                        start=s.start,
                        end=s.end,
                    )
                )
                if len(found) >= limit:
                    return found
    return found
