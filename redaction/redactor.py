"""Replace customer PII in free text with typed placeholders such as `[EMAIL]`.

Agent names stay: coaching is about the agent. Customer names come from ticket metadata.
Labels: [EMAIL] [PHONE] [CARD] [IBAN] [IP_ADDRESS] [CUSTOMER_NAME] [ADDRESS] [ID_NUMBER].
Overlapping detections resolve to the longest; ties follow `redaction.spans.PRIORITY`.
"""

from __future__ import annotations

from collections.abc import Iterable

from domain.events import Author, Csat, Message, Ticket
from redaction.detectors import DIGIT_DETECTORS, Digits, emails, has_digit
from redaction.names import LABEL as CUSTOMER_PLACEHOLDER
from redaction.names import NameMatcher, name_matcher
from redaction.spans import Candidate, Redacted, Span, apply

__all__ = [
    "Redacted",
    "Span",
    "agent_names",
    "customer_names",
    "redact",
    "redact_text",
    "redact_ticket",
    "redact_ticket_with_maps",
]


def redact_text(text: str, names: Iterable[str] = (), *, keep: Iterable[str] = ()) -> Redacted:
    """Redact `text`. `names` are customer names; words of `keep` (agent names) are never
    redacted as a bare name part."""
    return _redact(text, name_matcher(names, keep))


def redact(text: str, names: Iterable[str] = (), *, keep: Iterable[str] = ()) -> str:
    return redact_text(text, names, keep=keep).text


def _redact(text: str, matcher: NameMatcher | None) -> Redacted:
    found = _candidates(text, matcher) if text else []
    return apply(text, found) if found else Redacted(source=text, text=text, spans=())


def _candidates(text: str, matcher: NameMatcher | None) -> list[Candidate]:
    found = list(emails(text))
    if matcher is not None:
        found.extend(matcher.find(text))
    if has_digit(text):
        digits = Digits.of(text)
        for detector in DIGIT_DETECTORS:
            found.extend(detector(text, digits))
    return found


def _agent_ids(ticket: Ticket) -> set[str]:
    ids = {m.author.id for m in ticket.messages if m.author.role in ("agent", "lead")}
    if ticket.agent:
        ids.add(ticket.agent.id)
    return ids


def customer_names(ticket: Ticket) -> list[str]:
    """Requester, participants and customer message authors, minus anyone who is an agent."""
    agents = _agent_ids(ticket)
    people = [(p.id, p.name) for p in (ticket.requester, *ticket.participants) if p]
    people += [(m.author.id, m.author.name) for m in ticket.messages if _is_customer(m.author)]
    names = [name for pid, name in people if name and name.strip() and pid not in agents]
    return list(dict.fromkeys(names))


def agent_names(ticket: Ticket) -> list[str]:
    names = [ticket.agent.name if ticket.agent else None]
    names += [m.author.name for m in ticket.messages if m.author.role in ("agent", "lead")]
    agents = _agent_ids(ticket)
    names += [p.name for p in ticket.participants if p.id in agents]
    return list(dict.fromkeys(n for n in names if n))


def _is_customer(author: Author) -> bool:
    return author.role == "customer"


def redact_ticket(ticket: Ticket) -> Ticket:
    """The ticket as drafting and coaching may see it: customer PII replaced in every text field."""
    return redact_ticket_with_maps(ticket)[0]


def redact_ticket_with_maps(ticket: Ticket) -> tuple[Ticket, dict[str, Redacted]]:
    """`redact_ticket` plus, for every message id, the `Redacted` that maps quotes back."""
    matcher = name_matcher(customer_names(ticket), agent_names(ticket))
    redacted = [(m, _redact(m.body, matcher)) for m in ticket.messages]
    update = {
        "subject": _redact(ticket.subject, matcher).text if ticket.subject else ticket.subject,
        "messages": [_redacted_message(m, r) for m, r in redacted],
        "csat": _redacted_csat(ticket.csat, matcher),
        "escalations": [
            e.model_copy(update={"reason": _redact(e.reason, matcher).text}) if e.reason else e
            for e in ticket.escalations
        ],
        "requester": None,
        "participants": [],
    }
    return ticket.model_copy(update=update), {m.id: r for m, r in redacted}


def _redacted_message(message: Message, redacted: Redacted) -> Message:
    update: dict[str, object] = {"body": redacted.text} if redacted.spans else {}
    if _is_customer(message.author) and message.author.name:
        update["author"] = message.author.model_copy(update={"name": CUSTOMER_PLACEHOLDER})
    return message.model_copy(update=update) if update else message


def _redacted_csat(csat: Csat | None, matcher: NameMatcher | None) -> Csat | None:
    if csat and csat.comment:
        return csat.model_copy(update={"comment": _redact(csat.comment, matcher).text})
    return csat
