"""Client-side pacing so the org's limits are met before Zoho has to refuse a call.

- concurrency: at most the edition's number of calls in flight, and at most 10 writes of more
  than 10 records (Zoho's documented sub-limit);
- an optional per-minute budget in credits (a token bucket refilling continuously);
- the daily budget: the last `X-API-CREDITS-REMAINING` Zoho sent, used to stop before a call
  Zoho would refuse (a reading goes stale after a while since the window rolls)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from clinic2zoho.zoho.facts import HEAVY_WRITE_RECORDS, MAX_CONCURRENT_BIG_WRITES

# A daily-credit reading older than this no longer blocks calls (the 24-hour window rolls).
REMAINING_STALE_AFTER = 300.0


class CreditBucket:
    """A token bucket holding credits: `capacity` per minute, refilled continuously."""

    def __init__(self, per_minute: int, clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._tokens = self.capacity
        self._stamp = clock()
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()

    def _refill(self, now: float) -> None:
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def take(self, credits: int) -> float:
        """Block until `credits` can be spent; return the seconds waited. A cost above the whole
        capacity (a 500-credit bulk job under a small throttle) waits for a full bucket and
        leaves it in debt, so the following calls wait their share."""
        need = min(float(credits), self.capacity)
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                self._refill(now)
                if self._tokens >= need:
                    self._tokens -= credits
                    return waited
                pause = (need - self._tokens) / self.rate
            self._sleep(pause)
            waited += pause

    def drain(self) -> None:
        """Zoho said 429: whatever we believed, the minute's budget is gone."""
        with self._lock:
            self._refill(self._clock())
            self._tokens = min(self._tokens, 0.0)

    @property
    def available(self) -> float:
        with self._lock:
            self._refill(self._clock())
            return self._tokens


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
        self.bucket = CreditBucket(per_minute_credits, clock, sleep) if per_minute_credits else None
        self._clock = clock
        self._lock = threading.Lock()
        self._remaining: int | None = None
        self._remaining_at = 0.0
        self._in_flight = 0
        self.peak_in_flight = 0

    @contextmanager
    def slot(self, credits: int, record_count: int = 0) -> Iterator[None]:
        """Hold one call's place: per-minute credits first, then the concurrency slots."""
        if self.bucket is not None and credits:
            self.bucket.take(credits)
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

    def rate_limited(self) -> None:
        if self.bucket is not None:
            self.bucket.drain()

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
