"""Demo data: resolved support conversations expressed as canonical ticket events.

``generate`` builds a deterministic list of events (one per ticket) that validate as
``domain.events.TicketEvent``. The same seed always yields the same data, anchored at
2026-10-05 and spread over six weeks, so the demo reads the same for everyone.

The conversations are meant to give a QA lead something to find: curt or slow first replies,
reassignments without a handoff note, low CSAT (sometimes contradicting the metrics), a stale
knowledge-base article, an ambiguous refund policy, refunds promised without authority, a week
of staffing pressure, tickets with no transcript, and customer PII pasted into message bodies.
``planted_pii`` lists every PII value present, so redaction can be checked against it.

Write the events as JSON Lines with::

    python examples/demo_tickets.py examples/demo-events.jsonl
"""

from __future__ import annotations

import json
import random
import re
import sys
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ANCHOR = datetime(2026, 10, 5, 8, 0, tzinfo=UTC)
SPAN_DAYS = 42
PRESSURE_DAYS = range(14, 21)
SOURCE = "generic"
HELP_CENTER = "https://help.example.com/kb"
MAX_MESSAGES = 12

FIRST_RESPONSE = "ticket.first_response"
REASSIGNED = "ticket.reassigned"
CSAT_RECEIVED = "csat.received"
ESCALATED = "ticket.escalated"
SOLVED = "ticket.solved"

EVENT_MIX = (
    (FIRST_RESPONSE, 0.35),
    (REASSIGNED, 0.20),
    (CSAT_RECEIVED, 0.25),
    (ESCALATED, 0.10),
    (SOLVED, 0.10),
)


@dataclass(frozen=True)
class Agent:
    id: str
    name: str
    team: str

    @property
    def first(self) -> str:
        return self.name.split()[0]


AGENTS = (
    Agent("a-11", "Priya Raman", "tier1"),
    Agent("a-12", "Marcus Webb", "tier1"),
    Agent("a-13", "Sofia Lindqvist", "tier1"),
    Agent("a-14", "Daniel Okafor", "tier2"),
    Agent("a-15", "Hannah Brooks", "tier2"),
    Agent("a-16", "Tomás Rivera", "new-hires"),
    Agent("a-17", "Leah Kim", "new-hires"),
    Agent("a-18", "Owen Gallagher", "new-hires"),
)
FRONTLINE = tuple(agent for agent in AGENTS if agent.team != "tier2")
CURT_RATE = {"tier1": 0.2, "tier2": 0.1, "new-hires": 0.45}
TEAM_LABELS = {"tier1": "support", "tier2": "specialist support", "new-hires": "support"}


@dataclass(frozen=True)
class Customer:
    id: str
    name: str
    email: str
    phone: str
    segment: str

    @property
    def first(self) -> str:
        return self.name.split()[0]


CUSTOMER_ROSTER = (
    ("Jordan Hale", "smb"),
    ("Amara Nwosu", "mid-market"),
    ("Felix Bergmann", "enterprise"),
    ("Chloé Martin", "consumer"),
    ("Rajesh Iyer", "enterprise"),
    ("Megan O'Connell", "smb"),
    ("Kenji Watanabe", "mid-market"),
    ("Lucía Fernández", "consumer"),
    ("Tobias Schmidt", "smb"),
    ("Aisha Bello", "consumer"),
    ("Ethan Whitaker", "mid-market"),
    ("Ingrid Solberg", "enterprise"),
    ("Mateo Rossi", "consumer"),
    ("Naomi Feldman", "smb"),
    ("Samuel Adeyemi", "mid-market"),
    ("Yuki Tanaka", "consumer"),
    ("Olivia Pearce", "smb"),
    ("Hamza Qureshi", "enterprise"),
    ("Beatriz Costa", "consumer"),
    ("Connor Doyle", "smb"),
    ("Mei Chen", "mid-market"),
    ("Andrei Popescu", "consumer"),
    ("Fatima El Idrissi", "smb"),
    ("Lukas Novak", "enterprise"),
    ("Siobhan Kelly", "consumer"),
    ("Diego Morales", "smb"),
    ("Anjali Deshpande", "mid-market"),
    ("Patrick Brennan", "consumer"),
    ("Zanele Dlamini", "enterprise"),
    ("Henrik Larsen", "mid-market"),
    ("Camille Dubois", "consumer"),
    ("Arjun Mehta", "smb"),
    ("Rebecca Sloane", "enterprise"),
    ("Kwame Mensah", "smb"),
    ("Elena Petrova", "consumer"),
    ("Nathan Cole", "mid-market"),
    ("Sakura Ito", "consumer"),
    ("Gabriel Souza", "smb"),
    ("Imogen Fairfax", "enterprise"),
    ("Omar Haddad", "consumer"),
    ("Valentina Greco", "mid-market"),
    ("Ryan Mitchell", "consumer"),
    ("Leilani Kahale", "smb"),
    ("Stefan Kowalski", "enterprise"),
    ("Nadia Rahman", "consumer"),
    ("Julian Ashford", "mid-market"),
    ("Thandiwe Moyo", "smb"),
    ("Bruno Carvalho", "consumer"),
    ("Harriet Lowe", "smb"),
    ("Vikram Nair", "enterprise"),
    ("Sienna Walsh", "consumer"),
    ("Mohammed Al-Sayed", "mid-market"),
    ("Freya Lindgren", "consumer"),
    ("Dmitri Volkov", "smb"),
    ("Alice Thornton", "mid-market"),
    ("Kofi Asante", "consumer"),
    ("Rosa Jiménez", "smb"),
    ("Liam Fitzgerald", "consumer"),
    ("Ruth Abernathy", "enterprise"),
    ("Xavier Dupont", "mid-market"),
)
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")
PHONES = (
    "+44 20 7946 0958",
    "+1 415 555 0134",
    "(415) 555-0199",
    "020 7946 0321",
    "+44 161 496 0753",
    "(212) 555-0147",
    "0161 496 0227",
    "+1 646 555 0182",
    "+44 7700 900412",
    "312-555-0110",
    "07700 900877",
    "+1 (312) 555-0163",
    "+44 113 496 0580",
    "(206) 555-0176",
    "0113 496 0935",
    "+1 206 555 0121",
)
CARDS = ("4111 1111 1111 1111", "5555 5555 5555 4444", "4012 8888 8888 1881")


def _email(name: str, index: int) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    words = re.sub(r"[^a-z ]", "", plain).split()
    first, last = words[0], words[-1]
    styles = (
        f"{first}.{last}",
        f"{first[0]}{last}",
        f"{first}_{last}",
        f"{first}{last[0]}",
        f"{last}.{first}",
    )
    return f"{styles[index % len(styles)]}@{EMAIL_DOMAINS[index % len(EMAIL_DOMAINS)]}"


CUSTOMERS = tuple(
    Customer(f"c-{2001 + index}", name, _email(name, index), PHONES[index % len(PHONES)], segment)
    for index, (name, segment) in enumerate(CUSTOMER_ROSTER)
)
CUSTOMERS_BY_ID = {customer.id: customer for customer in CUSTOMERS}


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    slug: str
    updated_at: str

    @property
    def url(self) -> str:
        return f"{HELP_CENTER}/{self.id.removeprefix('kb-')}-{self.slug}"

    def reference(self) -> dict:
        return {"id": self.id, "title": self.title, "url": self.url, "updated_at": self.updated_at}


ARTICLES = {
    article.id: article
    for article in (
        Article("kb-12", "Refund timelines", "refund-timelines", "2024-03-14T10:12:00Z"),
        Article(
            "kb-64",
            "Refunds and cancellations",
            "refunds-and-cancellations",
            "2026-09-18T09:30:00Z",
        ),
        Article(
            "kb-19",
            "Understanding charges on your statement",
            "statement-charges",
            "2026-08-27T14:05:00Z",
        ),
        Article(
            "kb-35", "Requesting a corrected invoice", "corrected-invoices", "2026-09-02T11:40:00Z"
        ),
        Article(
            "kb-27",
            "Resetting two-factor authentication",
            "reset-two-factor",
            "2026-09-22T08:15:00Z",
        ),
        Article("kb-40", "Configuring SAML single sign-on", "saml-sso", "2026-08-12T16:20:00Z"),
        Article("kb-31", "Exporting large reports", "large-exports", "2026-09-29T13:00:00Z"),
        Article(
            "kb-44", "Reconnecting an integration", "reconnect-integrations", "2026-09-08T10:45:00Z"
        ),
        Article(
            "kb-58",
            "Troubleshooting the mobile app",
            "mobile-troubleshooting",
            "2026-09-25T15:30:00Z",
        ),
        Article(
            "kb-52", "Tracking a delayed delivery", "delayed-deliveries", "2026-08-20T12:10:00Z"
        ),
        Article("kb-53", "Reporting damaged items", "damaged-items", "2026-09-11T09:00:00Z"),
    )
}
STALE_REFUND_ARTICLE = "kb-12"


