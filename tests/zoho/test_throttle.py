"""The per-minute credit bucket and the daily-credit guard, on a fake clock (no server)."""

from __future__ import annotations

import threading
import time

from clinic2zoho.zoho.throttle import REMAINING_STALE_AFTER, CreditBucket, Throttle


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_bucket_spends_its_minute_then_waits_for_refill():
    clock = FakeClock()
    bucket = CreditBucket(60, clock, clock.sleep)  # 1 credit per second
    assert bucket.take(50) == 0 and bucket.take(10) == 0
    waited = bucket.take(5)
    assert abs(waited - 5.0) < 1e-9 and abs(clock.now - 1005.0) < 1e-9


def test_a_cost_above_the_capacity_waits_for_a_full_bucket_and_leaves_debt():
    clock = FakeClock()
    bucket = CreditBucket(60, clock, clock.sleep)
    bucket.take(30)
    bucket.take(500)  # a bulk job under a 60-credit throttle
    assert abs(clock.now - 1030.0) < 1e-9
    assert bucket.available < -400
    bucket.take(1)  # the debt is paid back before the next call
    assert clock.now >= 1030.0 + 440


def test_a_429_drains_the_bucket():
    clock = FakeClock()
    bucket = CreditBucket(600, clock, clock.sleep)
    bucket.drain()
    assert bucket.take(10) == 1.0


def test_concurrency_slots_bound_calls_in_flight():
    throttle = Throttle(3, None)
    barrier_hits = []
    lock = threading.Lock()

    def work():
        with throttle.slot(1):
            with lock:
                barrier_hits.append(1)
            time.sleep(0.05)

    threads = [threading.Thread(target=work) for _ in range(9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(barrier_hits) == 9 and throttle.peak_in_flight == 3


def test_a_fresh_low_credit_reading_stops_calls_and_a_stale_one_does_not():
    clock = FakeClock()
    throttle = Throttle(5, None, clock=clock, sleep=clock.sleep)
    assert not throttle.daily_budget_short(500)
    throttle.note_remaining(100)
    assert throttle.credits_remaining == 100
    assert throttle.daily_budget_short(500) and not throttle.daily_budget_short(10)
    clock.now += REMAINING_STALE_AFTER + 1
    assert not throttle.daily_budget_short(500)
