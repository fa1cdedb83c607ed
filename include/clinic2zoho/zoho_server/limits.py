"""API credits (rolling 24 hours), the optional per-minute throttle, concurrency, and the seeded
fault dice. Costs: 1 credit per call, writes 1 per 10 records (at least 1), a bulk job 500, a custom
module `custom_module_credits` (500).

The server's own copy of Zoho's figures, kept apart from the client's zoho/facts.py on purpose (an
independent check; tests/zoho/test_facts.py holds the two equal)."""

from __future__ import annotations

import math
import random
from typing import Any

from .settings import concurrency_limit, daily_limit
from .store import Store

BULK_JOB_COST = 500
RECORDS_PER_CREDIT = 10
HEAVY_WRITE_RECORDS = 10  # writes carrying more than this count against heavy_write_concurrency


def write_cost(records: int) -> int:
    return max(1, math.ceil(records / RECORDS_PER_CREDIT))


class Limited(Exception):
    """A call refused with 429 TOO_MANY_REQUESTS."""


class Limits:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.in_flight = 0
        self.heavy_in_flight = 0
        self.rng = random.Random()
        self.reseed()

    def reseed(self) -> None:
        self.rng = random.Random(self.store.settings["faults"].get("seed"))

    # ---- credits ------------------------------------------------------------------------------
    def limit(self) -> int:
        return daily_limit(self.store.settings, sum(1 for u in self.store.users if u["status"] == "active"))

    def used(self) -> int:
        return self.store.credits_used()

    def remaining(self) -> int:
        return max(0, self.limit() - self.used())

    def charge(self, cost: int) -> None:
        """Spend `cost` credits or refuse the call; a refused call costs nothing."""
        if self.used() + cost > self.limit():
            raise Limited("daily credits exhausted")
        per_minute = self.store.settings.get("per_minute_credits")
        if per_minute is not None and self.store.credits_used(60) + cost > int(per_minute):
            raise Limited("per-minute credits exhausted")
        self.store.spend(cost)

    def header_value(self) -> str | None:
        limit = self.limit()
        used = self.used()
        if limit and used / limit >= float(self.store.settings["credits_header_threshold"]):
            return str(max(0, limit - used))
        return None

    def concurrency(self) -> int:
        return concurrency_limit(self.store.settings)

    def summary(self) -> dict[str, Any]:
        return {"used": self.used(), "limit": self.limit(), "remaining": self.remaining(),
                "per_minute_used": self.store.credits_used(60), "per_minute_limit": self.store.settings.get("per_minute_credits"),
                "window_seconds": 86_400, "concurrency_limit": self.concurrency(), "in_flight": self.in_flight}

    # ---- faults --------------------------------------------------------------------------------
    def roll(self, name: str) -> bool:
        rate = float(self.store.settings["faults"].get(name) or 0.0)
        return rate > 0 and self.rng.random() < rate