@dataclass(frozen=True)
class Scenario:
    """One kind of support problem.

    Subjects, openers, asks, details, fixes and summaries run in parallel: a ticket picks a
    variant ``i`` and takes entry ``i`` (modulo length) of each, so a bank that fits every
    variant can be shorter than the others.
    """

    key: str
    weight: int
    queue: str
    product_area: str
    problem: str
    subjects: tuple[str, ...]
    openers: tuple[str, ...]
    asks: tuple[str, ...]
    curt: tuple[str, ...]
    details: tuple[str, ...]
    fixes: tuple[str, ...]
    summaries: tuple[str, ...]
    escalate_to: str
    reasons: tuple[str, ...]
    tags: tuple[str, ...]
    article: str
    policy: tuple[str, str] | None = None
    incident: str | None = None
    money: bool = False


SCENARIOS = (
    Scenario(
        key="refund",
        weight=14,
        queue="billing",
        product_area="invoices",
        problem="your refund still hasn't come through",
        subjects=(
            "Refund for cancelled subscription",
            "Still waiting on my refund",
            "Where is my refund?",
        ),
        openers=(
            "I cancelled my {plan} subscription on {date} and was told I'd get a refund of "
            "{amount}. It's been almost two weeks and nothing has shown up on my statement.",
            "I was charged {amount} for a renewal I didn't want. I cancelled the same day and "
            "asked for a refund, but I haven't heard anything since. Can you tell me what's "
            "going on?",
            "I requested a refund for invoice {invoice} on {date}. The confirmation said it "
            "was on its way, but my bank can't see anything pending.",
        ),
        asks=(
            "Could you confirm the last four digits of the card the refund should go back to? "
            "Then I can trace it with our payments team.",
            "I can see the cancellation on your account, so I'm checking whether the refund was "
            "actually released or is stuck as pending.",
        ),
        curt=(
            "Refunds take time. You should have read the refund page before cancelling.",
            "Refund was processed on our side. Check with your bank.",
            "As I already said, refunds are handled by your bank once we send them.",
        ),
        details=(
            "The card ends in 4417. The charge was on {date} and I cancelled about an hour later.",
            "I've called my bank and they say nothing is pending from you. Can you send me a "
            "reference number I can give them?",
        ),
        fixes=(
            "I found the problem: the refund was created but never released because the "
            "original payment was still settling. I've pushed it through now, reference "
            "RF-{ref}.",
            "Our payments team confirmed the refund of {amount} left us today. If your bank "
            "asks, the reference is RF-{ref}.",
        ),
        summaries=(
            "Customer cancelled the {plan} plan on {date} and is owed {amount}. Refund shows "
            "as created but never released in the payments dashboard. Needs someone with "
            "payments access to push it through.",
        ),
        escalate_to="billing-ops",
        reasons=("Refund created but not released; needs payments access",),
        tags=("refund", "billing"),
        article="kb-64",
        policy=("refund-policy", "2"),
        money=True,
    ),
    Scenario(
        key="double-charge",
        weight=9,
        queue="billing",
        product_area="invoices",
        problem="you were charged twice this month",
        subjects=(
            "Charged twice for the same invoice",
            "Duplicate payment taken",
            "Two charges on my card",
        ),
        openers=(
            "I've just noticed two identical charges of {amount} on my card for this month's "
            "subscription. We only have one account, so one of these must be a mistake.",
            "Our finance team flagged a duplicate payment for invoice {invoice}. Both went "
            "through on {date}. Please refund the second one.",
        ),
        asks=(
            "I can see both payments on our side. I'm checking whether the second one was a "
            "retry that should have been voided automatically.",
            "Could you tell me whether both charges show as completed or if one is still "
            "pending? That tells me which team needs to act.",
        ),
        curt=(
            "Only one charge shows on our side. The other is probably a pending authorisation.",
            "We don't see a duplicate. You should have checked your statement properly.",
        ),
        details=(
            "Both charges are showing as completed, not pending. My bank says they can't "
            "reverse a merchant charge themselves.",
            "Both are completed. Our accountant needs this cleared before month end.",
        ),
        fixes=(
            "You were right: our payment provider retried the charge after a timeout and both "
            "attempts succeeded. I've refunded the duplicate {amount}.",
            "The second payment was a duplicate caused by a gateway retry. It has been "
            "refunded in full and the invoice now shows a single payment.",
        ),
        summaries=(
            "Two identical charges of {amount} on {date}, both settled. Looks like a gateway "
            "retry after a timeout. Customer wants the duplicate refunded and I can't refund "
            "settled payments.",
        ),
        escalate_to="billing-ops",
        reasons=("Duplicate settled charge after gateway retry",),
        tags=("billing", "duplicate-charge"),
        article="kb-19",
        policy=("billing-disputes", "3"),
        money=True,
    ),
    Scenario(
        key="invoice",
        weight=8,
        queue="billing",
        product_area="invoices",
        problem="your invoice is missing the details your finance team needs",
        subjects=("VAT number missing from invoice", "Invoices still show our old address"),
        openers=(
            "Our accounts team can't process invoice {invoice} because it doesn't show our "
            "VAT number. Can you reissue it with the correct details?",
            "The billing address on our last three invoices is our old office. We moved in the "
            "summer and updated it in settings, but the invoices still show the old one.",
        ),
        asks=(
            "If you send me the VAT number and the company name exactly as it should appear, "
            "I'll get the invoice reissued.",
            "I'm checking why the new address didn't carry over to your invoices.",
        ),
        curt=(
            "You can edit invoice details yourself in Settings > Billing.",
            "Invoices can't be changed after they're issued.",
        ),
        details=(
            "The VAT number is GB 293 7716 52 and the company name should match our purchase "
            "order exactly.",
            "The new address is already saved under Settings > Billing, I've double-checked.",
        ),
        fixes=(
            "I've reissued invoice {invoice} with the correct details. The new PDF is under "
            "Settings > Billing > Invoices and the old one has been voided.",
            "The address was saved on your profile but not on the billing account. I've fixed "
            "that and reissued the last three invoices.",
        ),
        summaries=(
            "Customer needs invoice {invoice} reissued with their VAT number and exact company "
            "name. Details are in the thread. Reissuing needs finance permissions, which I don't "
            "have.",
            "Customer moved office; new billing address is saved on their profile but the last "
            "three invoices still show the old one. Needs the billing account fixed and the "
            "invoices reissued.",
        ),
        escalate_to="billing-ops",
        reasons=("Invoice reissue needs finance permissions",),
        tags=("invoice", "billing"),
        article="kb-35",
        policy=("invoicing", "1"),
    ),
    Scenario(
        key="lockout",
        weight=12,
        queue="accounts",
        product_area="login",
        problem="you've been locked out of your account",
        subjects=(
            "Locked out after changing phone",
            "Account locked",
            "Password reset email never arrives",
        ),
        openers=(
            "I got a new phone over the weekend and now I can't get past the two-factor screen. "
            "The authenticator app didn't transfer and I don't have the backup codes.",
            "Every time I try to log in it says my account is locked for security reasons. I "
            "haven't changed anything and I need to get in today for a client meeting.",
            "The password reset email never arrives. I've checked spam and tried three times "
            "this morning.",
        ),
        asks=(
            "To keep your account safe I need to verify it's you first, so I'm sending a "
            "verification link to the address on file. Once you've clicked it I can reset "
            "two-factor for you.",
            "Could you tell me roughly when you last logged in successfully, and from which "
            "device?",
            "Let me check our mail logs to see whether the reset emails were sent and where "
            "they went.",
        ),
        curt=(
            "Use the backup codes you were given when you set up 2FA.",
            "Please calm down. Reset your password from the login page like it says.",
            "Account is locked for security reasons. Wait 24 hours and try again.",
        ),
        details=(
            "Done, I clicked the link. I never had backup codes, to be honest; I didn't know "
            "they existed.",
            "Last login was Friday from my work laptop. Nothing has changed since.",
            "It's the same address I've always used. Nothing in spam or promotions either.",
        ),
        fixes=(
            "You're verified, so I've reset two-factor on your account. The next time you log "
            "in you'll be asked to set it up again on your new phone; please save the backup "
            "codes this time.",
            "I've unlocked the account. The lock was triggered by repeated attempts from an "
            "old password saved in your browser, so removing that should stop it happening "
            "again.",
            "Our mail logs show your mail server was rejecting our reset emails. I've sent a "
            "one-time login link by text message instead; once you're in, ask your IT team to "
            "allow our sending domain.",
        ),
        summaries=(
            "Customer locked out after switching phones, no backup codes. Identity not yet "
            "verified: I've sent the verification link but not reset 2FA. Check the link was "
            "clicked before resetting.",
            "Account locked after repeated failed logins, customer says nothing changed. Last "
            "good login Friday from their work laptop. Suspect a saved old password; needs an "
            "unlock and a check of the login history.",
            "Password reset emails not arriving, nothing in spam, same address as always. Our "
            "send log shows bounces from their mail server. Needs an alternative login route "
            "and a note to their IT.",
        ),
        escalate_to="tier2",
        reasons=(
            "2FA reset needs identity verification",
            "Account lock needs a login review",
            "Reset emails bouncing; needs another login route",
        ),
        tags=("login", "2fa"),
        article="kb-27",
        policy=("account-security", "4"),
    ),
    Scenario(
        key="sso",
        weight=7,
        queue="accounts",
        product_area="login",
        problem="your team can't sign in through SSO",
        subjects=("SAML login failing for our whole team", "New starters can't sign in with SSO"),
        openers=(
            "Since this morning nobody on our team can sign in through Okta. The error says "
            "'SAML response signature invalid'. We rotated our IdP certificate yesterday, if "
            "that's relevant.",
            "New starters can't log in via SSO. They get 'user not provisioned' even though "
            "they're assigned to the app in Azure AD.",
        ),
        asks=(
            "Could you send me the new certificate's fingerprint (not the private key) and the "
            "time you rotated it? I'll compare it with what we have on file.",
            "Could you send me one affected user's email and the exact time they tried? I'll "
            "find the matching SAML request in our logs.",
        ),
        curt=(
            "SSO configuration is managed by your admin, not us.",
            "That's not our problem, the error is coming from your identity provider.",
        ),
        details=(
            "Fingerprint is attached. The rotation happened at about 17:40 yesterday our time. "
            "Around 140 people can't get in.",
            "Three new starters this week, all assigned to the app on Monday.",
        ),
        fixes=(
            "The old certificate was still pinned on your SSO connection. I've uploaded the "
            "new one and logins work in our tests; could you ask a couple of people to try?",
            "Just-in-time provisioning had been switched off on your connection, which is why "
            "new starters were rejected. I've turned it back on.",
        ),
        summaries=(
            "Whole company failing SAML login since their IdP certificate rotation yesterday "
            "evening. Customer sent the new fingerprint, it's in the thread. Roughly 140 users "
            "affected, enterprise SLA applies.",
            "New starters get 'user not provisioned' on SSO although they're assigned in Azure "
            "AD. Existing users are fine. Probably just-in-time provisioning on the connection; "
            "I can't see that setting.",
        ),
        escalate_to="tier2",
        reasons=(
            "Company-wide SSO outage after certificate rotation",
            "SSO provisioning rejects new users",
        ),
        tags=("login", "sso"),
        article="kb-40",
        policy=("sla-enterprise", "2"),
    ),
    Scenario(
        key="export",
        weight=11,
        queue="technical",
        product_area="exports",
        problem="your exports keep failing",
        subjects=("CSV export times out", "Scheduled exports failing"),
        openers=(
            "The CSV export for last quarter's data spins for ages and then fails with "
            "'Something went wrong'. It worked fine last month and we need it for a board "
            "report on Friday.",
            "Scheduled exports stopped arriving on Monday. The export history page shows them "
            "as failed with no reason.",
        ),
        asks=(
            "Could you tell me roughly how many rows the export has and which filters you're "
            "using? I'm also checking whether this is related to an issue our engineers are "
            "already investigating.",
            "I'm pulling the logs for your last few export attempts to see where they fail.",
        ),
        curt=(
            "Exports over 50k rows aren't supported. Try a smaller date range.",
            "As I already said, it's a known issue. Wait for the fix.",
        ),
        details=(
            "It's about 180k rows, filtered to three regions. Smaller date ranges work, but we "
            "need the whole quarter in one file.",
            "They're the same scheduled exports we've had for a year. Nothing changed on our side.",
        ),
        fixes=(
            "Our engineers deployed a fix for the export timeouts this morning. I've re-run "
            "your export and the file is ready under Reports > Exports.",
            "While the fix rolls out, I've generated the full export on our side and shared it "
            "through a secure link that expires in 7 days.",
        ),
        summaries=(
            "Quarterly CSV export of about 180k rows times out every time; smaller ranges "
            "work. Probably related to incident 4411. Customer needs the full file for a board "
            "report on Friday.",
            "Scheduled exports failing since Monday with no reason in the export history. "
            "Same schedules for a year, nothing changed on their side. Could be incident 4411 "
            "too; logs attached.",
        ),
        escalate_to="engineering",
        reasons=(
            "Large CSV exports time out; matches incident 4411",
            "Scheduled exports failing without an error",
        ),
        tags=("bug", "exports"),
        article="kb-31",
        incident="incident-4411",
    ),
    Scenario(
        key="integration",
        weight=10,
        queue="technical",
        product_area="integrations",
        problem="the integration has stopped syncing",
        subjects=("Salesforce sync stopped", "Slack notifications not coming through"),
        openers=(
            "Our Salesforce integration hasn't synced since Tuesday. New deals aren't showing "
            "up and the sync log just says 'token expired'. We haven't changed anything.",
            "Slack notifications for new orders stopped coming through yesterday afternoon. "
            "The integration still shows as connected.",
        ),
        asks=(
            "I'll check the integration logs for your workspace now. Meanwhile, could you "
            "confirm whether the person who connected the integration still has admin rights?",
            "Could you tell me when the last notification arrived? I'll match it against our "
            "delivery logs.",
        ),
        curt=(
            "Reconnect the integration.",
            "It's working on our side. You should have checked your own permissions first.",
        ),
        details=(
            "The person who set it up left the company last month, so that's probably it. I "
            "have admin rights now though.",
            "The last one came through at 15:12 yesterday. Nothing since.",
        ),
        fixes=(
            "That was it: the sync was still using the previous admin's token. I've moved it "
            "to your account and run a full resync, so the deals since Tuesday are now in.",
            "We found a bug in how the integration refreshed its token after a password "
            "change. A fix went out today and I've restarted the sync for your workspace.",
        ),
        summaries=(
            "Salesforce sync stopped on Tuesday with 'token expired'. The admin who connected "
            "it has left; customer now has admin rights. Needs a reconnect under the new user "
            "and a full resync.",
            "Slack order notifications stopped yesterday at 15:12 although the integration "
            "shows connected. Nothing changed on their side. Needs someone to check the "
            "delivery logs and token refresh.",
        ),
        escalate_to="engineering",
        reasons=(
            "Salesforce sync failing with an expired token",
            "Integration token refresh failing silently",
        ),
        tags=("integrations", "bug"),
        article="kb-44",
        incident="incident-4427",
    ),
    Scenario(
        key="mobile",
        weight=10,
        queue="technical",
        product_area="mobile-app",
        problem="the app crashes as soon as you open it",
        subjects=("iOS app crashes on launch after update", "Android app won't load the dashboard"),
        openers=(
            "Since updating the app this morning it crashes straight away on my iPhone. I've "
            "restarted the phone and reinstalled, same thing.",
            "The Android app shows a blank screen on the dashboard and then closes. The web "
            "version works fine.",
        ),
        asks=(
            "Could you tell me your phone model, OS version and the app version shown in the "
            "store? I'll check them against the crash reports we've had since the release.",
            "Let me check our crash reports for your account while you try logging in on the "
            "web version.",
        ),
        curt=(
            "Reinstall the app.",
            "Clear your cache and try again. We don't support older phones.",
        ),
        details=(
            "iPhone 12, iOS 17.6, app version 5.14.0.",
            "Pixel 7, Android 14, app version 5.14.0. The web version is fine.",
        ),
        fixes=(
            "Version 5.14.1 is now live and fixes the crash on launch. Please update from the "
            "store and let me know if it opens for you.",
            "Our mobile team found the cause: a dashboard widget that failed on accounts with "
            "more than 20 locations. The fix is in version 5.14.1, rolling out today.",
        ),
        summaries=(
            "App crashes on launch since 5.14.0 on iPhone 12, iOS 17.6. Reinstall didn't help. "
            "Matches the crash reports since the release. Customer needs a workaround until "
            "the patch ships.",
            "Android 5.14.0 shows a blank dashboard then closes, Pixel 7 on Android 14. Web "
            "works. Account has lots of locations, which might matter. Customer is using the "
            "web version meanwhile.",
        ),
        escalate_to="engineering",
        reasons=("Crash on launch in iOS 5.14.0", "Android 5.14.0 dashboard crash"),
        tags=("bug", "mobile"),
        article="kb-58",
        incident="incident-4417",
    ),
    Scenario(
        key="late-delivery",
        weight=11,
        queue="shipping",
        product_area="deliveries",
        problem="your delivery is running late",
        subjects=("Order {order} hasn't arrived", "Parcel marked delivered but not received"),
        openers=(
            "My order {order} was supposed to arrive last Thursday. Tracking hasn't moved since "
            "it left the depot and I need it for an event this weekend.",
            "Tracking for {order} says 'delivered' but nothing came. I've checked with the "
            "neighbours and the post room in our building.",
        ),
        asks=(
            "I'm opening a trace with the courier right away so they check where the parcel "
            "actually is. Could you confirm the delivery address is still correct?",
            "Let me check the courier's scan history for {order} and see where it stopped.",
        ),
        curt=(
            "That's not our problem, the courier handles deliveries. Contact them directly.",
            "Tracking says delivered. You should have checked with your neighbours.",
        ),
        details=(
            "Address is right. I really do need it by Saturday.",
            "The address is correct. I was home all day on the day it says it was delivered.",
        ),
        fixes=(
            "The courier confirmed the parcel was misrouted to another depot. As it won't "
            "reach you in time, I've sent a replacement by express delivery; it arrives "
            "tomorrow before 12:00.",
            "The courier has admitted the parcel was scanned as delivered by mistake at their "
            "depot. It's out for delivery today and tracking should update within the hour.",
        ),
        summaries=(
            "Order {order} stuck at the depot for six days; customer needs it for an event "
            "this weekend. Address confirmed. Courier trace not opened yet. Consider an express "
            "replacement if the trace is slow.",
            "Tracking for {order} says delivered but customer was home all day and checked "
            "neighbours and the post room. Address confirmed. Needs a courier trace and a "
            "replacement if it isn't found.",
        ),
        escalate_to="logistics",
        reasons=(
            "Parcel stuck at depot; courier trace needed",
            "Parcel marked delivered but not received",
        ),
        tags=("delivery",),
        article="kb-52",
        policy=("shipping-claims", "1"),
        money=True,
    ),
    Scenario(
        key="damaged",
        weight=8,
        queue="shipping",
        product_area="deliveries",
        problem="your order arrived damaged",
        subjects=("Item arrived broken", "Two units damaged in order {order}"),
        openers=(
            "The box for order {order} arrived crushed and the glass panel inside is cracked. "
            "I've kept all the packaging and taken photos.",
            "We received order {order} today but two of the five units are damaged. The outer "
            "box looked fine, so it must have happened before packing.",
        ),
        asks=(
            "Could you reply with a couple of photos of the damage and the packaging? As soon "
            "as I have them I'll arrange a replacement or a refund, whichever you prefer.",
            "I'll look into this with our warehouse. Would you prefer a replacement or a refund?",
        ),
        curt=(
            "Send photos.",
            "Damage has to be reported within 48 hours. You should have contacted us sooner.",
        ),
        details=(
            "Photos attached. A replacement would be best, we still need the item.",
            "Photos of both units and the box are attached. Refund please.",
        ),
        fixes=(
            "Thanks for the photos. I've arranged a replacement that ships tomorrow, and the "
            "courier will collect the damaged one at the same time.",
            "I've processed a refund of {amount} for the damaged units and logged your photos "
            "with the warehouse so they can check their packing.",
        ),
        summaries=(
            "Order {order} arrived damaged; customer has photos and kept the packaging. Wants "
            "a replacement rather than a refund. Needs a replacement order and a courier "
            "collection for the damaged item.",
            "Two of five units in order {order} arrived damaged inside an intact outer box, so "
            "likely a packing fault. Photos attached. Customer wants a refund for the two "
            "units, not replacements.",
        ),
        escalate_to="logistics",
        reasons=(
            "Damaged delivery; replacement and collection needed",
            "Units damaged before packing; refund and warehouse check",
        ),
        tags=("delivery", "damaged"),
        article="kb-53",
        policy=("shipping-claims", "1"),
        money=True,
    ),
)
ESCALATABLE = tuple(
    s
    for s in SCENARIOS
    if s.key in ("sso", "export", "integration", "mobile", "double-charge", "damaged", "lockout")
)
ESCALATION_TEAMS = {
    "tier2": "specialist support",
    "engineering": "engineering",
    "billing-ops": "billing operations",
    "logistics": "logistics",
}

