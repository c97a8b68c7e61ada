"""Customer PII redaction: typed placeholders in place of emails, phones, cards and names."""

from redaction.redactor import redact, redact_ticket

__all__ = ["redact", "redact_ticket"]
