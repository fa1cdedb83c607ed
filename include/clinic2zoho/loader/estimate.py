"""Predict a load's credits and duration from record counts and the plan (edition, users,
optional per-minute throttle, concurrency) — before anything is sent."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from clinic2zoho.loader import costs
from clinic2zoho.loader.plan import LoadPlan
from clinic2zoho.zoho import facts


RECORD_MODULE_READS = 4  # layouts, fields, record count, what exists


@dataclass(frozen=True)
class PlanLimits:
    edition: str = "Enterprise"
    users: int = 10
    per_minute_credits: int | None = None
    concurrency: int | None = None  # default: the edition's
    record_call_seconds: float = 0.4  # one 100-record call, round trip (measured against real Zoho: ~0.3-0.6 s)
    bulk_job_seconds: float = 20.0  # one bulk job, upload to result
    module_seconds: float = 1.0  # per module: journal segment, field list, read of what exists

    @property
    def daily_credits(self) -> int:
        return facts.daily_credit_limit(self.edition, self.users)

    @property
    def effective_concurrency(self) -> int:
        return self.concurrency or facts.edition_concurrency(self.edition)


@dataclass
class ModuleEstimate:
    module: str
    rows: int
    bulk_jobs: int
    record_calls: int
    write_credits: int
    overhead_credits: int
    seconds: float

    @property
    def credits(self) -> int:
        return self.write_credits + self.overhead_credits


@dataclass
class Estimate:
    limits: PlanLimits
    modules: list[ModuleEstimate] = field(default_factory=list)
    seconds: float = 0.0
    throttle_seconds: float = 0.0

    @property
    def credits(self) -> int:
        return sum(m.credits for m in self.modules)

    @property
    def minimum_credits(self) -> int:
        return sum(m.write_credits for m in self.modules)

    @property
    def days_of_daily_credits(self) -> float:
        return self.credits / self.limits.daily_credits

    def to_dict(self) -> dict:
        return {
            "limits": asdict(self.limits), "daily_credits": self.limits.daily_credits,
            "credits": self.credits, "minimum_credits": self.minimum_credits,
            "seconds": round(self.seconds, 1), "throttle_seconds": round(self.throttle_seconds, 1),
            "days_of_daily_credits": round(self.days_of_daily_credits, 3),
            "calendar_days": math.ceil(self.days_of_daily_credits) if self.credits else 0,
            "modules": [{**asdict(m), "credits": m.credits} for m in self.modules],
        }


def estimate(plan: LoadPlan, counts: dict[str, int], limits: PlanLimits, *, parents: dict[str, int] | None = None,
             force_path: str | None = None) -> Estimate:
    """counts: rows per module. parents: distinct parent records per Notes/Attachments module
    (unused unless a resume has to read them back; kept for the report)."""
    result = Estimate(limits)
    conc = limits.effective_concurrency
    write_conc = min(conc, facts.MAX_CONCURRENT_BIG_WRITES)
    group_seconds = 0.0
    for group in plan.groups():
        slowest = 0.0
        for module in group:
            spec = plan.spec(module)
            rows = counts.get(module, 0)
            if force_path == "record" or spec.kind != "record":
                choice = costs.PathChoice([], rows)
            elif force_path == "bulk":
                choice = costs.PathChoice([min(facts.BULK_MAX_ROWS, rows - i) for i in range(0, rows, facts.BULK_MAX_ROWS)], 0)
            else:
                choice = costs.choose_path(rows, spec.bulk_allowed)
            if spec.kind == "attachment":
                calls = rows  # one upload per file, 1 credit each
                write = rows
            else:
                calls = math.ceil(choice.record_rows / facts.RECORDS_PER_CALL)
                write = choice.credits(overhead=False)
            # Per record module: its layouts (the layout-mandatory check), its field list, its record
            # count (COQL or listing: loader.module_loader._scan) and a read of what exists (one page
            # on an empty org); per bulk job: upload, status polls, result download.
            # A module without rows is skipped whole.
            overhead = ((RECORD_MODULE_READS if spec.kind == "record" and rows else 0)
                        + len(choice.bulk_chunks) * costs.BULK_OVERHEAD_CREDITS)
            seconds = ((limits.module_seconds if rows else 0.0) + calls / write_conc * limits.record_call_seconds
                       + len(choice.bulk_chunks) * limits.bulk_job_seconds)
            result.modules.append(ModuleEstimate(module, rows, len(choice.bulk_chunks), calls, write, overhead, seconds))
            slowest = max(slowest, seconds)
        group_seconds += slowest
    users_call = 1 if any(s.owner_column for s in plan.specs) else 0
    if result.modules and users_call:
        result.modules[0].overhead_credits += users_call
    if limits.per_minute_credits:
        result.throttle_seconds = result.credits / limits.per_minute_credits * 60.0
    result.seconds = max(group_seconds, result.throttle_seconds)
    return result


def throttle_bound_seconds(credits: int, per_minute: int | None) -> float:
    return credits / per_minute * 60.0 if per_minute else 0.0