PLANS = ("Pro monthly", "Team annual", "Business annual", "Starter monthly")
AMOUNTS = ("49.00", "89.00", "129.00", "249.00", "312.50", "588.00", "1,188.00")
DEADLINES = ("end of day today", "tomorrow morning", "3pm today", "midday tomorrow", "Thursday")

OPENING_GREETINGS = ("Hi,", "Hello,", "Hi there,", "Hi support team,", "Good morning,", "")
OPENING_SIGNOFFS = (
    "Thanks,\n{full}",
    "Regards,\n{full}",
    "Cheers,\n{first}",
    "Many thanks,\n{full}",
    "Thanks\n{first}",
)
PHONE_SIGNATURE = "Best regards,\n{full}\n{phone}"
REPLY_GREETINGS = ("Hi {agent_first},", "Hi,", "Hello again,", "")
REPLY_SIGNOFFS = ("Thanks,\n{first}", "{first}", "Thanks", "", "Regards,\n{full}")
CHAT_OPENERS = ("Hi! ", "hello. ", "Hi, this is {first}. ", "Hey there. ", "")
AGENT_GREETINGS = ("Hi {first},", "Hello {first},", "Dear {first},")
AGENT_SIGNOFFS = (
    "Best,\n{agent_first}",
    "Kind regards,\n{agent_name}\nCustomer Support",
    "Thanks,\n{agent_first}",
    "Speak soon,\n{agent_first}",
)
CURT_GREETINGS = ("", "Hi,", "Hello,")
CURT_SIGNOFFS = ("Support Team", "{agent_first}", "")
CHAT_AGENT_PREFIXES = ("Hi {first}! ", "Hi {first}. ", "Thanks for waiting, {first}. ", "")

