"""A labelled set for redaction quality: support-message sentences with planted PII values,
and clean sentences that are easy to over-redact. Shared by the tests and the bench."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from domain.events import TicketEvent
from examples.demo_tickets import planted_pii
from redaction import Redacted, agent_names, customer_names, redact_text, redact_ticket_with_maps

EMAIL, PHONE, CARD, IBAN = "[EMAIL]", "[PHONE]", "[CARD]", "[IBAN]"
IP, NAME, ADDRESS, ID = "[IP_ADDRESS]", "[CUSTOMER_NAME]", "[ADDRESS]", "[ID_NUMBER]"


@dataclass(frozen=True)
class Case:
    text: str
    planted: tuple[tuple[str, str], ...] = ()
    names: tuple[str, ...] = ()


def pii(text: str, *planted: tuple[str, str], names: tuple[str, ...] = ()) -> Case:
    return Case(text, planted, names)


def clean(text: str, names: tuple[str, ...] = ("Maria Lopez",)) -> Case:
    return Case(text, (), names)


PII_CASES = (
    # emails
    pii("Please send the receipt to maria.lopez@example.org.", (EMAIL, "maria.lopez@example.org")),
    pii(
        "My login is j.hale+billing@corp.example.co.uk but invoices go to ap@example.com",
        (EMAIL, "j.hale+billing@corp.example.co.uk"),
        (EMAIL, "ap@example.com"),
    ),
    pii("Can you change the owner to KENJI_W@EXAMPLE.NET?", (EMAIL, "KENJI_W@EXAMPLE.NET")),
    pii("email: a.nwosu@mail.example.com, thanks", (EMAIL, "a.nwosu@mail.example.com")),
    pii("Reply to <felix.bergmann@example.de> please.", (EMAIL, "felix.bergmann@example.de")),
    pii(
        "I created a second account (chloe.martin2024@example.fr) by mistake.",
        (EMAIL, "chloe.martin2024@example.fr"),
    ),
    pii(
        "The reset link went to rajesh-iyer@sub.example.io instead of my work address.",
        (EMAIL, "rajesh-iyer@sub.example.io"),
    ),
    pii("cc: finance.team@example-corp.com", (EMAIL, "finance.team@example-corp.com")),
    pii(
        "Old address was megan.oconnell@example.ie, new one is m.oconnell@example.com.",
        (EMAIL, "megan.oconnell@example.ie"),
        (EMAIL, "m.oconnell@example.com"),
    ),
    pii("Contact: tobias.s@example.travel", (EMAIL, "tobias.s@example.travel")),
    pii(
        "Forwarding from aisha.bello@example.ng:\n> my order never came",
        (EMAIL, "aisha.bello@example.ng"),
    ),
    pii(
        "Ethan here, my address is ethan%w@example.com (yes, with the percent sign).",
        (EMAIL, "ethan%w@example.com"),
    ),
    pii("Sent from ingrid.solberg@example.no on my phone", (EMAIL, "ingrid.solberg@example.no")),
    pii(
        "Could you add naomi.f@example.com and samuel.adeyemi@example.com as admins?",
        (EMAIL, "naomi.f@example.com"),
        (EMAIL, "samuel.adeyemi@example.com"),
    ),
    pii("Billing contact -> yuki.tanaka@example.jp", (EMAIL, "yuki.tanaka@example.jp")),
    pii("the user olivia.pearce@example.com gets error 403", (EMAIL, "olivia.pearce@example.com")),
    pii("Username hamza.q@example.pk, account created 2021.", (EMAIL, "hamza.q@example.pk")),
    pii("(beatriz.costa@example.com.br)", (EMAIL, "beatriz.costa@example.com.br")),
    # phones
    pii("Call me on +44 20 7946 0958 any time after 2pm.", (PHONE, "+44 20 7946 0958")),
    pii("My cell is +1 415 555 0134.", (PHONE, "+1 415 555 0134")),
    pii("Our Berlin office: +49 30 901820", (PHONE, "+49 30 901820")),
    pii("You can reach me at (415) 555-0199 until 6.", (PHONE, "(415) 555-0199")),
    pii("Phone 415-555-0199, ext 12", (PHONE, "415-555-0199")),
    pii(
        "Landline 020 7946 0321, mobile 07700 900123.",
        (PHONE, "020 7946 0321"),
        (PHONE, "07700 900123"),
    ),
    pii("Manchester office is 0161 496 0227.", (PHONE, "0161 496 0227")),
    pii("Text me on +44 7700 900412 when it ships.", (PHONE, "+44 7700 900412")),
    pii("Best number: +1 (312) 555-0163", (PHONE, "+1 (312) 555-0163")),
    pii("Leeds number 0113 496 0935 is the front desk", (PHONE, "0113 496 0935")),
    pii("Our AP team is on (212) 555-0147.", (PHONE, "(212) 555-0147")),
    pii("Call 312.555.0110 or 646.555.0143", (PHONE, "312.555.0110"), (PHONE, "646.555.0143")),
    pii("Paris: +33 1 42 68 53 00", (PHONE, "+33 1 42 68 53 00")),
    pii("Sydney team +61 2 9374 4000 will pick up.", (PHONE, "+61 2 9374 4000")),
    pii("Dublin desk: +353 1 234 5678", (PHONE, "+353 1 234 5678")),
    pii(
        "Edinburgh 0131 496 0018 / Bristol 0117 496 0123",
        (PHONE, "0131 496 0018"),
        (PHONE, "0117 496 0123"),
    ),
    pii("Toll free 1-800-555-0199 didn't help.", (PHONE, "1-800-555-0199")),
    pii("From abroad dial 0044 20 7946 0111.", (PHONE, "0044 20 7946 0111")),
    pii("whatsapp +442079460123", (PHONE, "+442079460123")),
    pii("mobile 07700 900 456", (PHONE, "07700 900 456")),
    pii("Call +1-646-555-0182 and ask for me.", (PHONE, "+1-646-555-0182")),
    pii("call me on 02079460958", (PHONE, "02079460958")),
    pii("my phone number is 4155550142", (PHONE, "4155550142")),
    pii("Tokyo: +81 3-1234-5678", (PHONE, "+81 3-1234-5678")),
    pii("Madrid office +34 912 345 678, ask for accounts.", (PHONE, "+34 912 345 678")),
    pii(
        "Thanks,\nOmar\n(206) 555-0176",
        (PHONE, "(206) 555-0176"),
        (NAME, "Omar"),
        names=("Omar Haddad",),
    ),
    # cards
    pii("The card is 4111 1111 1111 1111 in case you need it.", (CARD, "4111 1111 1111 1111")),
    pii("Card used was 5555 5555 5555 4444.", (CARD, "5555 5555 5555 4444")),
    pii("Charge it to 4012 8888 8888 1881 exp 12/27", (CARD, "4012 8888 8888 1881")),
    pii("Amex 3782 822463 10005, CVV I'd rather not say", (CARD, "3782 822463 10005")),
    pii("my other amex: 3714 496353 98431", (CARD, "3714 496353 98431")),
    pii("Discover 6011 1111 1111 1117 was declined", (CARD, "6011 1111 1111 1117")),
    pii("JCB 3530 1113 3330 0000.", (CARD, "3530 1113 3330 0000")),
    pii("try 5105-1051-0510-5100 instead", (CARD, "5105-1051-0510-5100")),
    pii("card number 4242424242424242", (CARD, "4242424242424242")),
    pii("New Mastercard 2223 0031 2200 3222 should be on file.", (CARD, "2223 0031 2200 3222")),
    pii("Diners 3622 720627 1667", (CARD, "3622 720627 1667")),
    pii("UnionPay card 6200 0000 0000 0005 was charged twice", (CARD, "6200 0000 0000 0005")),
    pii("refund to 4000 0566 5566 5556 please", (CARD, "4000 0566 5566 5556")),
    pii("Long card 6250947000000000019 from my bank", (CARD, "6250947000000000019")),
    # IBANs
    pii("Send the refund to GB82 WEST 1234 5698 7654 32.", (IBAN, "GB82 WEST 1234 5698 7654 32")),
    pii("IBAN: DE89370400440532013000", (IBAN, "DE89370400440532013000")),
    pii(
        "Our IBAN is FR14 2004 1010 0505 0001 3M02 606, BIC BNPAFRPP",
        (IBAN, "FR14 2004 1010 0505 0001 3M02 606"),
    ),
    pii("NL91 ABNA 0417 1643 00 is the company account", (IBAN, "NL91 ABNA 0417 1643 00")),
    pii("Pay ES91 2100 0418 4502 0005 1332 please", (IBAN, "ES91 2100 0418 4502 0005 1332")),
    pii("conto IT60 X054 2811 1010 0000 0123 456", (IBAN, "IT60 X054 2811 1010 0000 0123 456")),
    pii("Belgian account BE68539007547034.", (IBAN, "BE68539007547034")),
    pii("CH93 0076 2011 6238 5295 7 (Zurich)", (IBAN, "CH93 0076 2011 6238 5295 7")),
    pii("IE29 AIBK 9311 5212 3456 78 for the refund", (IBAN, "IE29 AIBK 9311 5212 3456 78")),
    pii("AT61 1904 3002 3457 3201", (IBAN, "AT61 1904 3002 3457 3201")),
    pii("PL61 1090 1014 0000 0712 1981 2874 is new", (IBAN, "PL61 1090 1014 0000 0712 1981 2874")),
    pii("Norway: NO93 8601 1117 947", (IBAN, "NO93 8601 1117 947")),
    # IP addresses
    pii("Our office IP is 203.0.113.42, please allowlist it.", (IP, "203.0.113.42")),
    pii(
        "Login attempts came from 198.51.100.7 and 192.168.1.254",
        (IP, "198.51.100.7"),
        (IP, "192.168.1.254"),
    ),
    pii("VPN gateway 10.0.0.12 drops the SSO callback", (IP, "10.0.0.12")),
    pii("ip=172.16.254.3; port=443", (IP, "172.16.254.3")),
    pii("The request came from 2001:db8::1.", (IP, "2001:db8::1")),
    pii(
        "Full address 2001:0db8:85a3:0000:0000:8a2e:0370:7334",
        (IP, "2001:0db8:85a3:0000:0000:8a2e:0370:7334"),
    ),
    pii("link-local fe80::1ff:fe23:4567:890a shows in the log", (IP, "fe80::1ff:fe23:4567:890a")),
    pii("Blocked: 2001:db8:0:0:1:0:0:1", (IP, "2001:db8:0:0:1:0:0:1")),
    pii("mapped ::ffff:192.0.2.128 in the audit trail", (IP, "::ffff:192.0.2.128")),
    pii("DNS 2606:4700:4700::1111 resolves fine", (IP, "2606:4700:4700::1111")),
    pii("our static IP (81.2.69.160) changed", (IP, "81.2.69.160")),
    # customer names
    pii("Hi Maria, thanks for your patience.", (NAME, "Maria"), names=("Maria Lopez",)),
    pii("Thanks,\nMaria Lopez", (NAME, "Maria Lopez"), names=("Maria Lopez",)),
    pii("Maria's invoice is attached.", (NAME, "Maria"), names=("Maria Lopez",)),
    pii("Dear Ms Lopez, apologies for the delay.", (NAME, "Lopez"), names=("Maria Lopez",)),
    pii("CUSTOMER: MARIA LOPEZ", (NAME, "MARIA LOPEZ"), names=("Maria Lopez",)),
    pii("Hello Jordan, I will check now.", (NAME, "Jordan"), names=("Jordan Hale",)),
    pii("Regards,\nJordan Hale", (NAME, "Jordan Hale"), names=("Jordan Hale",)),
    pii("Hi Lucia, sorry about the wait.", (NAME, "Lucia"), names=("Lucía Fernández",)),
    pii(
        "Lucía Fernández called earlier today.",
        (NAME, "Lucía Fernández"),
        names=("Lucía Fernández",),
    ),
    pii("Ms O'Connell asked for a callback.", (NAME, "O'Connell"), names=("Megan O'Connell",)),
    pii(
        "Megan O\u2019Connell wrote back.",
        (NAME, "Megan O\u2019Connell"),
        names=("Megan O'Connell",),
    ),
    pii("Mr Al-Sayed is the account owner.", (NAME, "Al-Sayed"), names=("Mohammed Al-Sayed",)),
    pii("Will asked whether I will call him.", (NAME, "Will"), names=("Will Turner",)),
    pii(
        "Thanks Chloé, and thanks Chloe again.",
        (NAME, "Chloé"),
        (NAME, "Chloe"),
        names=("Chloé Martin",),
    ),
    pii(
        "Fatima El Idrissi (owner) approved it.",
        (NAME, "Fatima El Idrissi"),
        names=("Fatima El Idrissi",),
    ),
    pii("Per Kenji: the export is still failing.", (NAME, "Kenji"), names=("Kenji Watanabe",)),
    pii("Watanabe-san confirmed.", (NAME, "Watanabe"), names=("Kenji Watanabe",)),
    pii(
        "Hi Rajesh and Felix,",
        (NAME, "Rajesh"),
        (NAME, "Felix"),
        names=("Rajesh Iyer", "Felix Bergmann"),
    ),
    pii("Siobhan Kelly's order", (NAME, "Siobhan Kelly"), names=("Siobhan Kelly",)),
    pii("- Ingrid", (NAME, "Ingrid"), names=("Ingrid Solberg",)),
    pii("Thanks Dr Mensah.", (NAME, "Mensah"), names=("Dr Kwame Mensah",)),
    pii(
        "Hi Mei, Chen here is your surname on file?",
        (NAME, "Mei"),
        (NAME, "Chen"),
        names=("Mei Chen",),
    ),
    # addresses
    pii(
        "Please ship to 221B Baker Street, London NW1 6XE.",
        (ADDRESS, "221B Baker Street, London NW1 6XE"),
    ),
    pii("Our office moved to 10 Downing St last year.", (ADDRESS, "10 Downing St")),
    pii(
        "Invoice address: 1600 Pennsylvania Avenue NW, Washington, DC 20500",
        (ADDRESS, "1600 Pennsylvania Avenue NW, Washington, DC 20500"),
    ),
    pii(
        "I live at 742 Evergreen Terrace and the parcel never came.",
        (ADDRESS, "742 Evergreen Terrace"),
    ),
    pii(
        "Bill to 500 Market Street, San Francisco, CA 94103",
        (ADDRESS, "500 Market Street, San Francisco, CA 94103"),
    ),
    pii(
        "Deliver to 12 High Street, London SW1A 1AA please",
        (ADDRESS, "12 High Street, London SW1A 1AA"),
    ),
    pii("The box was left at 42 Wallaby Way.", (ADDRESS, "42 Wallaby Way")),
    pii("New HQ is 350 Fifth Avenue, suite on floor 21.", (ADDRESS, "350 Fifth Avenue")),
    pii("Return address 77 Mill Lane, Leeds LS1 4AP", (ADDRESS, "77 Mill Lane, Leeds LS1 4AP")),
    pii(
        "3 Church Road, Manchester M1 1AE is our warehouse",
        (ADDRESS, "3 Church Road, Manchester M1 1AE"),
    ),
    pii("Send it to 1200 Ocean Blvd, Apt 4B instead.", (ADDRESS, "1200 Ocean Blvd, Apt 4B")),
    pii("Neighbour at 9 Rosewood Close took it in.", (ADDRESS, "9 Rosewood Close")),
    pii("Address:\n45 Oak Dr.\nAustin", (ADDRESS, "45 Oak Dr.")),
    pii("Our postcode is EH1 1YZ if that helps the courier.", (ADDRESS, "EH1 1YZ")),
    pii("Flat 2, 27 Kings Crescent", (ADDRESS, "27 Kings Crescent")),
    pii("It was delivered to 18 St Mary's Road by mistake.", (ADDRESS, "18 St Mary's Road")),
    # government ids
    pii("My SSN is 123-45-6789 if you need to verify.", (ID, "123-45-6789")),
    pii("ssn 078-05-1120", (ID, "078-05-1120")),
    pii("Tax form shows 219-09-9999.", (ID, "219-09-9999")),
    pii("SSN: 536 22 1234", (ID, "536 22 1234")),
    pii("National Insurance number QQ 12 34 56 C.", (ID, "QQ 12 34 56 C")),
    pii("NI number QQ123456C", (ID, "QQ123456C")),
    pii("my NINO is AB 12 34 56 C", (ID, "AB 12 34 56 C")),
    pii("NI: JG103759A", (ID, "JG103759A")),
    pii("NY 78 90 12 D is on the payroll form", (ID, "NY 78 90 12 D")),
    pii("NINO CE123456B for the payslip", (ID, "CE123456B")),
    # formats seen in the wild
    pii("UK office: +44 (0)20 7946 0958", (PHONE, "+44 (0)20 7946 0958")),
    pii("Reach me (+44 7700 900123) after six.", (PHONE, "+44 7700 900123")),
    pii("(+44 20 7946 0958) is the office line.", (PHONE, "+44 20 7946 0958")),
    pii("Ph.+1 415 555 0199 is my cell.", (PHONE, "+1 415 555 0199")),
    pii("Account number +44 161 496 0000 is the one on file.", (PHONE, "+44 161 496 0000")),
    pii("ref +33 1 23 45 67 89 for the Paris desk", (PHONE, "+33 1 23 45 67 89")),
    pii("Click to call tel:+14155550134 from the signature", (PHONE, "+14155550134")),
    pii("Switchboard 020 7946 0958 ext. 204", (PHONE, "020 7946 0958")),
    pii("(020) 7946 0958 is my work line", (PHONE, "(020) 7946 0958")),
    pii("ok it's 07700900123", (PHONE, "07700900123")),
    pii("mailto:jo.bloggs@example.com was in the footer", (EMAIL, "jo.bloggs@example.com")),
    pii("Webhook target [2001:db8::1]:443 times out", (IP, "2001:db8::1")),
    pii("Proxy 203.0.113.42:8080 blocks the upload", (IP, "203.0.113.42")),
    pii(
        "Mail it to 9 Elm Street, Springfield, CA 94103-1234",
        (ADDRESS, "9 Elm Street, Springfield, CA 94103-1234"),
    ),
    pii("SSN 123456789 (no dashes)", (ID, "123456789")),
    pii("iban gb82 west 1234 5698 7654 32", (IBAN, "gb82 west 1234 5698 7654 32")),
    # mixed
    pii(
        "Hi, this is Amara Nwosu (amara@example.org, +44 20 7946 0958). Card 4111 1111 1111 "
        "1111 was charged twice.",
        (NAME, "Amara Nwosu"),
        (EMAIL, "amara@example.org"),
        (PHONE, "+44 20 7946 0958"),
        (CARD, "4111 1111 1111 1111"),
        names=("Amara Nwosu",),
    ),
    pii(
        "Best regards,\nTobias Schmidt\n0161 496 0227\n14 Elm Grove, Manchester M4 3AB",
        (NAME, "Tobias Schmidt"),
        (PHONE, "0161 496 0227"),
        (ADDRESS, "14 Elm Grove, Manchester M4 3AB"),
        names=("Tobias Schmidt",),
    ),
    pii(
        "Our server at 203.0.113.9 rejects the webhook; ping me at ops@example.net.",
        (IP, "203.0.113.9"),
        (EMAIL, "ops@example.net"),
    ),
)

CLEAN_CASES = (
    clean("Your order SO-48213 shipped on 2026-10-05 and should arrive Friday."),
    clean("Invoice INV-2026-4821 for £1,249.00 is attached."),
    clean("The refund of $89.99 was issued, reference RF-482913."),
    clean("We'll call you at 14:30 on 12/10/2026 as agreed."),
    clean("Please update to version 2.14.1 or later; 5.14.0 has the crash fix."),
    clean("Ticket #10001 was merged into #10047."),
    clean("I will update you by tomorrow morning, and we will confirm by email."),
    clean("I will look into it", names=("Will Turner",)),
    clean("I'll mark this as solved once you confirm.", names=("Mark Evans",)),
    clean("See https://help.example.com/kb/27-reset-two-factor for the steps."),
    clean("This article explains it: https://help.example.com/kb/64-refunds-and-cancellations"),
    clean("Order number 4829103756 is on its way."),
    clean("Your tracking number is 1Z999AA10123456784."),
    clean("iPhone 12, iOS 17.6, app version 5.14.0."),
    clean("app version 3.1.4.1 crashes on launch"),
    clean("Build 10.0.19045.3570 of Windows is supported."),
    clean("Priya Raman from our billing team will follow up."),
    clean("Thanks for your help, Daniel."),
    clean("Kind regards,\nLeah Kim\nCustomer Support"),
    clean("The export limit is 10,000 rows per file."),
    clean("You were charged $1,188.00 on 3 September for the Team annual plan."),
    clean("Refunds take 5-10 business days to appear."),
    clean("The card ends in 4417."),
    clean("Your 2FA code 482913 expires in 10 minutes."),
    clean("Our records go back to 2019 and 2020."),
    clean("The error code is 0x80070005 at 09:41:22 UTC."),
    clean("Timestamp 2026-10-05T14:30:00Z in the audit log."),
    clean("Case 00123456 has been escalated to tier 2."),
    clean("The invoice total is 1 234 567 rows, wait, I mean 1,234,567 rows exported."),
    clean("The VAT number is GB 293 7716 52 per the order form."),
    clean("Please keep the 3 Google Drive folders shared with the team."),
    clean("Go to Settings > Billing > Payment methods."),
    clean("We have 2 seats on the Pro monthly plan and 14 on Team annual."),
    clean("The renewal on 15/09/2026 was for 249.00 EUR."),
    clean("Reference RF-123456789 was sent to your bank."),
    clean("Price went from £49.00 to £89.00 per seat per month."),
    clean("Your account ID is acct_1234567890 in the API dashboard."),
    clean("PO number 4500012345 must be on the invoice."),
    clean("Step 3 of 7: reconnect the integration."),
    clean("Okta SAML response signature invalid after certificate rotation."),
    clean("SKU 100-200-3000 is out of stock."),
    clean("Order 2026-0001-7788 was cancelled."),
    clean("Our API rate limit is 1000 requests per 60 seconds."),
    clean("Sorry, Marcus Webb here from specialist support."),
    clean("Pull request 12345 fixes it in release 2026.10.1."),
    clean("Lot 450 of 1200 shipped from the Leeds warehouse."),
    clean("It happened between 9:00 and 17:00 on 1 October 2026."),
    clean("Batch 202610051234 failed to import."),
    clean("Delivery is booked for 05.10.2026."),
    clean("The manual is ISBN 978-3-16-148410-0."),
    clean("Request id 123e4567-e89b-12d3-a456-426614174000 failed."),
    clean("Chrome 118.0.5993.88 on macOS 14.4.1"),
    clean("Order #123-456-7890 is delayed."),
    clean("Rose gold is out of stock until November.", names=("Rose Hill",)),
)

CASES = PII_CASES + CLEAN_CASES

RedactFn = Callable[[str, tuple[str, ...]], Redacted]


@dataclass(frozen=True)
class Score:
    planted: int
    found: int
    spans: int
    true_spans: int
    misses: tuple[tuple[str, str, str], ...]
    false_spans: tuple[tuple[str, str], ...]

    @property
    def recall(self) -> float:
        return self.found / self.planted if self.planted else 1.0

    @property
    def precision(self) -> float:
        return self.true_spans / self.spans if self.spans else 1.0


def occurrences(text: str, value: str) -> list[tuple[int, int]]:
    found, start = [], text.find(value)
    while start >= 0:
        found.append((start, start + len(value)))
        start = text.find(value, start + 1)
    return found


def score_redacted(groups: Iterable[tuple[Sequence[Redacted], Iterable[tuple[str, str]]]]) -> Score:
    """Score texts grouped with the values planted in them (one group per case or ticket).

    Recall: planted values that occur in the group and whose every occurrence lies inside one
    span of their label. Precision: spans that overlap a planted value, over all spans."""
    planted = found = spans = true_spans = 0
    misses: list[tuple[str, str, str]] = []
    false_spans: list[tuple[str, str]] = []
    for texts, values in groups:
        values = list(values)
        for label, value in values:
            planted += 1
            if _covered(texts, label, value):
                found += 1
            else:
                misses.append((label, value, " | ".join(r.text for r in texts)))
        for redacted in texts:
            located = [occ for _, value in values for occ in occurrences(redacted.source, value)]
            for span in redacted.spans:
                spans += 1
                if any(span.source_start < e and s < span.source_end for s, e in located):
                    true_spans += 1
                else:
                    hidden = redacted.source[span.source_start : span.source_end]
                    false_spans.append((span.label, hidden))
    return Score(planted, found, spans, true_spans, tuple(misses), tuple(false_spans))


def _covered(texts: Sequence[Redacted], label: str, value: str) -> bool:
    where = [(r, occ) for r in texts for occ in occurrences(r.source, value)]
    return bool(where) and all(
        any(s.label == label and s.source_start <= a and b <= s.source_end for s in r.spans)
        for r, (a, b) in where
    )


def score_cases(redact_fn: RedactFn, cases: Iterable[Case] = CASES) -> Score:
    return score_redacted(([redact_fn(case.text, case.names)], case.planted) for case in cases)


KIND_LABELS = {"email": EMAIL, "phone": PHONE, "card": CARD, "name": NAME}


def score_demo(events: list[dict]) -> Score:
    """Score the demo corpus against `planted_pii`: one group per ticket (messages + CSAT)."""
    planted: dict[str, list[tuple[str, str]]] = {}
    for event_id, kind, value in planted_pii(events):
        planted.setdefault(event_id, []).append((KIND_LABELS[kind], value))
    groups = []
    for raw in events:
        ticket = TicketEvent.model_validate(raw).ticket
        texts = list(redact_ticket_with_maps(ticket)[1].values())
        if ticket.csat and ticket.csat.comment:
            names, keep = customer_names(ticket), agent_names(ticket)
            texts.append(redact_text(ticket.csat.comment, names, keep=keep))
        groups.append((texts, planted.get(raw["event_id"], [])))
    return score_redacted(groups)
