"""What one sentence does. Each act is a few patterns over the normalised sentence (see
`sentences.normalise`), read the way a reviewer reads: an apology or thanks acknowledges, an
instruction, a link, a question for details or a commitment sets a next step, and a bare
"let us know if you need anything else" only closes.

A pattern match preceded by a negation in its own clause does not count ("we can't refund").
"""

from __future__ import annotations

import re
from collections.abc import Callable

from rubrics.meaning.sentences import negated

Act = Callable[[str], bool]


def _rx(*parts: str, lead: str = "") -> re.Pattern[str]:
    return re.compile(r"(?<![\w'])" + lead + "(?:" + "|".join(parts) + r")(?![\w'])")


def _affirmed(pattern: re.Pattern[str]) -> Act:
    def found(text: str) -> bool:
        return any(not negated(text, m.start()) for m in pattern.finditer(text))

    return found


def _outside(pattern: re.Pattern[str], veto: re.Pattern[str]) -> Act:
    """A match of `pattern`, not negated, that no match of `veto` covers."""

    def found(text: str) -> bool:
        covered = [m.span() for m in veto.finditer(text)]
        return any(
            not negated(text, m.start())
            and not any(a < m.end() and m.start() < b for a, b in covered)
            for m in pattern.finditer(text)
        )

    return found


ACKNOWLEDGES = _rx(
    r"sorry",
    r"apologi[sz]e\w*",
    r"apologies",
    r"regret",
    r"(i|we)( completely| totally| fully| really| definitely| do| can)? (understand|get it|"
    r"hear you|know how|can imagine|can see (how|why|that|where))",
    r"(i|we) can (only )?imagine",
    r"(sounds|must be|can be|is|that's|that is|it's) (really |so |very |incredibly |a bit |"
    r"quite )?(frustrating|annoying|inconvenient|stressful|disappointing|confusing|upsetting|"
    r"concerning|worrying|unfortunate)",
    r"thank(s| you)( so much| very much| again| kindly)? (for|4) \w+",
    r"(appreciate|thanks for|thank you for) (your|the) (patience|feedback|report|understanding)",
    r"(not|never) (the experience|what) (we|you)",
    r"(we|i) (can )?(see|noticed|hear) (that )?(you're|you are|you've|you have|the issue|the "
    r"problem|this is)",
    r"(happy|glad|love|here) to help( you| him| her| them)? (get|with|fix|retriev\w*|sort|find|"
    r"recover|restor\w*|reset|set|change|track|understand|figure|make|access|resolve)",
    r"(is|are) (very |really |so |extremely )?important to (us|me)",
    r"(is|are|isn't) (no|not) fun",
    r"(we|i) know (you|how|that|this|it)",
    r"congrat\w*",
    r"(working|doing) (very |really )?(hard|all we can|everything we can|our best)",
    r"thanks again|thank you again",
    r"hate to (see|hear)",
    r"(strange|odd|weird|unusual|frustrating) that",
    r"(glad|happy) to assist you( today)? with",
    r"if you('re| are) (experiencing|having|seeing|getting|facing|running into)",
    r"top priorit\w*",
    r"rest assured",
    r"(we're|we are) here for you",
    r"(this|that|it) (sounds|looks|seems) like",
    r"(sad|bummed|unhappy|gutted|upset) to (hear|see|learn|read|know)",
    r"(oh no|yikes|oh dear|uh oh|oops|ugh|oh man|not good|not ideal|that's odd|that's strange|"
    r"that's not good|that's no good|that's unusual|that's concerning)",
    r"(get|see|understand) where you('re| are) coming from",
    r"(not|never) the (\w+ )?(experience|way|service|impression)",
    r"appreciate (you|your|the|this|that|it)",
    r"(sounds|looks|seems) like (you|your|the|this|that|there)",
    r"(that|this) (isn't|is not|shouldn't be|should not be) (happening|the case|right|ideal)",
    r"glad (you|to hear)",
    r"(we|i)('re| are) (sad|disappointed|concerned|bummed) to",
)