ACKS = (
    "I'm sorry to hear {problem}.",
    "I understand how frustrating it must be that {problem}.",
    "Thanks for flagging this, and I'm sorry {problem}.",
    "I'm really sorry {problem}. That's not the experience we want you to have.",
)
LATE_ACKS = (
    "Apologies for the wait in getting back to you, and I'm sorry {problem}.",
    "Sorry for the slow reply, it's been a very busy week here. I understand how frustrating "
    "it must be that {problem}.",
)
OWNERSHIP = (
    "I'll look into this for you now.",
    "Let me check what's happened on our side.",
    "I'm taking this one myself and I will update you by {deadline}.",
    "I'll look into this personally and I will update you by {deadline} at the latest.",
    "Let me check this with the right people. I will update you by {deadline}.",
)
CURT_TAILS = (
    "",
    "Anything else?",
    "Closing this if I don't hear back in 24 hours.",
    "Please read the help centre first next time.",
)

AUTO_ACKS = (
    "Thanks for contacting us. We've received your request (#{ticket}) and someone from the "
    "team will reply as soon as possible.",
    "We've got your message (#{ticket}). You don't need to reply to this email; we'll be in "
    "touch shortly.",
)
BUSY_ACKS = (
    "We've received your request (#{ticket}). We're busier than usual at the moment, so our "
    "reply may take longer than normal. Thank you for your patience.",
)
CHASERS = (
    "Is anyone looking at this?",
    "Hello? I sent this hours ago and haven't heard anything.",
    "Following up on the below. This is urgent for us.",
)
CHAT_CHASERS = ("hello?", "Is anyone there?", "Still waiting...", "Hello, are you still there?")
CONTACT_LINES = (
    "If it's easier, call me on {phone}.",
    "My direct line is {phone}, I'm around until 6pm.",
    "You can also reach me at {email}.",
    "Please reply to {email}, I don't check the other inbox.",
    "Best number for me is {phone}.",
    "The account is under {email}.",
)
CARD_LINES = (
    "The card is {card} in case you need it to find the payments.",
    "Card used was {card}.",
)
AFTER_CALL_LINES = (
    "Thanks for calling me back earlier. Just confirming everything is working now.",
    "Thanks for the call this morning. As discussed, I tried again and it's fine now.",
)

