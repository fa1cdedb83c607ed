"""The per-minute credit window and the daily-credit guard, on a fake clock (no server)."""

from __future__ import annotations

import threading
import time

from clinic2zoho.zoho.throttle import REMAINING_STALE_AFTER, CreditWindow, Throttle


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_the_window_spends_its_minute_at_once_then_what_ages_out():
    clock = FakeClock()
    window = CreditWindow(60, clock, clock.sleep)
    first, second = window.take(50), window.take(10)
    assert first[0] == 0 and second[0] == 0
    clock.now += 2.0  # the calls returned two seconds later: their credits free at 1062
    window.settle(first[1])
    window.settle(second[1])
    waited, _ = window.take(5)
    assert abs(clock.now - 1062.0) < 1e-9 and abs(waited - 60.0) < 1e-9
    assert window.available == 55  # the 50 and the 10 freed together; the 5 counts


def test_a_call_in_flight_counts_until_a_minute_after_it_returned():
    clock = FakeClock()
    window = CreditWindow(60, clock, clock.sleep)
    _, ticket = window.take(60)
    clock.now += 100.0  # a slow call: nothing frees while it is in flight
    assert window.available == 0
    window.settle(ticket)
    clock.now += 59.0
    assert window.available == 0
    clock.now += 1.0
    assert window.available == 60


def test_a_cost_above_the_capacity_waits_for_an_empty_window_and_counts_whole():
    clock = FakeClock()
    window = CreditWindow(60, clock, clock.sleep)
    window.settle(window.take(30)[1])
    window.settle(window.take(500)[1])  # a bulk job under a 60-credit throttle
    assert abs(clock.now - 1060.0) < 1e-9
    assert window.available < -400
    window.take(1)  # the whole 500 ages out before the next call
    assert abs(clock.now - 1120.0) < 1e-9


def test_no_sixty_seconds_hold_more_than_the_budget():
    """Calls of mixed sizes as fast as the window lets them: every 60-second span of what was
    let through, counted from each call's return, stays within the budget."""
    clock = FakeClock()
    window = CreditWindow(100, clock, clock.sleep)
    spent: list[tuple[float, int]] = []
    for n in range(300):
        cost = (1, 10, 7, 30)[n % 4]
        _, ticket = window.take(cost)
        clock.now += 0.1  # the round trip
        spent.append((clock.now, cost))
        window.settle(ticket)
    assert clock.now - 1000.0 > 60.0 * (sum(c for _, c in spent) // 100 - 1)
    for t, _ in spent:
        assert sum(c for u, c in spent if t - 60.0 < u <= t) <= 100


def test_a_429_counts_the_minute_as_spent_and_frees_it_over_the_minute():
    clock = FakeClock()
    window = CreditWindow(600, clock, clock.sleep)
    window.drain()
    assert window.available == 0
    assert abs(window.take(10)[0] - 6.0) < 1e-9  # the first tenth frees after six seconds


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