NEXT_STEP_VERBS = (
    r"please|try|check|visit|head|go|reach|contact|dm|message|send|follow|use|click|select|tap|"
    r"open|sign|log|update|restart|reinstall|install|uninstall|clear|submit|create|fill|call|"
    r"reply|take|refer|see|read|look|make|ensure|download|enable|disable|turn|change|reset|"
    r"remove|delete|add|review|consult|find|start|keep|get|give|set|choose|hit|press|navigate|"
    r"drop|shoot|email|ping|file|report|request|confirm|share|provide|let|include|attach|"
    r"double-check|power|unplug|plug|connect|disconnect|launch|close|quit|swap|switch|opt|"
    r"search|browse|note|check out|hop|pop|feel free|be sure|stay|wait|allow"
)
NEXT_STEP = _rx(
    r"<link>",
    r"^(?:(?:hi|hey|hello|hiya|ok|okay|so|yes|no|sure|great|thanks|also|then|now|first|next|"
    r"just|simply|kindly|meanwhile|otherwise|alternatively|in the meantime|for now|in that case|"
    r"if \w+( \w+){0,8}|when \w+( \w+){0,8}|once \w+( \w+){0,8}|[\w ]{0,20} there)[ ,!]+){0,3}"
    r"(?:" + NEXT_STEP_VERBS + r")",
    r"you('ll| will)? (can|could|may|might|should|need to|'ll need to|will need to|have to|"
    r"would need to|'d need to|want to|'ll want to|would want to|'d want to|must) \w+",
    r"(could|can|would|will) you( please)? \w+",
    r"(what|which|when|where|how|who|do you|does it|did you|did it|is it|is this|are you|have "
    r"you|has it|was it|were you)\b[^?]*\?",
    r"(i|we)('ll| will| are going to|'re going to| am going to|'m going to|'d be happy to| would "
    r"be happy to|'d love to|'re happy to| are happy to| can|'ll be sure to| shall)( \w+){1,2}",
    r"let (me|us) (\w+ )?(look|check|know|see|help|get|find|pass|share|take|dig|investigat\w*|"
    r"follow|escalat\w*|connect|loop|make)",
    r"(i|we)('ve| have)( just| now| already| also| gone ahead and)? (\w+ed|sent|made|set|put|"
    r"taken|given|done|got|gotten|run|written|found|begun|brought|built|kept|left|lent|paid|"
    r"rung|shown|spoken|told|sold|won)",
    r"(our|the) (\w+ )?(team|teams|engineers|specialists|developers|staff|experts|agents|"
    r"department)( \w+)? (will|are|is|'ll|have|has|can|should)",
    r"(this|it|your \w+|the \w+) (has been|have been|was|were|is being|are being|will be|'ll be)"
    r" (passed|shared|forwarded|escalated|sent|reported|noted|logged|flagged|raised|reviewed|"
    r"looked|investigated|fixed|resolved|added)",
    r"(we|i)('re| are|'m| am) (currently |actively )?(looking|working|investigating|checking)",
    r"made (the|our) (\w+ )?team aware",
    r"(more|further) (info|information|details) (here|below|on|at|in)",
    r"(here's|here is|here are|this is|these are) (how|what|the|a|some|our)",
    r"(steps|instructions|guide|article|page|link|form|info|information|details) "
    r"(here|below|above)",
    r"(is|are) (available|listed|explained|covered|outlined|described) (here|in|on|below|at)",
)
NOT_A_STEP = _rx(
    r"(we|i)('ll| will)( always)? be (here|around|happy|glad|standing by)",
    r"(visit|check|see|go to|head to|try) (our|the) (help|support|main)? ?(site|website|"
    r"homepage|help center|help centre|help site|support site)( for (more|further|other) "
    r"(help|info|information|details|support))?( <link>)?[.!]*$",
    r"for (technical|further|more|other|general) (help|support|assistance),? (please )?"
    r"(visit|check|see|go to|head to) (our|the) \w+ (site|website|page|center|centre)( <link>)?",
    r"(don't|do not|doesn't|does not|can't|cannot) have (any )?(additional |more |further |new )?"
    r"(info|information|details|updates|timelines?|news)( \w+){0,4}( to share)?:? <link>",
    r"(let (us|me) know|reach out|contact us|get in touch|feel free|we're here|we are here|"
    r"happy to help|here for you|here to help)( \w+){0,3} (if|should|whenever|anytime|any "
    r"time|in case)( \w+){0,4} (any|anything|else|further|more|other|again|questions)",
    r"(anything else|any other questions|any further questions|any questions)",
    r"(contact|reach|message|tweet|dm) (us|me) (again|back) (if|should|any)",
    r"(let us know|reach out)( \w+){0,2} (if|should) you need (us|anything|help|more)",
    r"(have|has) a (great|good|nice|lovely|wonderful|fantastic) \w+",
    lead=r"(?:(?:please|just|simply|kindly|so|and|also) )?",
)
THANKS = re.compile(
    r"(?<![\w'])(thanks|thank you|ty|cheers)( so much| again| for \w+( \w+){0,3})?[!.]*$"
)
"""Thanks close a reply only at its end; an opening "Thanks for reaching out" is no greeting."""
GREETING = re.compile(
    r"^(hi|hey|hello|hiya|howdy|greetings|good (morning|afternoon|evening|day)|dear|welcome)"
    r"(?![\w'])"
)
CLOSING = _rx(
    r"hope (this|that|it|these|the above) (helps|help|clears|answers|works|makes)",
    r"(hope|hoping) (you|this|that|it)",
    r"happy (to help|to assist|streaming|gaming|listening|watching|travels|holidays|creating|"
    r"\w+ing)",
    r"(let|lmk)( us| me)? know( if| how| whenever| anytime| any time| should| in case|[!.]*$)",
    r"feel free",
    r"(reach|reaching) (back )?out( to us| to me)? (if|again|anytime|any time|whenever|with|"
    r"should)",
    r"(reach|reaching) back out",
    r"keep you (posted|updated|informed|in the loop)",
    r"(really |much |truly )?appreciated?( it| that)?[!.]*$",
    r"(more|other|further|any) questions\?",
    r"(we'd|we would|i'd|i would)( be)? (love|happy|more than happy) to (help|look|take|send|"
    r"assist|get)",
    r"let'?s see what (we|i) can do",
    r"(we'll|we will|i'll|i will) (wait|be waiting|keep an eye out) for",
    r"(tweet|message|dm|write|get) (back|us|in touch)( \w+){0,3} (if|when|whenever|with any)",
    r"(send|drop) (a|us a) (dm|message|tweet|line)( \w+){0,3} (with|if|our way)",
    r"look forward to",
    r"hope (these|those|they|everything|all)",
    r"(we'll|we will) (go from there|look out for|keep an eye)",
    r"let us know (the outcome|the result|how)",
    r"for (further|more|additional|extra) (assistance|help|support)",
    r"(need|needs|require) (further |more |any |additional )?(assistance|help|support)",
    r"(tweet|message|dm|reply) back( @)?( us)? (if|when|whenever|with)",
    r"stay safe",
    r"(we're|we are|i'm|i am) (here|around|always here|standing by)",
    r"here (for you|if you need|to help|anytime)",
    r"standing by",
    r"have a (great|good|nice|lovely|wonderful|fantastic|safe|happy) \w+",
    r"(cheers|take care|best wishes|kind regards|regards|enjoy|stay safe|good luck)",
    r"(give|send|drop) us a (shout|line|tweet|dm|message)",
    r"(any|anything) (else|other questions|further questions|more questions)",
    r"(all the best|talk soon|speak soon|we'll be here|happy holidays)",
    r"keep (us|me) (posted|updated|informed|in the loop)",
    r"(let us know|tell us) how (it|that|this|things) (goes|go|went|works)",
    r"(we'd|we would|we'll|we will|we're|we are|i'd|i would|i'm|i am)( be)? (happy|glad|love|"
    r"more than happy) to (help|assist)",
    r"(notice|see|seeing|noticed) any (improvement|change|difference)",
)
PROBLEM = re.compile(
    r"(?<![\w'])(?:(?:not|never|no longer|\w+n't|cant|wont|dont|didnt|doesnt|isnt|havent|"
    r"hasnt|wasnt|arent|couldnt|wouldnt|werent|unable to|stopped|stop) (?:\w+ ){0,2}?(?:work|"
    r"load|play|open|connect|show|let|allow|sync|download|install|updat|sign|log|access|"
    r"receiv|get|got|find|use|respond|answer|arriv|recogni|accept|start|boot|send|pay|charg|"
    r"fix|help|reply|turn|come|exist|appear|save|print|stream|record|remember|switch|change|"
    r"join|link|redeem|transfer|verif|authori)\w*|"
    r"(?:not|\w*n't|isnt|wasnt|arent) (?:there|here|on my|in my|showing)|"
    r"kick\w* (?:me )?(?:off|out)|"
    r"nothing|nobody|error\w*|issues?|problems?|broken|bug\w*|crash\w*|stuck|gone|hack\w*|"
    r"suspend\w*|banned|ban|terminat\w*|locked|disabled|scam\w*|spam\w*|stolen|cracked|"
    r"damaged|glitch\w*|outage|down|lag\w*|freez\w*|froze|buffer\w*|fail\w*|wrong|slow|"
    r"delay\w*|late|frustrat\w*|annoy\w*|angry|ridiculous|terrible|awful|worst|horrible|"
    r"disappoint\w*|sucks|wtf|unacceptable|useless|pathetic|bummer|upset|furious|fed up|"
    r"sick of|tired of|disgust\w*|shame|joke|nightmare|hate|charged|billed|refund\w*|"
    r"overcharg\w*|on hold|keeps?|kept|trouble|struggl\w*|difficult\w*|unable|impossible|"
    r"compromised|confus\w*|except|yet to|hell|damn|lazy|forg[eo]t\w*|promised|come on|"
    r"going on|deactivat\w*|loss|losing|popped up|for some reason|sad|refus\w*|interrupt\w*|"
    r"it'?s been|long wait|ever since|declined|denied|rejected|[45]\d\d|none|lost|missing|"
    r"deleted|fraud\w*|waiting|still|again|"
    r"why|help me|need help|need some help|can you help|could you help|please help|fix\w*|"
    r"expect\w*|remove|removing|delete|cancel\w*|reset|recover\w*|weird|strange|odd|assist|"
    r"where('s| is| are| did| has| have)|charge|instead|someone|somebody|wish|"
    r"would be (great|nice|awesome|good|better)|(please|can you|could you)( please)? (add|give|"
    r"provide|make|bring|put|allow|figure|change|consider)|feature)(?![\w'])"
    r"|:\(|:'\(|[\U0001f620\U0001f621\U0001f624\U0001f62d\U0001f622\U0001f97a\U0001f92c"
    r"\U0001f629\U0001f62b\U0001f61e\U0001f614\U0001f612\U0001f644\U0001f926]"
)
NEGATION_CUE = re.compile(
    r"(?<![\w'])(?:not|never|no longer|\w+n't|cant|wont|dont|didnt|doesnt|isnt|havent|hasnt|"
    r"wasnt|arent|couldnt|wouldnt|werent)(?![\w'])"
)
"""A bare negation marks a problem in a statement ("it's not there"), not in a question ("is
there a way to filter, not by date?")."""
BLAME = _rx(
    r"you should(n't| not)? have (?!(received|gotten|got|been|seen|heard|had)\b)\w+",
    r"you should've (?!(received|gotten|got|been|seen|heard|had)\b)\w+",
    r"calm down",
    r"as (i|we) (already |previously |have |had )?(said|mentioned|stated|explained|told you|"
    r"shared|noted|advised|informed you)",
    r"as (previously|already) (mentioned|stated|explained|advised|said|shared|noted)",
    r"like (i|we) (said|told you|mentioned)",
    r"(i|we) (already|have already) (told|explained|said|answered|responded|replied)",
    r"(not|isn't|is not) (our|my) (problem|fault|issue|responsibility)",
    r"your (own )?fault",
    r"you failed to",
    r"you (didn't|did not|don't|do not|never) (read|listen|follow|pay attention)",
    r"you need to read",
    r"read the (manual|instructions|faq|terms)",
    r"obviously",
    r"clearly you",
    r"you people",
    r"stop (complaining|asking|tweeting|spamming)",
    r"whatever you",
    r"per my last",
    r"that's on you",
    r"user error",
    r"nothing (else )?(we|i) can do",
    r"deal with it",
    r"(there's|there is|we have) nothing (more|else|further) (to|we)",
    r"(we|i) (won't|will not|can't|cannot) (discuss|comment|respond|engage|help you further)",
    r"(you|your) (clearly|obviously|simply) (didn't|did not|don't|failed)",
    r"(you|your) (misunderstood|misread|misunderstanding)",
    r"not sure (what|why) you('re| are) (expecting|asking)",
)
PROMISES = _rx(
    r"(i|we)('ve| have)( just| now| already| gone ahead and)? (refunded|credited|waived|"
    r"reimbursed|comped|compensated|issued (a|you a|the|your) (full |partial )?(refund|credit))",
    r"(i|we)('ll| will| can| am going to|'m going to| are going to|'re going to| shall)"
    r"( \w+){0,2} (refund|credit|waive|reimburse|comp|compensate|issue (a|you a|the|your) "
    r"(full |partial )?(refund|credit)|give you (a|an|your) (full |partial )?(refund|credit|"
    r"discount|voucher)|send you (a|an) (refund|credit|voucher|gift card))",
    r"(full|complete) refund",
    r"refund(ed)? you in full",
    r"credit (to|on|onto) your account",
    r"add(ed)? (a )?credit",
    r"as (an|a one-off|a one-time|a one time|a special) (exception|courtesy|gesture)",
    r"make (an|a one-time|a one-off) exception",
    r"waive (the|your|this) (fee|charge|penalty)",
    r"free of charge",
    r"on the house",
    r"complimentary (month|year|upgrade|night|credit)",
    r"(goodwill|courtesy) (credit|refund|gesture|payment)",
)