HANDOFF_PREFIXES = ("", "Handing over: ", "Context for {next_first}: ", "@{next_first} ")
SHORT_NOTES = ("passing this on", "over to you", "not my area, reassigning", "see above")
WARM_INTROS = (
    "I'm {agent_first} from the {team_label} team and I've taken over your ticket from "
    "{prev_first}. I've read through everything, so there's no need to repeat yourself. I "
    "will update you by {deadline}.",
    "{prev_first} has filled me in on what's happened so far. I'm picking this up now and "
    "will come back to you by {deadline}.",
)
COLD_INTROS = (
    "I've just picked up your ticket. Could you explain the issue again and what you've "
    "already tried?",
    "This ticket has been assigned to me. What seems to be the problem?",
)
REPEATS = (
    "I've already explained all of this to your colleague. It's all written above.",
    "Again? Please just read the thread, everything is there.",
)

GOOD_ESCALATION_NOTE = "Escalating to {escalation_team}: "
POOR_ESCALATION_NOTES = ("escalating", "pls look", "customer chasing, escalating")
ESCALATION_UPDATES = (
    "I've escalated this to our {escalation_team} team with everything you've told me, so you "
    "won't need to repeat yourself. I'll stay on the ticket and update you by {deadline}.",
    "I've passed this to our {escalation_team} team, who can look deeper than I can. I'm "
    "keeping an eye on it and will update you by {deadline}.",
)
CURT_ESCALATION_UPDATES = ("Escalated to {escalation_team}. They'll get back to you.",)

GUIDANCE_NOTES = (
    "Not sure if policy allows a refund here. Customer cancelled 34 days after renewing the "
    "{plan} plan and refund policy v2 only mentions the first 30 days. Can a lead confirm?",
    "Refund policy v2 is unclear on partial refunds after a downgrade. Not sure if policy "
    "allows refunding the unused months. Holding my reply until someone confirms.",
    "Guidance please: not sure if policy allows a refund when the renewal reminder email "
    "bounced. v2 doesn't cover it and I don't want to promise anything.",
)
HOLDING_REPLIES = (
    "Thanks for your patience. I'm confirming one detail with my team lead so I give you the "
    "right answer, and I'll come back to you by {deadline}.",
    "I want to make sure I get this right for you, so I'm checking the refund rules with a "
    "colleague. You'll hear from me by {deadline}.",
)
PROMISES = (
    "I've gone ahead and refunded the full {amount} as a one-off, even though it's outside the "
    "usual window.",
    "I'll give you a credit as an exception: {amount} will come off your next bill.",
    "I've gone ahead and refunded you in full as a goodwill gesture, no need to send anything "
    "back.",
    "As an exception I'll add a {amount} credit to your account for the trouble.",
)
STALE_REFUND_LINES = (
    "Refunds show on your statement within 3-5 business days, as explained here: {kb_url}",
    "Our refund timelines article has the details: {kb_url} (it's usually 3-5 business days).",
)
CURRENT_REFUND_LINE = (
    "Banks usually take 5-10 business days to show a refund; {kb_url} has the details."
)
KB_LINES = (
    "There's a step-by-step guide here if it happens again: {kb_url}",
    "You'll find more detail in this article: {kb_url}",
    "This article explains what happened and what to do next time: {kb_url}",
)

NUDGES = (
    "Any update on this?",
    "Just following up, this is still a problem for us.",
    "It's been a couple of days now. Is anyone looking at this?",
    "Hello? Still waiting to hear back.",
)
UPDATES = (
    "Quick update: I'm still waiting on the team that owns this, but I haven't forgotten you. "
    "I'll check in again tomorrow.",
    "Thanks for bearing with us. I've passed everything on to the team that handles this, and "
    "I'll update you as soon as I hear back.",
    "Still on it. I chased this internally this morning and expect an answer today.",
)
CURT_UPDATES = ("Still waiting on the other team.", "No update yet.")
INTERIM_FIXES = (
    "I've applied a fix on our side. Could you try again and let me know if it works?",
    "That should be sorted now. Can you check on your end?",
)
REOPENS = (
    "It's happening again as of this morning. I thought this was fixed?",
    "Tried again today and it's back to the same problem.",
)
REOPEN_ACKS = (
    "Sorry about that, {first}. I've reopened the ticket and I'm looking at it again now.",
)
CURT_REOPEN_ACKS = ("Reopened.",)
HAPPY_CLOSINGS = (
    "That's fixed it, thank you so much!",
    "Perfect, all sorted. Thanks for your help, {agent_first}.",
    "Great, thanks for sorting this so quickly.",
    "Brilliant, that worked. Have a good day.",
)
UNHAPPY_CLOSINGS = (
    "Fine. It shouldn't have taken this long.",
    "It's working now, but I had to chase this several times.",
    "OK.",
    "Noted. We'll be reviewing whether we renew.",
)

CSAT_COMMENTS = {
    "happy": (
        "{agent_first} was quick and explained everything clearly.",
        "Really helpful, sorted in one go.",
        "Friendly and fast, thank you!",
        "Great service. {agent_first} kept me updated the whole way.",
    ),
    "praise": (
        "{agent_first} was fantastic: patient, kind and clearly knew the product inside out.",
        "Couldn't have asked for a better agent. {agent_first} went above and beyond.",
        "Superb help from {agent_first}, thank you!",
    ),
    "agent": (
        "The agent was rude and basically told me it was my fault.",
        "Felt like I was being brushed off. Nobody took ownership.",
        "Had to explain the problem again to a second person. Slow and unhelpful.",
        "I was told to 'calm down'. Unacceptable.",
        "Took days to get a reply that didn't even answer my question.",
    ),
    "product": (
        "The agent was polite but the problem took over a week to fix.",
        "Still not convinced it won't happen again.",
        "Nice enough, but the bug that caused this should never have shipped.",
    ),
    "legal": (
        "I'll be disputing this with my bank and have asked our solicitor to review the contract.",
        "We're taking legal advice on how this was handled. Please put anything further in "
        "writing.",
    ),
}
CSAT_CONTACT_TAIL = " Call me on {phone} if anyone actually wants to fix this."


@dataclass
class _Plan:
    """What a ticket will contain, decided before any text is written."""

    kind: str
    scenario: Scenario
    customer: Customer
    agent: Agent
    channel: str
    created: datetime
    pressure: bool
    variant: int = 0
    previous: Agent | None = None
    reassignments: int = 0
    handoff: str = "full"
    csat: int | None = None
    mood: str = ""
    polite: bool = True
    later_polite: bool = True
    fast: bool = True
    first_response_minutes: float = 0.0
    drawn_out: bool = False
    ambiguous_policy: bool = False
    article: Article | None = None
    promise: bool = False
    evidence: str = "full"
    contact: bool = False
    card: bool = False

    @property
    def responder(self) -> Agent:
        return self.previous or self.agent

    def pick(self, options: tuple[str, ...]) -> str:
        return options[self.variant % len(options)]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _event_kinds(rng: random.Random, count: int) -> list[str]:
    kinds = [kind for kind, share in EVENT_MIX for _ in range(round(share * count))]
    kinds = (kinds + [FIRST_RESPONSE] * count)[:count]
    rng.shuffle(kinds)
    return kinds


