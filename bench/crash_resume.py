"""Crash-and-resume trials: kill the loader while rows are in flight, resume it on the same run, and
count duplicates and lost rows in the local Zoho org.

    .venv/bin/python bench/crash_resume.py --trials 20

Kills are not timed: each trial sets CLINIC2ZOHO_CRASH_AT=point@Module:n, a point where the
dying batch is journaled `sent` (its request reached Zoho, its outcome is not journaled), and the
loader process ends there (os._exit, no cleanup). Trials take the four paths in turn: record
calls (`after_call` in Accounts/Contacts/Events/Insurance), bulk jobs (`after_job_created` or
`after_job_done`, bulk forced), notes and attachment uploads (`after_call`); module, point and
pass are drawn from the passes an uninterrupted load makes there. A kill counts as in flight
when the journal, read once the process is dead, holds at least one row `sent` and at least one
row not final; a kill that is not, or a load that finished before its point, is counted apart.
Each line says where the kill landed: module, path of its sent rows (record, bulk, upload),
point, pass, and the journal at the kill: rows sent / pending (intent, or not journaled yet) /
final (done, rejected, skipped).

After each kill the loader runs again with the same run id; then, read back over HTTP: duplicates
(records sharing an external id, notes sharing a title, attachments sharing a file name), lost rows
(a source row not journaled final, rejected or skipped without a reason, rejected but missing from
load_rejects, or journaled done but absent from Zoho) and stray objects (in Zoho but not journaled
done). A failing trial prints what it found under its line.

Last run (--trials 20, default 300 patients, 2 cores shared with other work, 6 min; about 2 min idle):
total: 20 of 20 kills in flight (record 5, bulk 5, notes 5, attachments 5); 0 killed not in flight,
0 finished before their point; 0 duplicates, 0 lost, 0 stray (357 s)"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from clinic2zoho.loader.journal import FINAL, JournalReader, current_module  # noqa: E402
from clinic2zoho.loader.run import Loader  # noqa: E402
from clinic2zoho.loader.source import TableSource  # noqa: E402
from clinic2zoho.zoho_server.process import ZohoServerProcess  # noqa: E402
from tests.loader.conftest import (PLAN, PROVIDERS, RECORD_MODULES, Clinic, Org, build_clinic,  # noqa: E402
                                   prepare_schema, settings_for)

TARGETS = ("record", "bulk", "notes", "attachments")
DIED = re.compile(r"CLINIC2ZOHO_CRASH_AT: exiting at (\S+) in (\S+) \(pass (\d+)\)")


def child_command(org: Org, clinic: Clinic, run_id: str, force_path: str | None, crash_at: str = "") \
        -> tuple[list[str], dict]:
    args = json.dumps({"base": org.server.base_url, "cid": org.server.client_id, "warehouse": str(clinic.warehouse),
                       "journal": str(clinic.journal), "files": str(clinic.files), "run_id": run_id,
                       "force_path": force_path, "plan": PLAN.to_json()})
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LOADER_TEST_SECRET": org.server.client_secret,
           "LOADER_TEST_REFRESH": org.server.refresh_token, "CLINIC2ZOHO_CRASH_AT": crash_at}
    return [sys.executable, "-m", "tests.loader.load_child", args], env


class Setup:
    """A fresh local Zoho org with the schema, and a clinic of `patients` patients."""

    def __init__(self, home: Path, patients: int):
        (home / "zoho").mkdir(parents=True)
        self.server = ZohoServerProcess(users=PROVIDERS, workdir=home / "zoho")
        self.server.__enter__()
        self.org = Org(self.server)
        with self.org.client() as c:
            prepare_schema(c)
        self.clinic = Clinic(home / "warehouse.duckdb", home / "journal", home / "files")
        build_clinic(self.clinic.warehouse, self.clinic.files, patients=patients, appointments=patients,
                     notes=patients, documents=max(6, patients // 20))

    def close(self) -> None:
        self.server.__exit__(None, None, None)


def source_keys(clinic: Clinic) -> dict[str, set[str]]:
    con = duckdb.connect(str(clinic.warehouse), read_only=True)
    try:
        return {s.module: {str(r[0]) for r in con.execute(f"SELECT {s.external_id} FROM {s.table}").fetchall()}
                for s in PLAN.specs}
    finally:
        con.close()


def calibrate(home: Path, patients: int, force_path: str | None) -> tuple[Counter, float]:
    """Passes per (module, point) of an uninterrupted load, in process, and its duration."""
    passes: Counter = Counter()
    lock = threading.Lock()

    def count(point: str) -> None:
        with lock:
            passes[(current_module(), point)] += 1

    setup = Setup(home, patients)
    try:
        c = setup.clinic
        client = setup.org.client()
        started = time.monotonic()
        Loader(PLAN, client, run_id="run1", root=c.journal, source=TableSource(c.warehouse),
               settings=settings_for(c, force_path=force_path), checkpoint=count).run()
        client.close()
        return passes, time.monotonic() - started
    finally:
        setup.close()


def plan_kills(trials: int, targets: tuple[str, ...], rng: random.Random,
               passes: dict[str | None, Counter]) -> list[dict]:
    """One kill per trial: the targets in turn (each block shuffled), a module, a point, a pass."""
    order: list[str] = []
    while len(order) < trials:
        block = list(targets)
        rng.shuffle(block)
        order += block
    kills = []
    for target in order[:trials]:
        force = "bulk" if target == "bulk" else None
        if target == "record":
            modules, points = RECORD_MODULES, ("after_call",)
        elif target == "bulk":  # the modules Bulk Write takes (not Events)
            modules, points = RECORD_MODULES, ("after_job_created", "after_job_done")
        else:
            modules, points = ("Notes" if target == "notes" else "Attachments",), ("after_call",)
        # every pass of an uninterrupted load at these points is equally likely
        where = sorted((m, p, n) for (m, p), c in passes[force].items() if m in modules and p in points
                       for n in range(1, c + 1))
        if not where:
            raise SystemExit(f"an uninterrupted load never passes {'/'.join(points)} in {'/'.join(modules)}")
        module, point, nth = rng.choice(where)
        kills.append({"target": target, "force": force, "module": module, "point": point, "nth": nth})
    return kills


def journal_state(clinic: Clinic, keys: dict[str, set[str]]) -> dict:
    """The journal once the killed process is dead: rows sent / pending (intent, or not journaled
    yet) / final, and the paths of the sent rows per module."""
    with JournalReader(clinic.journal, runs=["run1"]) as q:
        rows = q.sql("SELECT module, source_key, status, path FROM load_journal")
    status = Counter(s for _, _, s, _ in rows)
    journaled = Counter(m for m, _, _, _ in rows)
    unjournaled = sum(max(0, len(k) - journaled[m]) for m, k in keys.items())
    sent_paths = Counter((m, p) for m, _, s, p in rows if s == "sent")
    return {"sent": status["sent"], "pending": status["intent"] + unjournaled,
            "final": sum(status[s] for s in FINAL), "sent_paths": sent_paths}


def check(org: Org, clinic: Clinic, keys: dict[str, set[str]]) -> dict:
    """Duplicates, lost rows and strays, reading Zoho back over HTTP."""
    with JournalReader(clinic.journal, runs=["run1"]) as q:
        journal = {(m, k): (s, z, code, label) for m, k, s, z, code, label in q.sql(
            "SELECT module, source_key, status, zoho_id, error_code, label FROM load_journal")}
        with_reject = {(m, k) for m, k in q.sql("SELECT module, source_key FROM load_rejects")}
    dups = lost = strays = 0
    examples: list[str] = []  # what was wrong, for the trial's report
    in_zoho: dict[str, dict[str, list[str]]] = {}  # module -> source id -> Zoho ids
    with org.client() as c:
        for module in RECORD_MODULES:
            ext = PLAN.spec(module).external_id
            found: dict[str, list[str]] = {}
            for r in c.iter_records(module, [ext]):
                found.setdefault(str(r.get(ext)), []).append(str(r["id"]))
            in_zoho[module] = found
        titles = {f"[n:{k[1:]}]": k for k in keys["Notes"]}  # a note's title carries its source id
        files = {f"doc-{k}.txt": k for k in keys["Attachments"]}
        notes: dict[str, list[str]] = {}
        attachments: dict[str, list[str]] = {}
        for pid in [r["id"] for r in c.iter_records("Contacts", ["Clinic_Patient_Id"])]:
            for n in c.notes("Contacts", pid):
                tag = re.search(r"\[n:\d+\]", str(n.get("Note_Title")))
                notes.setdefault(titles.get(tag.group(0) if tag else "", f"?{n.get('Note_Title')}"), []) \
                    .append(str(n["id"]))
            for a in c.attachments("Contacts", pid):
                attachments.setdefault(files.get(str(a.get("File_Name")), f"?{a.get('File_Name')}"), []) \
                    .append(str(a["id"]))
        in_zoho["Notes"], in_zoho["Attachments"] = notes, attachments
    for module, found in in_zoho.items():
        for source_id, ids in found.items():
            dups += len(ids) - 1
            if len(ids) > 1:
                examples.append(f"duplicate {module} {source_id}: Zoho {ids}")
            entry = journal.get((module, source_id))
            if entry is None or entry[0] != "done" or entry[1] not in ids:
                strays += 1  # in Zoho, but the journal does not say it was loaded as this object
                examples.append(f"stray {module} {source_id}: Zoho {ids}, journal {entry}")
    for module, ks in keys.items():
        for k in ks:
            status, zoho_id, code, _ = journal.get((module, k), (None, None, None, None))
            if status == "done":
                missing = zoho_id not in in_zoho[module].get(k, [])
            elif status == "rejected":
                missing = not code or (module, k) not in with_reject
            elif status == "skipped":
                missing = not code
            else:
                missing = True
            if missing:
                lost += 1
                examples.append(f"lost {module} {k}: journal {status} {zoho_id or ''} {code or ''},"
                                f" Zoho {in_zoho.get(module, {}).get(k, [])}")
    status = Counter(s for s, _, _, _ in journal.values())
    return {"duplicates": dups, "lost": lost, "strays": strays, "examples": examples, "done": status["done"],
            "rejected": status["rejected"], "skipped": status["skipped"]}


def trial(n: int, kill: dict, home: Path, patients: int) -> dict:
    setup = Setup(home / f"trial{n}", patients)
    started = time.monotonic()
    try:
        org, clinic = setup.org, setup.clinic
        keys = source_keys(clinic)
        spec = f"{kill['point']}@{kill['module']}:{kill['nth']}"
        cmd, env = child_command(org, clinic, "run1", kill["force"], spec)
        first = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, timeout=600)
        if first.returncode not in (0, 137):
            raise RuntimeError(f"trial {n}: the loader failed ({first.returncode}): {first.stderr.decode()[-2000:]}")
        died = DIED.search(first.stderr.decode())
        state = journal_state(clinic, keys)
        killed = first.returncode == 137 and died is not None
        in_flight = killed and state["sent"] >= 1 and state["sent"] + state["pending"] >= 1
        landed_module = died.group(2) if died else kill["module"]
        paths = sorted({p for (m, p) in state["sent_paths"] if m == landed_module}) or ["-"]
        cmd, env = child_command(org, clinic, "run1", kill["force"])
        resumed = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, timeout=600)
        if resumed.returncode != 0:
            raise RuntimeError(f"trial {n}: resume failed: {resumed.stderr.decode()[-2000:]}")
        result = check(org, clinic, keys)
    finally:
        setup.close()
    return {"trial": n, **kill, "killed": killed, "in_flight": in_flight, "landed_module": landed_module,
            "landed_point": died.group(1) if died else "-", "path": "+".join(paths), **state, **result,
            "seconds": round(time.monotonic() - started, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--patients", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--targets", default=",".join(TARGETS),
                        help=f"comma-separated, taken in turn (default: {','.join(TARGETS)})")
    args = parser.parse_args()
    targets = tuple(t.strip() for t in args.targets.split(",") if t.strip())
    if not targets or set(targets) - set(TARGETS):
        parser.error(f"--targets: one or more of {', '.join(TARGETS)}")
    rng = random.Random(args.seed)
    started = time.monotonic()
    totals: Counter = Counter()
    with tempfile.TemporaryDirectory(prefix="crash-resume-") as tmp:
        passes: dict[str | None, Counter] = {}
        for force in sorted({"bulk" if t == "bulk" else None for t in targets}, key=str):
            passes[force], seconds = calibrate(Path(tmp) / f"calibrate-{force or 'auto'}", args.patients, force)
            print(f"uninterrupted load ({force or 'auto'} path, {args.patients} patients): {seconds:.1f} s, "
                  + ", ".join(f"{m} {p} x{c}" for (m, p), c in sorted(passes[force].items(), key=str)
                              if p in ("after_call", "after_job_created", "after_job_done")))
        print(f"{'trial':>5} {'target':<11} {'module':<11} {'path':<6} {'point':<17} {'pass':>4} "
              f"{'sent':>5} {'pending':>7} {'final':>5} {'in flight':>9} {'dups':>4} {'lost':>4} {'stray':>5} "
              f"{'done':>5} {'rej':>3} {'skip':>4} {'s':>5}")
        for n, kill in enumerate(plan_kills(args.trials, targets, rng, passes), start=1):
            r = trial(n, kill, Path(tmp), args.patients)
            flight = "yes" if r["in_flight"] else ("NO" if r["killed"] else "not killed")
            totals.update({"duplicates": r["duplicates"], "lost": r["lost"], "strays": r["strays"],
                           "in_flight": r["in_flight"], "not_in_flight": r["killed"] and not r["in_flight"],
                           "not_killed": not r["killed"]})
            if r["in_flight"]:
                totals[f"path:{r['target']}"] += 1
            print(f"{n:>5} {r['target']:<11} {r['landed_module']:<11} {r['path']:<6} {r['landed_point']:<17} "
                  f"{r['nth']:>4} {r['sent']:>5} {r['pending']:>7} {r['final']:>5} {flight:>9} "
                  f"{r['duplicates']:>4} {r['lost']:>4} {r['strays']:>5} {r['done']:>5} {r['rejected']:>3} "
                  f"{r['skipped']:>4} {r['seconds']:>5}", flush=True)
            for line in r["examples"][:5]:
                print(f"      {line}", flush=True)
    by_path = ", ".join(f"{t} {totals[f'path:{t}']}" for t in targets)
    print(f"total: {totals['in_flight']} of {args.trials} kills in flight ({by_path}); "
          f"{totals['not_in_flight']} killed not in flight, {totals['not_killed']} finished before their point; "
          f"{totals['duplicates']} duplicates, {totals['lost']} lost, {totals['strays']} stray "
          f"({time.monotonic() - started:.0f} s)")
    ok = (totals["duplicates"] == totals["lost"] == totals["strays"] == 0
          and totals["in_flight"] == args.trials)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
