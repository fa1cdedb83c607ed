"""Client-side pacing so the org's limits are met before Zoho has to refuse a call.

- concurrency: at most the edition's number of calls in flight, and at most 10 writes of more
  than 10 records (Zoho's documented sub-limit);
- an optional per-minute budget in credits: at most that many in any 60 seconds (a sliding
  window, the rule the local server enforces), so a load spends a whole minute's budget at once
  and then the credits as they age out, never more, never refused for it;
- the daily budget: the last `X-API-CREDITS-REMAINING` Zoho sent, used to stop before a call
  Zoho would refuse (a reading goes stale after a while since the window rolls)."""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from clinic2zoho.zoho.facts import HEAVY_WRITE_RECORDS, MAX_CONCURRENT_BIG_WRITES

# A daily-credit reading older than this no longer blocks calls (the 24-hour window rolls).
REMAINING_STALE_AFTER = 300.0
WINDOW_SECONDS = 60.0  # the per-minute budget's window
# A 429 while our own count had room: someone else spends this org's minute too. Its unknown
# remainder is counted as spent, freed in this many steps over the next minute.
REFUSED_REFILL_STEPS = 10


class CreditWindow:
    """At most `per_minute` credits in any 60 seconds. A call's credits count from the moment it
    is let through until 60 s after it returned: Zoho charges it somewhere in between, so the
    client's window never frees credits before the server's does (a freed credit is never a 429).

    take() returns a ticket; settle(ticket) when the call returned starts its 60 seconds."""

    def __init__(self, per_minute: int, clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self.capacity = int(per_minute)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._counted = 0  # credits in flight plus those settled less than a window ago
        self.waited = 0.0  # seconds calls spent waiting for credits, summed over the calls
        self._expiring: list[tuple[float, int]] = []  # heap of (frees at, credits) of settled calls

    def _expire(self, now: float) -> None:
        while self._expiring and self._expiring[0][0] <= now:
            self._counted -= heapq.heappop(self._expiring)[1]

    def _pause(self, need: int, now: float) -> float:
        """Seconds until `need` more credits fit (the soonest frees first; calls in flight free
        nothing until they return, so then a short look again)."""
        excess = self._counted + need - self.capacity
        for frees_at, credits in sorted(self._expiring):
            excess -= credits
            if excess <= 0:
                return max(frees_at - now, 0.001)
        return 0.05

    def take(self, credits: int) -> tuple[float, int]:
        """Block until `credits` fit in the window; return (seconds waited, ticket). A cost above
        the whole budget (a 500-credit bulk job under a smaller throttle) waits for an empty
        window and counts whole, so the following calls wait their share."""
        need = min(int(credits), self.capacity)
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                self._expire(now)
                if self._counted + need <= self.capacity:
                    self._counted += int(credits)
                    self.waited += waited
                    return waited, int(credits)
                pause = self._pause(need, now)
            self._sleep(pause)
            waited += pause

    def settle(self, ticket: int) -> None:
        """The call returned: its credits free one window from now."""
        if ticket:
            with self._lock:
                heapq.heappush(self._expiring, (self._clock() + WINDOW_SECONDS, ticket))

    def drain(self) -> None:
        """Zoho said 429: whatever we counted, the minute's budget is spent."""
        with self._lock:
            now = self._clock()
            self._expire(now)
            unknown = self.capacity - self._counted
            if unknown <= 0:
                return
            step = WINDOW_SECONDS / REFUSED_REFILL_STEPS
            share, rest = divmod(unknown, REFUSED_REFILL_STEPS)
            for n in range(REFUSED_REFILL_STEPS):
                part = share + (1 if n < rest else 0)
                if part:
                    heapq.heappush(self._expiring, (now + step * (n + 1), part))
            self._counted = self.capacity

    @property
    def available(self) -> int:
        with self._lock:
            self._expire(self._clock())
            return self.capacity - self._counted


class Throttle:
    def __init__(
        self,
        concurrency: int,
        per_minute_credits: int | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.concurrency = concurrency
        self._calls = threading.BoundedSemaphore(concurrency)
        self._big_writes = threading.BoundedSemaphore(min(concurrency, MAX_CONCURRENT_BIG_WRITES))
        self.window = CreditWindow(per_minute_credits, clock, sleep) if per_minute_credits else None
        self._clock = clock
        self._lock = threading.Lock()
        self._remaining: int | None = None
        self._remaining_at = 0.0
        self._in_flight = 0
        self.peak_in_flight = 0

    @contextmanager
    def slot(self, credits: int, record_count: int = 0) -> Iterator[None]:
        """Hold one call's place: per-minute credits first, then the concurrency slots."""
        ticket = self.window.take(credits)[1] if self.window is not None and credits else 0
        big = record_count > HEAVY_WRITE_RECORDS
        if big:
            self._big_writes.acquire()
        self._calls.acquire()
        with self._lock:
            self._in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self._in_flight)
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1
            self._calls.release()
            if big:
                self._big_writes.release()
            if self.window is not None:
                self.window.settle(ticket)

    def rate_limited(self) -> None:
        if self.window is not None:
            self.window.drain()

    def note_remaining(self, remaining: int) -> None:
        with self._lock:
            self._remaining = remaining
            self._remaining_at = self._clock()

    @property
    def credits_remaining(self) -> int | None:
        with self._lock:
            return self._remaining

    def daily_budget_short(self, credits: int) -> bool:
        """True when a fresh reading says this call's credits are no longer there."""
        with self._lock:
            if self._remaining is None or self._clock() - self._remaining_at > REMAINING_STALE_AFTER:
                return False
            return self._remaining < credits
