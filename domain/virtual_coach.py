"""Which cases the virtual coach may take without a lead: only the low-stakes ones.

It may assign learning tasks and send the trainee's survey. It never sets a final score, and
every other case falls back to the lead.
"""

from __future__ import annotations

from domain.assessment import Draft

HIGH_CONFIDENCE = 0.85
RISK_FLAGS = {
    "customer_risk": "the customer is at risk",
    "policy_exception": "a policy exception was made",
    "pii_exposed": "customer data was exposed",
    "sensitive": "the conversation is sensitive",
    "critical_failed": "a critical criterion failed",
    "low_confidence": "the draft's confidence is low",
    "unexplained_low_csat": "nothing in the evidence explains the low CSAT",
}


def refusal(draft: Draft, virtual_coach: bool, manual: bool) -> str | None:
    """Why the virtual coach must leave this case to a lead, or None when it may take it."""
    if not virtual_coach:
        return "the opportunity has no virtual coach"
    if manual:
        return "a manual assessment always goes to a lead"
    if draft.status != "awaiting_review":
        return f"a stop rule fired ({draft.stop_reason})"
    if draft.trainee is None:
        return "the trainee is unknown"
    if any(r.status == "failed" and r.critical for r in draft.results):
        return RISK_FLAGS["critical_failed"]
    for flag, reason in RISK_FLAGS.items():
        if flag in draft.flags:
            return reason
    if draft.confidence < HIGH_CONFIDENCE:
        return f"confidence {draft.confidence:.2f} is below {HIGH_CONFIDENCE}"
    if not draft.auto_eligible:
        return "the draft is not eligible for the automatic path"
    return None
