from datetime import datetime, timedelta, timezone

import pytest

from emulator.core import Emulator
from emulator.kernel.clock import iso
from emulator.settings import Settings
from tests.conftest import START

UTC = timezone.utc


def test_timers_fire_in_time_order_each_seeing_its_own_due_time(em):
    fired = []
    em.scheduler.on_timer("note", lambda payload, due: fired.append((payload["n"], em.clock.now(), due)))
    with em.store.transaction() as tx:
        for n, hours in ((3, 30), (1, 10), (2, 20)):
            em.scheduler.schedule(tx, "note", START + timedelta(hours=hours), {"n": n})
    em.clock.advance(timedelta(hours=25))
    assert [(n, now) for n, now, _ in fired] == [(1, START + timedelta(hours=10)), (2, START + timedelta(hours=20))]
    assert all(now == due for _, now, due in fired)
    assert em.clock.now() == START + timedelta(hours=25)
    assert [j["payload"]["n"] for j in em.scheduler.pending() if j["kind"] == "note"] == [3]


def test_a_timer_scheduled_by_a_timer_inside_the_window_also_fires(em):
    fired = []

    def chain(payload, due):
        fired.append(iso(due))
        if payload["left"]:
            with em.store.transaction() as tx:
                em.scheduler.schedule(tx, "chain", due + timedelta(minutes=2), {"left": payload["left"] - 1})

    em.scheduler.on_timer("chain", chain)
    with em.store.transaction() as tx:
        em.scheduler.schedule(tx, "chain", START + timedelta(minutes=2), {"left": 2})
    em.clock.advance(timedelta(minutes=10))
    assert fired == ["2026-01-05T09:02:00.000Z", "2026-01-05T09:04:00.000Z", "2026-01-05T09:06:00.000Z"]


def test_nightly_cron_runs_at_21_15_utc_once_per_day(em):
    runs = []
    em.scheduler.cron("nightly-sync", "15 21 * * *", runs.append)
    em.clock.advance(timedelta(days=2))
    assert [iso(r) for r in runs] == ["2026-01-05T21:15:00.000Z", "2026-01-06T21:15:00.000Z"]


def test_two_and_twenty_minute_jobs_interleave_in_order(em):
    runs = []
    em.scheduler.cron("messages", "*/2 * * * *", lambda due: runs.append(("messages", due.minute)))
    em.scheduler.cron("documents", "*/20 * * * *", lambda due: runs.append(("documents", due.minute)))
    em.clock.advance(timedelta(minutes=20))
    assert runs[-2:] == [("documents", 20), ("messages", 20)]
    assert [m for kind, m in runs if kind == "messages"] == list(range(2, 21, 2))


def test_invalid_cron_expression_is_refused_with_its_name(em):
    with pytest.raises(ValueError, match="nightly.*not a valid cron"):
        em.scheduler.cron("nightly", "at quarter past nine", lambda due: None)


def test_a_failing_timer_is_dropped_not_retried_forever(em):
    em.scheduler.on_timer("boom", lambda payload, due: 1 / 0)
    with em.store.transaction() as tx:
        em.scheduler.schedule(tx, "boom", START + timedelta(minutes=1), {})
    em.clock.advance(timedelta(minutes=5))
    assert [j for j in em.scheduler.pending() if j["kind"] == "boom"] == []


def test_timers_survive_a_restart(tmp_path):
    settings = Settings(data_dir=tmp_path, demo=True, clock="virtual", clock_start=START)
    first = Emulator(settings)
    first.scheduler.on_timer("later", lambda p, d: None)
    with first.store.transaction() as tx:
        first.scheduler.schedule(tx, "later", START + timedelta(days=3), {"step": "chase"})
    first.close()

    fired = []
    second = Emulator(settings)
    second.scheduler.on_timer("later", lambda payload, due: fired.append(payload))
    second.clock.advance(timedelta(days=4))
    second.close()
    assert fired == [{"step": "chase"}]


def test_virtual_time_is_kept_across_a_restart(tmp_path):
    first = Emulator(Settings(data_dir=tmp_path, demo=True, clock="virtual", clock_start=START))
    first.clock.advance(timedelta(hours=5))
    first.close()
    second = Emulator(Settings(data_dir=tmp_path, demo=True, clock="virtual"))
    assert second.clock.now() == START + timedelta(hours=5)
    second.close()


def test_run_due_on_a_system_clock_runs_what_is_past(tmp_path):
    em = Emulator(Settings(data_dir=tmp_path, demo=True))
    fired = []
    em.scheduler.on_timer("past", lambda p, d: fired.append(p))
    with em.store.transaction() as tx:
        em.scheduler.schedule(tx, "past", datetime(2000, 1, 1, tzinfo=UTC), {"x": 1})
        em.scheduler.schedule(tx, "past", datetime(2999, 1, 1, tzinfo=UTC), {"x": 2})
    assert em.scheduler.run_due() == 1
    em.close()
    assert fired == [{"x": 1}]


def test_a_coalescing_job_runs_once_at_its_latest_due_moment_when_the_clock_jumps(em):
    runs, fired = [], []
    em.scheduler.cron("catch-up", "*/2 * * * *", lambda due: runs.append(iso(due)), coalesce=True)
    em.scheduler.on_timer("mark", lambda payload, due: fired.append(iso(due)))
    with em.store.transaction() as tx:
        em.scheduler.schedule(tx, "mark", START + timedelta(minutes=31), {})
    em.clock.advance(timedelta(days=3650))  # ten years: one run before the timer, one after, not 2.6 million
    assert runs == ["2026-01-05T09:30:00.000Z", iso(em.clock.now().replace(second=0, microsecond=0))]
    assert fired == ["2026-01-05T09:31:00.000Z"]
    em.clock.advance(timedelta(minutes=4))
    assert len(runs) == 3  # once more for the two due moments of this move, at the latest
