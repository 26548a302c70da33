"""The demo PMS's starting books: one data-driven place, no randomness.

The firm is the demo solution's Harbour & Vale (emulator/demo_solution): the same people, clients,
suppliers and matters, keyed by the `pmsReference` attribute values the Operate seed carries
(`PMS-260101` ...). Every date is an offset in days before the clock's "today" when the books are
(re)seeded, so invoices always sit in every ageing bucket, whatever the clock says.

Each matter's billed fees (net of VAT, issued invoices) equal the `actualFees` attribute on the
Operate side, so a widget showing PMS figures agrees with the work item. Amounts are in pence.
"""

from __future__ import annotations


def person(n: int) -> str:
    """An Operate ODS person id from the demo solution (`1a000000-...-0000000000NN`)."""
    return f"1a000000-0000-4000-8000-{n:012d}"


def org(n: int) -> str:
    return f"2b000000-0000-4000-8000-{n:012d}"


def matter(n: int) -> str:
    return f"3c000000-0000-4000-8000-{n:012d}"


def invoice(n: int) -> str:
    return f"6f000000-0000-4000-8000-{n:012d}"


def payment_request(n: int) -> str:
    return f"5e000000-0000-4000-8000-{n:012d}"


# fmt: off
# code, name, grade, hourly rate, Operate ODS id, Operate user name
FEE_EARNERS = (
    ("PS", "Priya Shah", "Partner", 32500, person(1), "priya.shah"),
    ("DO", "Daniel Okafor", "Associate", 22000, person(2), "daniel.okafor"),
    ("TB", "Tom Becker", "Paralegal", 12000, person(4), "tom.becker"),
)

# client id (the Operate people's `reference` where they have one), name, kind, Operate ODS id
CLIENTS = (
    ("CLI-0001", "Margaret Ellison", "person", person(5)),
    ("CLI-0002", "Owen Pritchard", "person", person(6)),
    ("CLI-0003", "Fiona Tulloch", "person", person(7)),
    ("CLI-0004", "Northgate Logistics", "organisation", org(1)),
    ("CLI-0005", "Brightwater Foods", "organisation", org(2)),
    ("CLI-0006", "Kestrel Software", "organisation", org(3)),
)

# supplier id, name, category, VAT number, Operate ODS id (suppliers are mastered here), payment terms (days)
SUPPLIERS = (
    ("SUP-0001", "Redpost Couriers", "courier", "GB251907446", org(4), 30),
    ("SUP-0002", "Ashworth Chambers", "counsel", "GB486220915", org(5), 30),
    ("SUP-0003", "Clearview Property Searches", "search-provider", "GB139874260", org(6), 14),
    ("SUP-0004", "HM Land Registry", "registry", None, None, 0),
    ("SUP-0005", "HM Courts & Tribunals Service", "court", None, None, 0),
)

# reference, Operate work item, title, client, fee earner, billing, priority, estimate, status, opened (days ago)
MATTERS = (
    ("PMS-260101", matter(1), "Estate of Arthur Ellison (deceased) - probate",
     "CLI-0001", "PS", "Hourly rates", 6, 450000, "open", 95),
    ("PMS-260102", matter(2), "Pritchard - purchase of 14 Mill Lane, Harrogate",
     "CLI-0002", "DO", "Fixed fee", 7, 145000, "open", 88),
    ("PMS-260103", matter(3), "Northgate Logistics - lease renewal, Unit 7 Airedale Trade Park",
     "CLI-0004", "PS", "Hourly rates", 5, 800000, "open", 140),
    ("PMS-260104", matter(4), "Northgate Logistics v Carrow Haulage - debt recovery",
     "CLI-0004", "PS", "Hourly rates", 8, 1500000, "open", 180),
    ("PMS-260105", matter(5), "Brightwater Foods - supplier framework agreement",
     "CLI-0005", "DO", "Fixed fee", 5, 600000, "open", 120),
    ("PMS-260106", matter(6), "Tulloch - financial remedy proceedings",
     "CLI-0003", "PS", "Hourly rates", 9, 1200000, "open", 110),
    ("PMS-260107", matter(7), "Kestrel Software - SaaS customer terms update",
     "CLI-0006", "DO", "Fixed fee", 4, 350000, "open", 60),
    ("PMS-260108", matter(8), "Ellison - lasting powers of attorney",
     "CLI-0001", "DO", "Fixed fee", 3, 90000, "closed", 200),
    ("PMS-260109", matter(9), "Brightwater Foods - trade mark opposition (BRIGHTWAVE)",
     "CLI-0005", "PS", "Hourly rates", 6, 500000, "closed", 230),
)