def _creation_times(rng: random.Random, count: int) -> list[datetime]:
    times: list[datetime] = []
    while len(times) < count:
        moment = ANCHOR + timedelta(days=rng.randrange(SPAN_DAYS), minutes=rng.randrange(660))
        if moment.weekday() >= 5 and rng.random() < 0.7:
            continue
        times.append(moment)
    return sorted(times)


def _pick_channel(rng: random.Random, segment: str) -> str:
    weights = (55, 30, 15) if segment in ("enterprise", "mid-market") else (35, 20, 45)
    return rng.choices(("email", "web", "chat"), weights=weights)[0]


def _next_agent(rng: random.Random, previous: Agent) -> Agent:
    if previous.team == "tier1" and rng.random() < 0.3:
        pool = [a for a in AGENTS if a.team == "tier1"]
    elif previous.team == "new-hires":
        pool = [a for a in AGENTS if a.team in ("tier1", "tier2")]
    else:
        pool = [a for a in AGENTS if a.team == "tier2"]
    return rng.choice([a for a in pool if a != previous] or FRONTLINE)


def _customer_order(rng: random.Random, count: int) -> list[Customer]:
    """Every customer once before anyone repeats, as a shuffled roster."""
    order: list[Customer] = []
    while len(order) < count:
        order += rng.sample(CUSTOMERS, len(CUSTOMERS))
    return order[:count]


def _base_plan(rng: random.Random, kind: str, created: datetime, customer: Customer) -> _Plan:
    pool = ESCALATABLE if kind == ESCALATED else SCENARIOS
    scenario = rng.choices(pool, weights=[s.weight for s in pool])[0]
    plan = _Plan(
        kind=kind,
        scenario=scenario,
        customer=customer,
        agent=rng.choice(FRONTLINE if kind == ESCALATED else AGENTS),
        channel=_pick_channel(rng, customer.segment),
        created=created,
        pressure=(created - ANCHOR).days in PRESSURE_DAYS,
        variant=rng.randrange(len(scenario.openers)),
    )
    if kind == REASSIGNED:
        plan.previous, plan.agent = plan.agent, _next_agent(rng, plan.agent)
        plan.reassignments = rng.choices((1, 2, 3), weights=(70, 25, 5))[0]
        plan.handoff = rng.choices(("full", "short", "none"), weights=(50, 25, 25))[0]
    return plan


def _assign_csat(rng: random.Random, plans: list[_Plan]) -> None:
    rated = [plan for plan in plans if plan.kind == CSAT_RECEIVED]
    rng.shuffle(rated)
    low, high = rated[::2], rated[1::2]
    for plan in low:
        plan.csat = rng.choice((1, 2))
        plan.mood = rng.choices(("agent", "product"), weights=(60, 40))[0]
    for plan in high:
        plan.csat = rng.choice((4, 5, 5))
        plan.mood = "happy"
    for plan in low[:2]:
        plan.mood = "legal"
    for plan in low[2:3] + high[:2]:
        plan.mood = "praise"


def _assign_refund_features(rng: random.Random, plans: list[_Plan]) -> None:
    refunds = [p for p in plans if p.scenario.key == "refund" and p.kind != ESCALATED]
    for plan in rng.sample(refunds, min(5, len(refunds))):
        plan.ambiguous_policy = True
    for plan in plans:
        if plan.scenario.key == "refund" and rng.random() < 0.55:
            plan.article = ARTICLES[STALE_REFUND_ARTICLE]
        elif rng.random() < 0.6:
            plan.article = ARTICLES[plan.scenario.article]
        if plan.scenario.money:
            plan.promise = rng.random() < (0.4 if plan.ambiguous_policy else 0.1)


def _assign_missing_evidence(rng: random.Random, plans: list[_Plan]) -> None:
    eligible = [
        plan
        for plan in plans
        if plan.kind in (FIRST_RESPONSE, SOLVED, CSAT_RECEIVED)
        and plan.mood in ("", "happy", "agent", "product")
        and not (plan.ambiguous_policy or plan.promise)
    ]
    modes = ("none", "no-agent", "none")[: len(eligible)]
    for plan, evidence in zip(rng.sample(eligible, len(modes)), modes, strict=True):
        plan.evidence = evidence
        plan.article = None
        plan.channel = "phone" if evidence == "none" else "email"


def _first_response_minutes(rng: random.Random, channel: str, fast: bool) -> float:
    if channel == "chat":
        return round(rng.uniform(1, 4) if fast else rng.uniform(8, 30), 1)
    if channel == "phone":
        return round(rng.uniform(0.5, 3) if fast else rng.uniform(6, 20), 1)
    return float(rng.randint(20, 200) if fast else rng.randint(300, 900))


def _assign_delivery(rng: random.Random, plan: _Plan) -> None:
    """Decide tone and speed; low CSAT leans curt and slow, staffing pressure leans slow."""
    if plan.mood in ("agent", "legal"):
        plan.polite, plan.fast = rng.random() < 0.2, rng.random() < 0.3
        plan.later_polite = plan.polite
    elif plan.mood == "praise":
        plan.polite, plan.fast = True, False
    elif plan.mood in ("happy", "product"):
        plan.polite, plan.fast = True, rng.random() < (0.9 if plan.mood == "happy" else 0.6)
    else:
        plan.polite = rng.random() >= CURT_RATE[plan.responder.team]
        fast_rate = 0.35 if plan.pressure else (0.85 if plan.polite else 0.4)
        plan.fast = rng.random() < fast_rate
    if plan.kind == REASSIGNED:
        plan.later_polite = rng.random() >= CURT_RATE[plan.agent.team]
    elif plan.mood not in ("agent", "legal"):
        plan.later_polite = plan.polite or rng.random() < 0.5
    plan.first_response_minutes = _first_response_minutes(rng, plan.channel, plan.fast)
    plan.drawn_out = (
        plan.mood in ("praise", "product", "agent", "legal")
        or plan.kind == ESCALATED
        or rng.random() < 0.15
    )


def _plans(rng: random.Random, count: int) -> list[_Plan]:
    kinds = _event_kinds(rng, count)
    times = _creation_times(rng, count)
    customers = _customer_order(rng, count)
    plans = [
        _base_plan(rng, kind, when, customer)
        for kind, when, customer in zip(kinds, times, customers, strict=True)
    ]
    _assign_csat(rng, plans)
    _assign_refund_features(rng, plans)
    _assign_missing_evidence(rng, plans)
    for plan in plans:
        _assign_delivery(rng, plan)
        plan.contact = plan.evidence != "none" and rng.random() < 0.4
        card_rate = {"double-charge": 0.45, "refund": 0.1}.get(plan.scenario.key, 0.0)
        plan.card = plan.evidence != "none" and rng.random() < card_rate
    return plans


def _author(agent: Agent) -> dict:
    return {"id": agent.id, "role": "agent", "name": agent.name}