BLAME_NEEDLES = (
    "should",
    "calm",
    "as i",
    "as we",
    "already",
    "previously",
    "like i",
    "like we",
    "fault",
    "problem",
    "issue",
    "responsib",
    "failed",
    "read",
    "listen",
    "follow",
    "attention",
    "obviously",
    "clearly",
    "people",
    "stop",
    "whatever",
    "per my",
    "on you",
    "user error",
    "nothing",
    "deal with",
    "won't",
    "will not",
    "can't",
    "cannot",
    "misunder",
    "misread",
    "not sure",
    "simply",
)
PROMISE_NEEDLES = (
    "refund",
    "credit",
    "waive",
    "reimburs",
    "comp",
    "exception",
    "courtesy",
    "gesture",
    "free of charge",
    "on the house",
    "goodwill",
    "voucher",
    "discount",
    "gift card",
)


def _needled(act: Act, needles: tuple[str, ...]) -> Act:
    """`act`, run only on a sentence holding one of `needles`: most sentences hold none."""
    holds = re.compile("|".join(map(re.escape, needles))).search
    return lambda text: holds(text) is not None and act(text)


RARE = {
    "blame": re.compile("|".join(map(re.escape, BLAME_NEEDLES))),
    "exception_promise": re.compile("|".join(map(re.escape, PROMISE_NEEDLES))),
}
"""Acts most messages never perform: a message holding none of their words is not read."""

ACTS: dict[str, Act] = {
    "acknowledgement": _affirmed(ACKNOWLEDGES),
    "next_step": _outside(NEXT_STEP, NOT_A_STEP),
    "greeting_closing": lambda text: bool(GREETING.search(text)) or _affirmed(CLOSING)(text),
    "blame": _needled(_affirmed(BLAME), BLAME_NEEDLES),
    "exception_promise": _needled(_affirmed(PROMISES), PROMISE_NEEDLES),
    "reports_problem": lambda text: bool(
        PROBLEM.search(text) or (not text.rstrip().endswith("?") and NEGATION_CUE.search(text))
    ),
}
