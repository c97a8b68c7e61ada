"""Customer PII redaction: typed placeholders in place of emails, phones, cards, names and more."""

from redaction.redactor import (
    Redacted,
    Span,
    agent_names,
    customer_names,
    redact,
    redact_text,
    redact_ticket,
    redact_ticket_with_maps,
)

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
