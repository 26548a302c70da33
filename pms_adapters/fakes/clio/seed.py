"""A firm's records for the fake Clio, generated the same way every time from a seed value.

Large enough to exercise paging (`matters=10_000`), small by default for the demo. The mix is what a
sync has to cope with (§12 of the Clio reference): matters over twelve years (so some fall outside a
ten-year window), every status, stages per practice area, clients with a mobile phone, only a work
phone or no phone at all, a few matters without a responsible attorney or a practice area.
"""

from __future__ import annotations

import hashlib
import random
from datetime import datetime, timedelta, timezone
from typing import Any

UTC = timezone.utc  # datetime.UTC is Python 3.11+

DEFAULT_MATTERS = 60
FIRST_ID = {
    "users": 340_000_001,
    "practice_areas": 51_000_001,
    "matter_stages": 72_000_001,
    "contacts": 2_150_000_001,
    "matters": 1_180_000_001,
    "activities": 7_800_000_001,
    "bills": 96_000_001,
}  # int64 ids, some past 2^31 as in production
# The same firm as the demo solution (emulator/demo_solution/ods/people.json): its attorneys are Operate users
# by e-mail, so a sync of the demo imports matters out of the box.
FIRM_DOMAIN = "harbourvale.example"
FIRM = {"id": 18_000_001, "name": "Harbourvale LLP"}
# Clio's UI and its create request call a cell phone "Mobile", but its document's answers know only Work,
# Personal and Other: the fake answers as the document says, and a client's own cell is "Personal".
MOBILE = "Personal"
# The firm's people as in the demo solution and the demo PMS (pms_adapters/fakes/demo_pms/seed.py FEE_EARNERS): its fee
# earners (Priya Shah, Daniel Okafor and the paralegal Tom Becker) are responsible for matters and keep time;
# Hannah Whitfield works in finance, so she is responsible for no matter and keeps no time. An imported matter's
# responsible attorney becomes its Operate fee earner, whom the demo's matter-inception sends to the demo PMS.
USERS = (  # (first, last, subscription_type, hourly rate, a fee earner: responsible for matters, keeps time)
    ("Priya", "Shah", "Attorney", 250.0, True),
    ("Daniel", "Okafor", "Attorney", 320.0, True),
    ("Hannah", "Whitfield", "NonAttorney", 150.0, False),
    ("Tom", "Becker", "NonAttorney", 150.0, True),
)
RATES = tuple(rate for _, _, _, rate, _ in USERS)  # per hour, by user (index in USERS)
FEE_EARNERS = tuple(i for i, user in enumerate(USERS) if user[4])  # indexes into USERS
PRACTICE_AREAS = (  # (name, category, code, stages in order)
    ("Personal Injury", "personal_injury", "PI", ("Intake", "Investigation", "Negotiation", "Litigation", "Settled")),
    ("Family", "family", "FAM", ("Consultation", "Filing", "Mediation", "Final Decree")),
    ("Estate Planning", "estate_planning", "EST", ("Drafting", "Signing", "Funded")),
)
FIRST_NAMES = ("Ada", "Ben", "Cara", "Dev", "Elle", "Finn", "Gia", "Hugo", "Iris", "Jack", "Kira", "Leo", "Mia", "Noah")
LAST_NAMES = ("Okafor", "Patel", "Quinn", "Rossi", "Silva", "Tanaka", "Ueda", "Vance", "Walsh", "Young", "Zhou")


