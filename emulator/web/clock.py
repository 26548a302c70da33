"""The emulator's clock: now, buttons to advance it (2 min, 20 min, to the next nightly sync, a day) or
set it, both through `POST /api/_emulator/clock` as the signed-in user; the jobs due next and those
that ran."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import request

from ..kernel.clock import iso
from .acting import action, call_api, done
from .frame import PageGroup, refuse, render_page

if TYPE_CHECKING:  # built with its parts by emulator/web/__init__.py's init_app
    from ..kernel.clock import Clock
    from ..kernel.scheduler import Scheduler

STEPS = (("PT2M", "2 min"), ("PT20M", "20 min"), ("P1D", "1 day"))  # the buttons; the cron jobs run on 2 and 20
NIGHTLY_MARK = "nightly"  # a cron job whose name holds this is "the nightly sync" the page offers to jump to
DUE_LISTED = 20
RAN_LISTED = 50


def nightly(scheduler: Scheduler) -> Any:
    return next((j for j in scheduler.cron_jobs() if NIGHTLY_MARK in j.name.lower()), None)


def pages(emulator_clock: Clock, scheduler: Scheduler) -> PageGroup:
    """The clock page over `emulator_clock` (now, its mode) and `scheduler` (the jobs due next and those that ran)."""
    bp = PageGroup("clock")

    @bp.page("/clock", nav="Clock", order=50)
    def clock():
        return render_page(
            "clock.html",
            "Clock",
            now=iso(emulator_clock.now()),
            mode=emulator_clock.mode,
            steps=STEPS,
            nightly=nightly(scheduler),
            due=scheduler.due_next(DUE_LISTED),
            ran=list(reversed(scheduler.ran))[:RAN_LISTED],
            iso=iso,
        )

    @bp.post("/clock")
    @action
    def move():
        form = request.form
        if form.get("to") == NIGHTLY_MARK:
            job = nightly(scheduler)
            if job is None:
                return refuse(400, "no nightly job is registered (a cron job with 'nightly' in its name)")
            body = {"set": iso(job.next_due)}
            said = f"the clock is at the nightly job {job.name} ({iso(job.next_due)})"
        elif form.get("advance"):
            body = {"advance": form["advance"]}
            said = f"advanced by {form['advance']}"
        elif form.get("set"):
            body = {"set": form["set"]}
            said = f"set to {form['set']}"
        else:
            return refuse(400, "give advance (an ISO 8601 duration such as PT2M), set (a date-time) or to=nightly")
        answer = call_api("POST", "/api/_emulator/clock", body)
        if answer.ok:
            said += f"; now {answer.body.get('now')}"
        return done(answer, said, "/clock")

    return bp
