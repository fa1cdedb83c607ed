"""Predict a load's credits and duration from record counts and the plan (edition, users,
optional per-minute throttle, concurrency) — before anything is sent."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import asdict, dataclass, field, fields, replace

from clinic2zoho.loader import bulk_steps, costs
from clinic2zoho.loader.plan import LoadPlan
from clinic2zoho.zoho import facts
from clinic2zoho.zoho.throttle import WINDOW_SECONDS


RECORD_MODULE_READS = 4  # layouts, fields, record count, what exists


@dataclass(frozen=True)
class ServerTimes:
    """How long Zoho takes to answer, as the loader sees it (round trip). The defaults are real
    Zoho's, which answers a module's calls in parallel (up to the edition's concurrency); the
    local server answers in milliseconds, one call at a time, on the loader's own machine
    (LOCAL_SERVER)."""

    record_call_seconds: float = 0.4  # one 100-record write (measured against real Zoho: ~0.3-0.6 s)
    upload_seconds: float = 0.4  # one attachment upload of a small document (*unverified*: taken as a write)
    read_call_seconds: float = 0.3  # one read: layouts, fields, a count, a page
    bulk_job_seconds: float = 20.0  # one bulk job, created to finished, whatever its rows (*unverified*)
    bulk_rows_per_second: float | None = None  # a job's processing on top of bulk_job_seconds; None: included
    # True: the server runs on the loader's machine and answers one call at a time (the local
    # server, one asyncio process): its work and the loader's add up instead of overlapping.
    shares_machine: bool = False
    # seconds added to each call per call the server answered before it in the run (the local
    # server slows over a long load; real Zoho is taken not to)
    slowdown_per_call: float = 0.0


# The local server (zoho_server) on the 2-core development machine, measured with bench/load.py
# (--modules, each module alone, 20,000 and 100,000 patients): a 100-record upsert ~6 ms of its
# work, an upload ~3 ms, a bulk job 0.25 s in ADDED (its bulk_start_delay) plus ~28,000 rows a
# second; uploads slow a little over a long run (not with the records it holds: a 100-record
# upsert costs the same at 0 and 200,000 held). These and LoaderTimes were measured with the
# machine busy with other work (load 4-13), then scaled by 0.58 for the machine idle: the ratio of
# an idle load's wall time to what the busy figures predicted (1,000 and 20,000 patients, both
# 0.58-0.59 on 2026-12-05), as the targets are idle.
# Another machine: these times its slowness (on_machine), which bench/load.py measures first with a
# smaller load (--calibrate).
LOCAL_SERVER = ServerTimes(record_call_seconds=0.0058, upload_seconds=0.0029, read_call_seconds=0.0017,
                           bulk_job_seconds=0.25, bulk_rows_per_second=27_600.0, shares_machine=True,
                           slowdown_per_call=5.8e-7)


@dataclass(frozen=True)
class LoaderTimes:
    """The loader's own work between calls, on the machine it runs on: journal writes (intent,
    sent, outcome: a DuckDB write each), payloads, reading the rows. It runs in one process, so
    the modules of a group share it (their calls to Zoho overlap; this work does not). Defaults:
    the 2-core development machine, measured with bench/load.py as LOCAL_SERVER was (a faster
    machine takes less; against real Zoho the round trips mostly hide it)."""

    # per call: journaling its rows' intent, sent and outcome. The journal commits the writes of
    # calls in flight together (JournalSegment._apply), so this is a call's share of those commits,
    # fitted on the idle machine to bench/load.py at 1,000 and 20,000 patients (7.5 ms before the
    # journal grouped its commits)
    call_seconds: float = 0.004
    row_seconds: float = 0.000017  # per row: reading it, its payload, its share of the journal writes
    # per call, per row the module's journal already holds: those writes grow with the segment
    # (its key index; 100 rows journaled took 34 ms against 20,000 rows held, 54 ms against 200,000,
    # on the busy machine)
    journal_row_seconds: float = 2.7e-7
    module_seconds: float = 0.174  # per module: opening its journal segment and its table (overlaps the others')
    run_seconds: float = 0.232  # once: the run's files, the org claimed, the layouts checked


def on_machine(server: ServerTimes, loader: LoaderTimes, slower: float) -> tuple[ServerTimes, LoaderTimes]:
    """The figures for a machine `slower` times as slow as the one they were measured on (see
    bench/load.py --calibrate): the loader's work scales, and so does a server that shares its
    machine; waits do not (a bulk job's start delay, the poll schedule), nor real Zoho's round trips."""
    if server.shares_machine:
        server = replace(server, record_call_seconds=server.record_call_seconds * slower,
                         upload_seconds=server.upload_seconds * slower,
                         read_call_seconds=server.read_call_seconds * slower,
                         bulk_rows_per_second=server.bulk_rows_per_second and server.bulk_rows_per_second / slower,
                         slowdown_per_call=server.slowdown_per_call * slower)
    return server, LoaderTimes(**{f.name: getattr(loader, f.name) * slower for f in fields(LoaderTimes)})


@dataclass(frozen=True)
class PlanLimits:
    edition: str = "Enterprise"
    users: int = 10
    per_minute_credits: int | None = None
    concurrency: int | None = None  # default: the edition's
    server: ServerTimes = ServerTimes()
    loader: LoaderTimes = LoaderTimes()
    poll_initial: float = 0.5  # the loader's waits between a bulk job's status polls (LoadSettings)
    poll_max: float = 10.0

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
    (unused unless a resume has to read them back; kept for the report).

    Time: the plan's groups one after the other, as the loader runs them; in a group, the slowest
    module, or the loader's own work of all of them (one process), or Zoho's concurrency, whichever
    is longest; then the per-minute throttle applied to when each call spends its credits."""
    result = Estimate(limits)
    conc = limits.effective_concurrency
    workers = min(conc, facts.MAX_CONCURRENT_BIG_WRITES)  # the loader's calls in flight per module
    phases: list[tuple[float, list[tuple[float, float]]]] = []
    answered = 0.0  # calls the server answered in the groups before
    for group in plan.groups():
        timed: list[_ModuleTime] = []
        paths = {m: _path(plan.spec(m), counts.get(m, 0), force_path) for m in group}
        group_calls = sum(_calls(plan.spec(m), counts.get(m, 0), paths[m]) for m in group)
        for module in group:
            spec = plan.spec(module)
            rows = counts.get(module, 0)
            choice = paths[module]
            calls = _calls(spec, rows, choice)
            write = rows if spec.kind == "attachment" else choice.credits(overhead=False)  # an upload: 1 credit
            # Per record module: its layouts (the layout-mandatory check), its field list, its record
            # count (COQL or listing: loader.load_records, RecordLoad.scan) and a read of what exists (one page
            # on an empty org); per bulk job: upload, status polls, result download.
            # A module without rows is skipped whole.
            reads = RECORD_MODULE_READS if spec.kind == "record" and rows else 0
            overhead = reads + len(choice.bulk_chunks) * costs.BULK_OVERHEAD_CREDITS
            t = _module_time(spec.kind, rows, calls, reads, choice.bulk_chunks, limits, workers,
                             answered + group_calls / 2)  # the group's modules' calls interleave
            result.modules.append(ModuleEstimate(module, rows, len(choice.bulk_chunks), calls, write, overhead,
                                                 t.own))
            t.credits = (reads, choice.bulk_chunks, calls, write - len(choice.bulk_chunks) * facts.BULK_JOB_CREDITS)
            timed.append(t)
        phases.append(_phase(timed, conc))
        answered += group_calls
    users_call = 1 if any(s.owner_column for s in plan.specs) else 0
    if result.modules and users_call:
        result.modules[0].overhead_credits += users_call
    result.throttle_seconds = throttle_bound_seconds(result.credits, limits.per_minute_credits)
    result.seconds = limits.loader.run_seconds + paced_seconds(phases, limits.per_minute_credits)
    return result


def _path(spec, rows: int, force_path: str | None) -> costs.PathChoice:
    """How the loader splits a module's rows (loader.load_records, RecordLoad.dispatch)."""
    if force_path == "record" or spec.kind != "record":
        return costs.PathChoice([], rows)
    if force_path == "bulk":
        return costs.PathChoice([min(facts.BULK_MAX_ROWS, rows - i) for i in range(0, rows, facts.BULK_MAX_ROWS)], 0)
    return costs.choose_path(rows, spec.bulk_allowed)


def _calls(spec, rows: int, choice: costs.PathChoice) -> int:
    """Write calls: one upload per file, or one per 100 rows of the record path."""
    return rows if spec.kind == "attachment" else math.ceil(choice.record_rows / facts.RECORDS_PER_CALL)


@dataclass
class _ModuleTime:
    fixed: float  # its own setup and its bulk jobs (created to noticed finished)
    waits: float  # its calls' round trips, `workers` at a time (0 when the server shares the machine)
    loader: float  # its work on the loader's machine, shared with the group's other modules
    zoho: float  # its calls' round trips, summed (Zoho's concurrency shared with the group)
    jobs: list[float]  # each bulk job, created to noticed finished
    credits: tuple = ()  # reads, bulk chunks, record calls, their credits

    @property
    def own(self) -> float:
        """The module alone."""
        return self.fixed + max(self.waits, self.loader) if (self.fixed or self.loader) else 0.0


def _module_time(kind: str, rows: int, calls: int, reads: int, chunks: list[int], limits: PlanLimits,
                 workers: int, answered: float = 0.0) -> _ModuleTime:
    """answered: the calls the server will have answered before this module's, on average."""
    if not rows:
        return _ModuleTime(0.0, 0.0, 0.0, 0.0, [])
    srv, ldr = limits.server, limits.loader
    per_call = (srv.upload_seconds if kind == "attachment" else srv.record_call_seconds) + srv.slowdown_per_call * answered
    zoho = reads * srv.read_call_seconds + calls * per_call
    held = sum(chunks) + (rows - sum(chunks)) / 2  # rows journaled when its calls go, on average
    working = calls * (ldr.call_seconds + held * ldr.journal_row_seconds) + rows * ldr.row_seconds
    jobs = [bulk_steps.noticed_after(srv.bulk_job_seconds + (n / srv.bulk_rows_per_second if srv.bulk_rows_per_second
                                                             else 0.0), limits.poll_initial, limits.poll_max)[0]
            for n in chunks]
    fixed = ldr.module_seconds + sum(jobs)
    if srv.shares_machine:  # the server's work and the loader's take turns on one machine
        return _ModuleTime(fixed, 0.0, working + zoho, 0.0, jobs)
    return _ModuleTime(fixed, zoho / workers, working, zoho, jobs)


def _shared_finish(work: list[float]) -> list[float]:
    """When each of several jobs sharing one worker in equal turns finishes (processor sharing)."""
    order = sorted(range(len(work)), key=lambda i: work[i])
    finish = [0.0] * len(work)
    now, done = 0.0, 0.0
    for rank, i in enumerate(order):
        now += (work[i] - done) * (len(work) - rank)
        done = work[i]
        finish[i] = now
    return finish


def _phase(timed: list[_ModuleTime], concurrency: int) -> tuple[float, list[tuple[float, float]]]:
    """A group's duration and its credits as (seconds from the group's start, credits). Its
    modules take turns on the loader (and on a local server): each is done when the longer of
    its own time and its finish in those turns has passed."""
    timed = [t for t in timed if t.own]
    shared = _shared_finish([t.loader for t in timed])
    crowd = max(1.0, sum(t.zoho for t in timed) / concurrency / max((t.own for t in timed), default=1.0))
    spends: list[tuple[float, float]] = []
    duration = 0.0
    for t, finish in zip(timed, shared):
        span = (t.fixed + max(t.waits, finish)) * crowd  # Zoho's concurrency shared too
        duration = max(duration, span)
        reads, chunks, calls, call_credits = t.credits
        spends.append((0.0, float(reads)))
        at = 0.0
        for seconds in t.jobs:
            spends.append((at, float(facts.BULK_JOB_CREDITS + costs.BULK_OVERHEAD_CREDITS)))
            at += seconds
        for k in range(calls):
            spends.append((at + (span - at) * k / calls, call_credits / calls))
    return duration, spends


def paced_seconds(phases: list[tuple[float, list[tuple[float, float]]]], per_minute: int | None) -> float:
    """The phases one after the other, each call's credits let through as the loader's throttle
    does (at most `per_minute` in any 60 seconds): a call that does not fit waits for credits to
    age out, and everything after it in its phase waits as long."""
    window: deque[tuple[float, float]] = deque()  # (spent at, credits) within the last minute
    counted = 0.0
    now = 0.0
    for duration, spends in phases:
        start, shift = now, 0.0
        for offset, credits in sorted(spends):
            at = start + offset + shift
            if per_minute:
                need = min(credits, per_minute)
                while window and (window[0][0] <= at - WINDOW_SECONDS or counted + need > per_minute):
                    spent_at, freed = window.popleft()
                    counted -= freed
                    at = max(at, spent_at + WINDOW_SECONDS)
                window.append((at, credits))
                counted += credits
                shift = at - start - offset
        now = start + duration + shift
    return now


def throttle_bound_seconds(credits: int, per_minute: int | None) -> float:
    """The least time `credits` take under the throttle however fast the rest: a minute's budget at
    once, then one more each time it has aged out (0 when they fit in one minute)."""
    if not per_minute or credits <= per_minute:
        return 0.0
    return (math.ceil(credits / per_minute) - 1) * WINDOW_SECONDS