def stamp(moment: datetime) -> str:
    """Clio's timestamps: ISO 8601 with an offset, to the second (§3.1)."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def generate(now: datetime, *, matters: int = DEFAULT_MATTERS, seed_value: int = 1) -> dict[str, list[dict[str, Any]]]:
    rng = random.Random(seed_value)
    users = [_user(i, first, last, kind, now) for i, (first, last, kind, _, _) in enumerate(USERS)]
    areas, stages = [], []
    for i, (name, category, code, names) in enumerate(PRACTICE_AREAS):
        area = _record("practice_areas", i, now - timedelta(days=4000), name=name, category=category, code=code)
        areas.append(area)
        for order, stage_name in enumerate(names):
            stages.append(
                _record(
                    "matter_stages",
                    len(stages),
                    now - timedelta(days=4000),
                    practice_area_id=str(area["id"]),  # typed as a string in Clio's document (§5)
                    name=stage_name,
                    order=order,
                )
            )
    contacts: list[dict[str, Any]] = []
    out_matters: list[dict[str, Any]] = []
    activities: list[dict[str, Any]] = []
    bills: list[dict[str, Any]] = []
    for i in range(matters):
        created = now - timedelta(days=rng.uniform(1, 365 * 12))
        contact = _contact(len(contacts), rng, created)
        contacts.append(contact)
        matter = _matter(i, rng, created, now, contact, users, areas, stages)
        out_matters.append(matter)
        _work(rng, now, matter, users, activities, bills)
    return {
        "users": users,
        "practice_areas": areas,
        "matter_stages": stages,
        "contacts": contacts,
        "matters": out_matters,
        "activities": activities,
        "bills": bills,
    }


def _record(kind: str, index: int, created: datetime, **fields: Any) -> dict[str, Any]:
    record = {"id": FIRST_ID[kind] + index, **fields, "created_at": stamp(created), "updated_at": stamp(created)}
    record["etag"] = etag_of(record)
    return record


def etag_of(record: dict[str, Any]) -> str:
    """§3.5: a quoted hex string that changes whenever the record does."""
    body = repr(sorted((k, repr(v)) for k, v in record.items() if k != "etag")).encode()
    return '"' + hashlib.md5(body, usedforsecurity=False).hexdigest() + '"'


def _user(index: int, first: str, last: str, kind: str, now: datetime) -> dict[str, Any]:
    return _record(
        "users",
        index,
        now - timedelta(days=5000),
        name=f"{first} {last}",
        first_name=first,
        last_name=last,
        email=f"{first.lower()}.{last.lower()}@{FIRM_DOMAIN}",
        enabled=True,
        subscription_type=kind,
        time_zone="Eastern Time (US & Canada)",
        account_owner=index == 0,
        roles=["Admin"] if index == 0 else [],
        initials=first[0] + last[0],
        account=dict(FIRM),
    )


def _contact(index: int, rng: random.Random, created: datetime) -> dict[str, Any]:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    roll = rng.random()
    phones = []
    if roll < 0.8:
        phones.append(_phone(index, MOBILE, f"+1 555 01{index % 100:02d} {index % 10_000:04d}", True, created))
    if 0.7 < roll < 0.9:
        phones.append(
            _phone(index * 2 + 1, "Work", f"+1 555 02{index % 100:02d} {index % 10_000:04d}", not phones, created)
        )
    email = f"{first.lower()}.{last.lower()}{index}@mail.example"
    record = _record(
        "contacts",
        index,
        created,
        name=f"{first} {last}",
        first_name=first,
        last_name=last,
        type="Person",
        is_client=True,
        primary_email_address=email,
        primary_phone_number=next((p["number"] for p in phones if p["primary"]), None),
        phone_numbers=phones,
        email_addresses=[
            {
                "id": 9_000_000_000 + index,
                "etag": '"e"',
                "address": email,
                "name": "Home",
                "primary": True,
                "created_at": stamp(created),
                "updated_at": stamp(created),
            }
        ],
    )
    return record


def _phone(index: int, name: str, number: str, primary: bool, created: datetime) -> dict[str, Any]:
    return {
        "id": 8_000_000_000 + index,
        "etag": '"p"',
        "number": number,
        "name": name,
        "primary": primary,
        "created_at": stamp(created),
        "updated_at": stamp(created),
    }


def _matter(
    index: int,
    rng: random.Random,
    created: datetime,
    now: datetime,
    contact: dict[str, Any],
    users: list[dict[str, Any]],
    areas: list[dict[str, Any]],
    stages: list[dict[str, Any]],
) -> dict[str, Any]:
    updated = created + (now - created) * rng.random() ** 3  # most matters were last touched long ago
    area = rng.choice(areas) if rng.random() > 0.05 else None
    own_stages = [s for s in stages if area and s["practice_area_id"] == str(area["id"])]
    stage = rng.choice(own_stages) if own_stages else None
    attorney = users[rng.choice(FEE_EARNERS)] if rng.random() > 0.04 else None
    status = rng.choices(("Open", "Pending", "Closed"), (70, 10, 20))[0]
    number = index + 1
    record = _record(
        "matters",
        index,
        created,
        number=number,
        display_number=f"{number:05d}-{contact['last_name']}",
        description=f"{contact['name']} - {area['name'] if area else 'General'} matter",
        status=status,
        open_date=created.date().isoformat(),
        pending_date=None,
        close_date=(updated.date().isoformat() if status == "Closed" else None),
        client_reference=None,
        billable=True,
        billing_method="hourly",
        client={"id": contact["id"]},
        practice_area={"id": area["id"]} if area else None,
        matter_stage={"id": stage["id"]} if stage else None,
        responsible_attorney={"id": attorney["id"]} if attorney else None,
        matter_stage_updated_at=stamp(updated) if stage else None,
    )
    record["updated_at"] = stamp(updated)
    record["etag"] = etag_of(record)
    return record


def _work(
    rng: random.Random,
    now: datetime,
    matter: dict[str, Any],
    users: list[dict[str, Any]],
    activities: list[dict[str, Any]],
    bills: list[dict[str, Any]],
) -> None:
    """Time and expenses on a matter (§9); what is billed is on one bill, whose state and due date vary.
    The random draws are made in one fixed order, so a seed value always gives the same firm."""
    if matter["status"] == "Closed" and rng.random() < 0.7:
        return
    bill_id = FIRST_ID["bills"] + len(bills) if rng.random() < 0.5 else None
    billed_total = billed_time = 0.0
    for _ in range(rng.randint(0, 4)):
        activity = _activity(rng, now, matter, users, len(activities), bill_id)
        activities.append(activity)
        billed_total += activity["total"] if activity["billed"] else 0.0
        billed_time += activity["total"] if activity["billed"] and activity["type"] == "TimeEntry" else 0.0
    if bill_id is None or not billed_total:
        return
    bills.append(_bill(rng, now, matter, len(bills), billed_total, billed_time))


def _activity(
    rng: random.Random, now: datetime, matter: dict[str, Any], users: list[dict[str, Any]], n: int, bill_id: int | None
) -> dict[str, Any]:
    """One time or expense entry on the matter, by one of the fee earners; on the bill `bill_id` or unbilled."""
    who = FEE_EARNERS[rng.randrange(len(FEE_EARNERS))]
    seconds = rng.choice((6, 12, 18, 30, 48, 60, 90, 120)) * 60
    day = now - timedelta(days=rng.uniform(1, 120))
    billed = bill_id is not None and rng.random() < 0.6
    expense = rng.random() < 0.2
    total = round(rng.uniform(20, 400), 2) if expense else round(seconds / 3600 * RATES[who], 2)
    return _record(
        "activities",
        n,
        day,
        type="ExpenseEntry" if expense else "TimeEntry",
        date=day.date().isoformat(),
        quantity=1.0 if expense else float(seconds),
        quantity_in_hours=0.0 if expense else round(seconds / 3600, 2),
        price=total if expense else RATES[who],
        total=total,
        note="Court fee" if expense else "Drafting and correspondence",
        billed=billed,
        on_bill=billed,
        non_billable=False,
        non_billable_total=0.0,
        matter={"id": matter["id"]},
        user={"id": users[who]["id"]},
        bill={"id": bill_id} if billed else None,
    )


def _bill(
    rng: random.Random, now: datetime, matter: dict[str, Any], n: int, billed_total: float, billed_time: float
) -> dict[str, Any]:
    """The matter's one bill for what was billed: issued some days ago, due 30 days on, awaiting payment,
    paid or a draft, sometimes part paid."""
    issued = now - timedelta(days=rng.choice((5, 20, 40, 50, 75, 100, 140)))
    state = rng.choices(("awaiting_payment", "paid", "draft"), (60, 30, 10))[0]
    paid = billed_total if state == "paid" else (round(billed_total * 0.25, 2) if rng.random() < 0.2 else 0.0)
    return _record(
        "bills",
        n,
        issued,
        number=str(1000 + n),
        issued_at=issued.date().isoformat(),
        due_at=(issued + timedelta(days=30)).date().isoformat(),
        total=round(billed_total, 2),
        sub_total=round(billed_total, 2),  # before tax; the fake's firm charges none
        services_sub_total=round(billed_time, 2),  # the time (fees) part of the sub total
        total_tax=0.0,
        paid=round(paid, 2),
        paid_at=stamp(issued + timedelta(days=20)) if state == "paid" else None,
        balance=round(billed_total - paid, 2),
        state=state,
        type="MatterBill",
        subject=f"Services - {matter['display_number']}",
        client={"id": matter["client"]["id"]},
        matters=[{"id": matter["id"]}],
    )
