"""Stop rules: when the evidence cannot carry a fair assessment, a lead looks first."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from domain.definitions import Rubric
from rubrics.case import Case

LEGAL = re.compile(
    r"(?<!\w)(lawyer|solicitor|attorney|legal action|legal advice|sue you|"
    r"suing|take you to court|small claims|ombudsman|trading standards)(?!\w)",
    re.IGNORECASE,
)
SELF_HARM = re.compile(
    r"(?<!\w)(kill myself|end my life|suicid\w*|self[- ]harm|don'?t want "
    r"to live|hurt myself)(?!\w)",
    re.IGNORECASE,
)
VULNERABLE = re.compile(
    r"(?<!\w)(passed away|bereave\w*|funeral|terminal(ly)? ill|"
    r"domestic abuse|financial hardship|can'?t afford (food|rent)|"
    r"in hospital|carer for)(?!\w)",
    re.IGNORECASE,
)
PRAISE = re.compile(
    r"(?<!\w)(great|excellent|fantastic|brilliant|amazing|superb|wonderful|"
    r"very helpful|so helpful|really helpful|quick|fast|prompt|speedy|"
    r"thank you so much|couldn'?t be happier)(?!\w)",
    re.IGNORECASE,
)
SPEED_PRAISE = re.compile(
    r"(?<!\w)(quick|fast|prompt|speedy|straight away|right away)(?!\w)", re.IGNORECASE
)
# Each regex above only matches text containing one of these; checking them first is cheap.
SENSITIVE_NEEDLES = (
    "lawyer",
    "solicitor",
    "attorney",
    "legal",
    "sue you",
    "suing",
    "court",
    "small claims",
    "ombudsman",
    "trading standards",
    "kill myself",
    "end my life",
    "suicid",
    "self-harm",
    "self harm",
    "to live",
    "hurt myself",
    "passed away",
    "bereave",
    "funeral",
    "terminal",
    "domestic abuse",
    "hardship",
    "afford",
    "hospital",
    "carer for",
)
# "not quick", "wasn't very fast", "needed a quick answer": the word is there, the praise is not.
NOT_PRAISE = re.compile(
    r"(?<!\w)(not|never|no|wasn'?t|isn'?t|hardly|needed|wanted|expected|hoped for|asked for|"
    r"would like|would have liked|was promised|looking for|instead of)\s+((a|an|the|very|so|"
    r"more|any|as)\s+)?(\w+\s+)?$",
    re.IGNORECASE,
)
APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'"})


@dataclass(frozen=True)
class Stop:
    reason: str
    flags: list[str] = field(default_factory=list)


def _praises(text: str, pattern: re.Pattern[str]) -> bool:
    return any(not NOT_PRAISE.search(text[: m.start()]) for m in pattern.finditer(text))


def missing(case: Case) -> Stop | None:
    ticket = case.ticket
    if not ticket.messages:
        return Stop("evidence missing: the ticket has no conversation thread", ["evidence_missing"])
    if case.trainee_id is None:
        return Stop("evidence missing: no agent is assigned to the ticket", ["evidence_missing"])
    if not case.messages("agent_all"):
        return Stop(
            "evidence missing: the agent under review wrote nothing in the thread",
            ["evidence_missing"],
        )
    return None


def sensitive(case: Case) -> Stop | None:
    texts = [m.body.translate(APOSTROPHES) for m in case.messages("customer")]
    if case.ticket.csat and case.ticket.csat.comment:
        texts.append(case.ticket.csat.comment.translate(APOSTROPHES))
    lowered = "\n".join(texts).lower()
    if not any(needle in lowered for needle in SENSITIVE_NEEDLES):
        return None
    for pattern, what in (
        (SELF_HARM, "a risk of self-harm"),
        (LEGAL, "a legal threat"),
        (VULNERABLE, "a vulnerable customer"),
    ):
        if any(pattern.search(t) for t in texts):
            return Stop(
                f"sensitive: the conversation mentions {what}", ["sensitive", "customer_risk"]
            )
    return None


def stale(case: Case, rubric: Rubric) -> Stop | None:
    stamps = [m.created_at for m in case.ticket.messages if m.created_at]
    if not stamps or case.occurred_at is None:
        return None
    days = (case.occurred_at - max(stamps)).total_seconds() / 86400
    if days > rubric.stale_evidence_days:
        return Stop(
            f"evidence stale: the newest message is {days:.0f} days older than the event",
            ["evidence_stale"],
        )
    return None


def contradictory(case: Case, failed_speed: bool) -> Stop | None:
    csat = case.ticket.csat
    if not csat or not csat.comment:
        return None
    comment = csat.comment.translate(APOSTROPHES)
    low = csat.score <= csat.scale * 0.4
    if low and _praises(comment, PRAISE):
        return Stop(
            f"evidence contradictory: the CSAT comment praises the service but the score "
            f"is {csat.score:g}/{csat.scale}",
            ["evidence_contradictory"],
        )
    if failed_speed and _praises(comment, SPEED_PRAISE):
        return Stop(
            "evidence contradictory: the CSAT comment praises the speed the response metrics fail",
            ["evidence_contradictory"],
        )
    return None


def out_of_scope(case: Case, rubric: Rubric) -> Stop | None:
    scope = rubric.scope
    if scope.channels and (case.ticket.channel or "") not in scope.channels:
        return Stop(
            f"out of scope: rubric {rubric.ref} is approved for "
            f"{', '.join(scope.channels)}, not {case.ticket.channel or 'an unknown channel'}",
            ["out_of_scope"],
        )
    if scope.event_types and case.event_type not in scope.event_types:
        return Stop(
            f"out of scope: rubric {rubric.ref} does not cover {case.event_type}", ["out_of_scope"]
        )
    return None