# invoice, matter, Operate invoice, net, VAT, issued (days ago), due (days ago; negative = not yet due),
# receipts [(amount, days ago, reference)], cancelled, narrative.
# Outstanding as seeded, by due date: 0-30: 40029 (not yet due), 40031, 40033; 31-60: 40025, 40027 (part-paid);
# 61-90: 40024; 90+: 40012 (part-paid), 40019 (part-paid).
INVOICES = (
    ("PMS-INV-40010", "PMS-260109", None, 250000, 50000, 215, 185, ((300000, 180, "BACS BRIGHTWATER 8812"),),
     False, "Opposition: notice and statement of grounds"),
    ("PMS-INV-40012", "PMS-260104", None, 300000, 60000, 150, 120, ((150000, 95, "BACS NORTHGATE 2231"),),
     False, "Debt recovery: investigation and letter before claim"),
    ("PMS-INV-40015", "PMS-260108", None, 90000, 18000, 170, 140, ((108000, 150, "CARD ELLISON"),),
     False, "Lasting powers of attorney (fixed fee)"),
    ("PMS-INV-40018", "PMS-260105", None, 300000, 60000, 100, 70, ((360000, 72, "BACS BRIGHTWATER 9034"),),
     False, "Framework agreement: first stage (fixed fee)"),
    ("PMS-INV-40019", "PMS-260109", None, 225000, 45000, 130, 100, ((70000, 80, "BACS BRIGHTWATER 9101"),),
     False, "Opposition: evidence rounds and coexistence agreement"),
    ("PMS-INV-40020", "PMS-260106", None, 50000, 10000, 90, 60, (),
     True, "Raised in error (cancelled)"),
    ("PMS-INV-40021", "PMS-260103", None, 140000, 28000, 110, 80, ((168000, 85, "BACS NORTHGATE 2190"),),
     False, "Lease renewal: initial advice"),
    ("PMS-INV-40024", "PMS-260104", None, 220000, 44000, 100, 70, (),
     False, "Debt recovery: counsel's advice and particulars"),
    ("PMS-INV-40025", "PMS-260106", None, 310000, 62000, 75, 45, (),
     False, "Financial remedy: first appointment preparation"),
    ("PMS-INV-40027", "PMS-260101", invoice(2), 185000, 37000, 70, 40, ((100000, 30, "CHQ 100214 ELLISON"),),
     False, "Interim invoice - estate administration"),
    ("PMS-INV-40029", "PMS-260102", None, 60000, 12000, 20, -10, (),
     False, "Purchase of 14 Mill Lane: searches and enquiries stage"),
    ("PMS-INV-40030", "PMS-260107", None, 90000, 18000, 50, 20, ((108000, 18, "BACS KESTREL 0042"),),
     False, "SaaS terms update (fixed fee)"),
    ("PMS-INV-40031", "PMS-260105", invoice(1), 300000, 60000, 35, 5, (),
     False, "Interim invoice - supplier framework agreement"),
    ("PMS-INV-40033", "PMS-260103", None, 100000, 20000, 50, 20, (),
     False, "Lease renewal: heads of terms"),
)