class _Thread:
    """Messages in chronological order, with the clock advancing as the conversation goes."""

    def __init__(self, rng: random.Random, plan: _Plan, values: dict) -> None:
        self.rng = rng
        self.plan = plan
        self.values = values
        self.email = plan.channel != "chat"
        self.clock = plan.created
        self.messages: list[dict] = []
        self.marks: dict[str, datetime] = {}
        self.escalations: list[dict] = []
        self.reopens = 0
        self.greeted: set[str] = set()

    def at(self, moment: datetime) -> None:
        self.clock = max(self.clock, moment)

    def wait(self, *, slow: bool = False) -> None:
        minutes = self.rng.uniform(15, 240) if self.email else self.rng.uniform(0.5, 5)
        if slow:
            minutes += self.rng.uniform(1, 3) * 1440
        self.clock += timedelta(minutes=minutes)

    def room(self, needed: int) -> bool:
        """Whether ``needed`` more messages still leave space for the fix and a reply."""
        return len(self.messages) + needed + 2 <= MAX_MESSAGES

    def assign(self, agent: Agent) -> None:
        self.values.update(
            agent_first=agent.first, agent_name=agent.name, team_label=TEAM_LABELS[agent.team]
        )

    def customer(
        self, *parts: str, opening: bool = False, greet: bool = True, signature: str = ""
    ) -> None:
        body = self._join(parts)
        if self.email:
            greeting = self.rng.choice(OPENING_GREETINGS if opening else REPLY_GREETINGS)
            signoff = signature or self.rng.choice(OPENING_SIGNOFFS if opening else REPLY_SIGNOFFS)
            body = self._frame(greeting if greet else "", body, signoff)
        elif opening:
            body = self.rng.choice(CHAT_OPENERS) + body
        customer = self.plan.customer
        self._post({"id": customer.id, "role": "customer", "name": customer.name}, body)

    def agent(self, agent: Agent, *parts: str, polite: bool = True) -> None:
        self.assign(agent)
        body = self._join(parts)
        if self.email:
            greeting = self.rng.choice(AGENT_GREETINGS if polite else CURT_GREETINGS)
            signoff = self.rng.choice(AGENT_SIGNOFFS if polite else CURT_SIGNOFFS)
            body = self._frame(greeting, body, signoff)
        elif polite and agent.id not in self.greeted:
            body = self.rng.choice(CHAT_AGENT_PREFIXES) + body
        self.greeted.add(agent.id)
        self._post(_author(agent), body)

    def note(self, agent: Agent, text: str) -> None:
        self._post(_author(agent), text, public=False)

    def system(self, text: str) -> None:
        self._post({"id": "system", "role": "system"}, text)

    def _join(self, parts: tuple[str, ...]) -> str:
        return ("\n\n" if self.email else " ").join(part for part in parts if part)

    @staticmethod
    def _frame(*parts: str) -> str:
        return "\n\n".join(part for part in parts if part)

    def _post(self, author: dict, body: str, *, public: bool = True) -> None:
        self.messages.append(
            {
                "id": f"{self.values['ticket']}-m{len(self.messages) + 1}",
                "author": author,
                "public": public,
                "created_at": _iso(self.clock),
                "body": body.format_map(self.values),
            }
        )


def _values(rng: random.Random, plan: _Plan, ticket_id: str) -> dict:
    customer = plan.customer
    currency = "£" if customer.phone.startswith(("+44", "0")) else "$"
    mentioned = plan.created - timedelta(days=rng.randint(3, 16))
    return {
        "ticket": ticket_id,
        "first": customer.first,
        "full": customer.name,
        "email": customer.email,
        "phone": customer.phone,
        "card": rng.choice(CARDS),
        "order": f"SO-{rng.randint(40000, 89999)}",
        "invoice": f"INV-2026-{rng.randint(1000, 9999)}",
        "amount": f"{currency}{rng.choice(AMOUNTS)}",
        "plan": rng.choice(PLANS),
        "date": f"{mentioned.day} {mentioned:%B}",
        "ref": rng.randint(100000, 999999),
        "deadline": rng.choice(DEADLINES),
        "problem": plan.scenario.problem,
        "kb_url": plan.article.url if plan.article else "",
        "escalation_team": ESCALATION_TEAMS[plan.scenario.escalate_to],
        "prev_first": plan.responder.first,
        "next_first": plan.agent.first,
    }


def _first_reply(rng: random.Random, plan: _Plan) -> tuple[str, ...]:
    if not plan.polite:
        return (rng.choice(plan.scenario.curt), rng.choice(CURT_TAILS))
    ack = rng.choice(ACKS if plan.fast else LATE_ACKS)
    return (f"{ack} {rng.choice(OWNERSHIP)}", plan.pick(plan.scenario.asks))


def _open(rng: random.Random, thread: _Thread, plan: _Plan) -> str:
    """Post the customer's first message; return where a contact detail still has to go."""
    slot = ""
    if plan.contact:
        slots = ("signature", "opener", "detail") if thread.email else ("opener", "detail")
        slot = rng.choice(slots)
    extras = [rng.choice(CARD_LINES)] if plan.card else []
    if slot == "opener":
        extras.append(rng.choice(CONTACT_LINES))
    signature = PHONE_SIGNATURE if slot == "signature" else ""
    thread.customer(plan.pick(plan.scenario.openers), *extras, opening=True, signature=signature)
    return slot


def _reply_first(rng: random.Random, thread: _Thread, plan: _Plan) -> None:
    replied = plan.created + timedelta(minutes=plan.first_response_minutes)
    if thread.email and rng.random() < 0.35:
        thread.at(plan.created + timedelta(minutes=rng.uniform(0.2, 1.0)))
        thread.system(rng.choice(BUSY_ACKS if plan.pressure else AUTO_ACKS))
    if not plan.fast and rng.random() < 0.5:
        wait = plan.first_response_minutes * rng.uniform(0.4, 0.8)
        thread.at(plan.created + timedelta(minutes=wait))
        thread.customer(rng.choice(CHASERS if thread.email else CHAT_CHASERS), greet=False)
    thread.assign(plan.responder)
    if not thread.email and rng.random() < 0.4:
        thread.at(replied - timedelta(minutes=0.5))
        thread.system("{agent_first} joined the chat.")
    thread.at(replied)
    thread.agent(plan.responder, *_first_reply(rng, plan), polite=plan.polite)


def _hand_off(rng: random.Random, thread: _Thread, plan: _Plan) -> None:
    thread.wait()
    if plan.handoff == "full":
        summary = plan.pick(plan.scenario.summaries)
        thread.note(plan.responder, rng.choice(HANDOFF_PREFIXES) + summary)
    elif plan.handoff == "short":
        thread.note(plan.responder, rng.choice(SHORT_NOTES))
    thread.marks["handoff"] = thread.clock
    thread.wait()
    if plan.handoff == "full":
        thread.agent(plan.agent, rng.choice(WARM_INTROS))
        return
    thread.agent(plan.agent, rng.choice(COLD_INTROS), polite=plan.later_polite)
    thread.wait()
    thread.customer(rng.choice(REPEATS))


def _escalate(rng: random.Random, thread: _Thread, plan: _Plan) -> None:
    reason = plan.pick(plan.scenario.reasons)
    thorough = plan.polite or rng.random() < 0.3
    thread.wait()
    if thorough:
        thread.note(plan.agent, GOOD_ESCALATION_NOTE + plan.pick(plan.scenario.summaries))
    else:
        thread.note(plan.agent, rng.choice(POOR_ESCALATION_NOTES))
    thread.marks["escalation"] = thread.clock
    thread.escalations.append(
        {
            "at": _iso(thread.clock),
            "to": plan.scenario.escalate_to,
            "reason": reason if thorough else "customer chasing",
        }
    )
    thread.clock += timedelta(minutes=rng.uniform(1, 5))
    updates = ESCALATION_UPDATES if plan.polite else CURT_ESCALATION_UPDATES
    thread.agent(plan.agent, rng.choice(updates), polite=plan.polite)


def _ask_for_guidance(rng: random.Random, thread: _Thread, plan: _Plan) -> None:
    thread.wait()
    thread.note(plan.agent, rng.choice(GUIDANCE_NOTES))
    thread.clock += timedelta(minutes=rng.uniform(2, 20))
    thread.agent(plan.agent, rng.choice(HOLDING_REPLIES), polite=plan.later_polite)


def _drag_on(rng: random.Random, thread: _Thread, plan: _Plan) -> None:
    thread.wait(slow=True)
    thread.customer(rng.choice(NUDGES))
    thread.wait()
    updates = UPDATES if plan.later_polite else CURT_UPDATES
    thread.agent(plan.agent, rng.choice(updates), polite=plan.later_polite)


def _reopen(rng: random.Random, thread: _Thread, plan: _Plan) -> None:
    thread.wait()
    thread.agent(plan.agent, rng.choice(INTERIM_FIXES), polite=plan.later_polite)
    thread.wait(slow=True)
    thread.customer(rng.choice(REOPENS))
    thread.wait()
    acks = REOPEN_ACKS if plan.later_polite else CURT_REOPEN_ACKS
    thread.agent(plan.agent, rng.choice(acks), polite=plan.later_polite)
    thread.reopens = 1


def _resolve(rng: random.Random, thread: _Thread, plan: _Plan) -> None:
    thread.wait(slow=plan.drawn_out)
    parts = [plan.pick(plan.scenario.fixes)]
    if plan.promise:
        parts.append(rng.choice(PROMISES))
    if plan.article and plan.article.id == STALE_REFUND_ARTICLE:
        parts.append(rng.choice(STALE_REFUND_LINES))
    elif plan.article and plan.scenario.key == "refund":
        parts.append(CURRENT_REFUND_LINE)
    elif plan.article:
        parts.append(rng.choice(KB_LINES))
    thread.agent(plan.agent, *parts, polite=plan.later_polite)
    if len(thread.messages) < MAX_MESSAGES and rng.random() < 0.7:
        thread.wait()
        pleased = plan.mood in ("", "happy", "praise") and plan.later_polite
        thread.customer(rng.choice(HAPPY_CLOSINGS if pleased else UNHAPPY_CLOSINGS))


