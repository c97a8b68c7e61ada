"""Replace customer PII in free text with typed placeholders such as `[EMAIL]`.

Agent names stay: coaching is about the agent. Customer names come from ticket metadata.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import phonenumbers

from domain.events import Ticket

EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
CARD = re.compile(r"(?<!\d)(?:\d[ \-]?){12,18}\d(?!\d)")
PHONE_REGIONS = ("US", "GB")


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _spans(text: str, names: Iterable[str]) -> list[tuple[int, int, str]]:
    spans = [(m.start(), m.end(), "[EMAIL]") for m in EMAIL.finditer(text)]
    for m in CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if 13 <= len(digits) <= 19 and _luhn(digits):
            spans.append((m.start(), m.end(), "[CARD]"))
    for region in PHONE_REGIONS:
        for m in phonenumbers.PhoneNumberMatcher(
            text, region, leniency=phonenumbers.Leniency.VALID
        ):
            spans.append((m.start, m.end, "[PHONE]"))
    for name in names:
        spans.extend(
            (m.start(), m.end(), "[CUSTOMER_NAME]") for m in _name_pattern(name).finditer(text)
        )
    return spans


def _name_pattern(name: str) -> re.Pattern[str]:
    parts = [p for p in re.split(r"\s+", name.strip()) if len(p) >= 2]
    alternatives = [re.escape(name.strip())] + [re.escape(p) for p in parts]
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)")


def redact(text: str, names: Iterable[str] = ()) -> str:
    if not text:
        return text
    spans = sorted(_spans(text, [n for n in names if n and n.strip()]), key=lambda s: (s[0], -s[1]))
    out, cursor = [], 0
    for start, end, label in spans:
        if start < cursor:
            continue
        out.append(text[cursor:start])
        out.append(label)
        cursor = end
    out.append(text[cursor:])
    return "".join(out)


def customer_names(ticket: Ticket) -> list[str]:
    people = [ticket.requester, *ticket.participants]
    agent_ids = {m.author.id for m in ticket.messages if m.author.role == "agent"}
    if ticket.agent:
        agent_ids.add(ticket.agent.id)
    return [p.name for p in people if p and p.name and p.id not in agent_ids]


def redact_ticket(ticket: Ticket) -> Ticket:
    """The ticket as drafting and coaching may see it: customer PII replaced in every text field."""
    names = customer_names(ticket)
    messages = [m.model_copy(update={"body": redact(m.body, names)}) for m in ticket.messages]
    csat = ticket.csat
    if csat and csat.comment:
        csat = csat.model_copy(update={"comment": redact(csat.comment, names)})
    return ticket.model_copy(
        update={
            "subject": redact(ticket.subject or "", names) or ticket.subject,
            "messages": messages,
            "csat": csat,
            "requester": None,
            "participants": [],
        }
    )