# matter, fee earner, minutes, days ago, narrative, billed on invoice (None = unbilled WIP)
TIME_ENTRIES = (
    ("PMS-260101", "PS", 240, 80, "Taking instructions from the executors; reviewing the will", "PMS-INV-40027"),
    ("PMS-260101", "TB", 300, 75, "Registering the death with asset holders", "PMS-INV-40027"),
    ("PMS-260101", "PS", 90, 12, "Reviewing will and codicil; letter to executors", None),
    ("PMS-260101", "TB", 180, 9, "Collating the asset schedule for the IHT400", None),
    ("PMS-260101", "TB", 120, 5, "Bank and building society valuation letters", None),
    ("PMS-260101", "PS", 48, 2, "Call with Mrs Ellison about the estate accounts", None),
    ("PMS-260102", "DO", 60, 15, "Reviewing the contract pack and title", None),
    ("PMS-260102", "TB", 30, 14, "Ordering official copies from HM Land Registry", None),
    ("PMS-260102", "DO", 42, 8, "Raising pre-contract enquiries", None),
    ("PMS-260103", "PS", 120, 6, "Reviewing the landlord's draft heads of terms", None),
    ("PMS-260103", "DO", 90, 4, "Preparing a schedule of condition", None),
    ("PMS-260104", "PS", 150, 28, "Drafting letter before claim", None),
    ("PMS-260104", "DO", 240, 10, "Preparing particulars of claim", None),
    ("PMS-260104", "PS", 66, 3, "Reviewing counsel's advice on quantum", None),
    ("PMS-260105", "DO", 180, 7, "Negotiating framework terms with packaging suppliers", None),
    ("PMS-260106", "PS", 102, 11, "Preparing Form E", None),
    ("PMS-260106", "DO", 210, 6, "Collating financial disclosure", None),
    ("PMS-260106", "TB", 96, 1, "Schedule of assets and liabilities", None),
    ("PMS-260107", "DO", 72, 3, "Updating the data processing addendum", None),
)

# matter, supplier, description, net, VAT, fee earner, incurred (days ago), paid (days ago, reference) or None,
# billed on invoice or None
DISBURSEMENTS = (
    ("PMS-260109", "SUP-0002", "Counsel's opinion on likelihood of confusion", 120000, 24000, "PS", 220,
     (200, "BACS ASHWORTH 5521"), "PMS-INV-40010"),
    ("PMS-260101", "SUP-0005", "Probate application fee", 30000, 0, "PS", 20, (20, "CARD HMCTS 77120"), None),
    ("PMS-260102", "SUP-0004", "Official copies of the register and title plan", 700, 0, "DO", 14,
     (14, "LR PORTAL 0031"), None),
    ("PMS-260104", "SUP-0001", "Courier: documents to counsel", 3850, 770, "PS", 12, None, None),
    ("PMS-260104", "SUP-0005", "County Court claim issue fee", 45500, 0, "PS", 9, (9, "CARD HMCTS 77188"), None),
    ("PMS-260106", "SUP-0001", "Courier: Form E bundle to the other side", 2400, 480, "PS", 3, None, None),
)

# Approved payment requests in the Operate seed, posted here as Operate's payment-approved plan would have:
# matter, Operate payment request, supplier, description (its title), net, VAT, fee earner, incurred (days ago;
# the Operate seed's createdDate is the same day), supplier invoice reference. Ids follow DISBURSEMENTS'
# (PMS-DSB-30007 is PR-00002's `pmsDisbursementId` in the Operate seed).
OPERATE_DISBURSEMENTS = (
    ("PMS-260104", payment_request(2), "SUP-0002", "Counsel's fee - advice on quantum", 175000, 35000, "PS", 10,
     "AC/2026/0142"),
)

# The official demo's ledger (POST /api/matter/{ref}/financials): reference, [(delta, days ago)]
FINANCIALS = (("PMS-260101", ((50000, 20), (50000, 6))),)
# fmt: on

FIRST_NEW_MATTER = 260110
FIRST_NEW_INVOICE = 40034
FIRST_TIME_ENTRY = 50001
FIRST_DISBURSEMENT = 30001