def _converse(rng: random.Random, plan: _Plan, values: dict) -> _Thread:
    thread = _Thread(rng, plan, values)
    if plan.evidence == "none":
        return thread
    slot = _open(rng, thread, plan)
    if plan.evidence == "no-agent":
        thread.assign(plan.agent)
        thread.at(plan.created + timedelta(minutes=plan.first_response_minutes))
        thread.wait()
        thread.customer(rng.choice(AFTER_CALL_LINES))
        return thread
    _reply_first(rng, thread, plan)
    if thread.email or slot == "detail" or rng.random() < 0.85:
        thread.wait()
        extra = rng.choice(CONTACT_LINES) if slot == "detail" else ""
        thread.customer(plan.pick(plan.scenario.details), extra)
    if plan.kind == REASSIGNED:
        _hand_off(rng, thread, plan)
    if plan.kind == ESCALATED:
        _escalate(rng, thread, plan)
    if plan.ambiguous_policy:
        _ask_for_guidance(rng, thread, plan)
    reopen_rate = 0.5 if plan.mood in ("agent", "product", "legal") else 0.05
    if plan.scenario.queue not in ("technical", "accounts"):
        reopen_rate = 0.0
    if thread.room(3) and rng.random() < reopen_rate:
        _reopen(rng, thread, plan)
    elif plan.drawn_out and thread.room(2):
        _drag_on(rng, thread, plan)
    _resolve(rng, thread, plan)
    return thread


def _tags(rng: random.Random, plan: _Plan) -> list[str]:
    tags = list(plan.scenario.tags)
    if plan.scenario.incident and rng.random() < 0.6:
        tags += ["product-bug", plan.scenario.incident]
    if plan.customer.segment == "enterprise" and rng.random() < 0.6:
        tags.append("vip")
    if plan.promise or plan.ambiguous_policy:
        tags.append("refund")
    if plan.mood == "legal":
        tags.append("legal-hold")
    if plan.evidence != "full":
        tags.append("phone-follow-up")
    return list(dict.fromkeys(tags))


def _priority(rng: random.Random, plan: _Plan) -> str:
    segment = plan.customer.segment
    if segment == "enterprise" and (plan.scenario.key == "sso" or plan.kind == ESCALATED):
        return "urgent"
    if segment == "enterprise" or (segment == "mid-market" and rng.random() < 0.4):
        return "high"
    if segment == "consumer" and rng.random() < 0.3:
        return "low"
    return "normal"


def _policies(rng: random.Random, plan: _Plan) -> list[dict]:
    if plan.ambiguous_policy:
        return [{"id": "refund-policy", "version": "2", "ambiguous": True}]
    if plan.scenario.policy and rng.random() < 0.7:
        policy_id, version = plan.scenario.policy
        return [{"id": policy_id, "version": version, "ambiguous": False}]
    return []


def _csat(rng: random.Random, plan: _Plan, values: dict, received: datetime) -> dict:
    values.update(agent_first=plan.agent.first)
    comment = rng.choice(CSAT_COMMENTS[plan.mood])
    if plan.mood == "agent" and plan.contact and rng.random() < 0.6:
        comment += CSAT_CONTACT_TAIL
    elif plan.mood != "legal" and rng.random() < 0.2:
        comment += "\n- {full}"
    return {
        "score": plan.csat,
        "scale": 5,
        "comment": comment.format_map(values),
        "received_at": _iso(received),
    }


def _event(rng: random.Random, plan: _Plan, ticket_id: str) -> dict:
    values = _values(rng, plan, ticket_id)
    thread = _converse(rng, plan, values)
    replied = plan.created + timedelta(minutes=plan.first_response_minutes)
    last = max(thread.clock, replied)
    solved = last + timedelta(
        minutes=rng.uniform(0.5, 3) if not thread.email else rng.uniform(2, 60)
    )
    if plan.evidence == "none":
        solved = replied + timedelta(minutes=rng.uniform(8, 40))
    occurred = {
        FIRST_RESPONSE: replied,
        REASSIGNED: thread.marks.get("handoff"),
        ESCALATED: thread.marks.get("escalation"),
        SOLVED: solved,
        CSAT_RECEIVED: solved + timedelta(minutes=rng.uniform(30, 1440)),
    }[plan.kind]
    ticket = {
        "id": ticket_id,
        "subject": plan.pick(plan.scenario.subjects).format_map(values),
        "status": "solved",
        "channel": plan.channel,
        "priority": _priority(rng, plan),
        "queue": plan.scenario.queue,
        "product_area": plan.scenario.product_area,
        "customer_segment": plan.customer.segment,
        "tags": _tags(rng, plan),
        "created_at": _iso(plan.created),
        "solved_at": _iso(solved),
        "agent": {"id": plan.agent.id, "name": plan.agent.name, "team": plan.agent.team},
        "requester": {
            "id": plan.customer.id,
            "name": plan.customer.name,
            "email": plan.customer.email,
        },
        "metrics": {
            "first_response_minutes": plan.first_response_minutes,
            "resolution_minutes": round((solved - plan.created).total_seconds() / 60),
            "reassignment_count": plan.reassignments,
            "reopens": thread.reopens,
        },
        "queue_backlog_per_agent": round(
            rng.uniform(30, 45) if plan.pressure else rng.uniform(3, 15), 1
        ),
    }
    if plan.kind == CSAT_RECEIVED:
        ticket["csat"] = _csat(rng, plan, values, occurred)
    ticket |= {
        "messages": thread.messages,
        "kb_articles": [plan.article.reference()] if plan.article else [],
        "policies": _policies(rng, plan),
        "escalations": thread.escalations,
    }
    event = {
        "event_id": f"demo-{ticket_id}-1",
        "source": SOURCE,
        "type": plan.kind,
        "occurred_at": _iso(occurred),
        "ticket": ticket,
    }
    if plan.kind == REASSIGNED:
        event["change"] = {"field": "assignee", "from": plan.responder.id, "to": plan.agent.id}
    return event


def generate(seed: int = 7, count: int = 100) -> list[dict]:
    """Return ``count`` demo events, one per resolved ticket, ordered by ``occurred_at``."""
    rng = random.Random(seed)
    plans = _plans(rng, count)
    events = [_event(rng, plan, str(10001 + index)) for index, plan in enumerate(plans)]
    return sorted(events, key=lambda event: (event["occurred_at"], event["event_id"]))


def _texts(ticket: dict) -> str:
    bodies = [message["body"] for message in ticket.get("messages", [])]
    comment = (ticket.get("csat") or {}).get("comment")
    return "\n".join([*bodies, comment] if comment else bodies)


def planted_pii(events: list[dict]) -> list[tuple[str, str, str]]:
    """Return ``(event_id, kind, value)`` for each customer PII value found in free text.

    Every value is planted from this module's banks (the requester's own name, email and phone,
    and the test card numbers), so the list is exact and also works on events read back from
    JSON Lines or passed through redaction. ``kind`` is one of email, phone, card or name; a
    name is reported both in full and as a bare first name when each occurs.
    """
    found: list[tuple[str, str, str]] = []
    for event in events:
        text = _texts(event["ticket"])
        customer = CUSTOMERS_BY_ID.get((event["ticket"].get("requester") or {}).get("id", ""))
        candidates = [("card", card) for card in CARDS]
        if customer:
            candidates += [("email", customer.email), ("phone", customer.phone)]
        found += [(event["event_id"], kind, value) for kind, value in candidates if value in text]
        if customer:
            for name in (customer.name, customer.first):
                if re.search(rf"\b{re.escape(name)}\b", text):
                    found.append((event["event_id"], "name", name))
    return found


def write_jsonl(events: list[dict], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for event in events:
            out.write(json.dumps(event, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "examples/demo-events.jsonl")
    demo = generate()
    write_jsonl(demo, target)
    print(f"wrote {len(demo)} events to {target}")
