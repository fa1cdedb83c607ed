"""Crash-and-resume trials: start the loader in its own process, SIGKILL it at a random moment,
start it again on the same run, and count duplicates and lost rows in the local Zoho server.

    .venv/bin/python bench/crash_resume.py --trials 20 --patients 200

Prints one line per trial (target: 0 duplicates and 0 lost rows in every trial)."""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from clinic2zoho.loader.journal import JournalReader  # noqa: E402
from clinic2zoho.zoho_server.process import ZohoServerProcess  # noqa: E402
from tests.loader.conftest import PLAN, PROVIDERS, Clinic, Org, build_clinic, prepare_schema  # noqa: E402


def child_command(org: Org, clinic: Clinic, run_id: str, force_path: str | None = None) -> tuple[list[str], dict]:
    args = json.dumps({"base": org.server.base_url, "cid": org.server.client_id, "warehouse": str(clinic.warehouse),
                       "journal": str(clinic.journal), "files": str(clinic.files), "run_id": run_id,
                       "force_path": force_path, "plan": PLAN.to_json()})
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LOADER_TEST_SECRET": org.server.client_secret,
           "LOADER_TEST_REFRESH": org.server.refresh_token, "CLINIC2ZOHO_CRASH_AT": ""}
    return [sys.executable, "-m", "tests.loader.load_child", args], env


def count(org: Org, clinic: Clinic, run_id: str) -> tuple[int, int, Counter]:
    """(duplicates in Zoho, source rows neither in Zoho nor rejected/skipped, statuses)."""
    with JournalReader(clinic.journal, runs=[run_id]) as q:
        journal = {(m, k): (s, z) for m, k, s, z in q.sql("SELECT module, source_key, status, zoho_id FROM load_journal")}
    statuses = Counter(s for s, _ in journal.values())
    dups = lost = 0
    with org.client() as c:
        for spec in PLAN.specs:
            if spec.kind != "record":
                continue
            keys = Counter(str(r[spec.external_id]) for r in c.iter_records(spec.module, [spec.external_id]))
            dups += sum(n - 1 for n in keys.values() if n > 1)
            for (m, k), (s, _) in journal.items():
                if m == spec.module and s == "done" and k not in keys:
                    lost += 1
        titles, names = Counter(), Counter()
        for pid in [r["id"] for r in c.iter_records("Contacts", ["Clinic_Patient_Id"])]:
            titles.update(n["Note_Title"] for n in c.notes("Contacts", pid))
            names.update(a["File_Name"] for a in c.attachments("Contacts", pid))
        dups += sum(n - 1 for n in titles.values() if n > 1) + sum(n - 1 for n in names.values() if n > 1)
    # Every source row must be journaled with a final status.
    expected = sum(clinic.counts().values())
    final = sum(statuses[s] for s in ("done", "rejected", "skipped"))
    lost += max(0, expected - final)
    done_children = sum(1 for (m, _), (s, _) in journal.items() if m in ("Notes", "Attachments") and s == "done")
    lost += max(0, done_children - (sum(titles.values()) + sum(names.values())))
    return dups, lost, statuses


def trial(n: int, patients: int, rng: random.Random, workdir: Path, window: float, force_path: str | None) -> dict:
    home = workdir / f"trial{n}"
    (home / "zoho").mkdir(parents=True)
    with ZohoServerProcess(users=PROVIDERS, workdir=home / "zoho") as server:
        org = Org(server)
        with org.client() as c:
            prepare_schema(c)
        clinic = Clinic(home / "warehouse.duckdb", home / "journal", home / "files")
        build_clinic(clinic.warehouse, clinic.files, patients=patients, appointments=patients, notes=patients // 2,
                     documents=max(6, patients // 20))
        cmd, env = child_command(org, clinic, "run1", force_path)
        kill_after = rng.uniform(0.5, window)
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        started = time.monotonic()
        try:
            proc.wait(timeout=kill_after)
            killed = False
            first_run = time.monotonic() - started
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            killed = True
            first_run = kill_after
        with JournalReader(clinic.journal, runs=["run1"]) as q:
            at_kill = dict(q.sql("SELECT status, count(*) FROM load_journal GROUP BY 1"))
        resumed = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, timeout=600)
        if resumed.returncode != 0:
            raise RuntimeError(f"trial {n}: resume failed: {resumed.stderr.decode()[-2000:]}")
        dups, lost, statuses = count(org, clinic, "run1")
    return {"trial": n, "killed_at_s": round(kill_after, 2) if killed else None,
            "in_flight_at_kill": at_kill.get("intent", 0) + at_kill.get("sent", 0),
            "done_at_kill": at_kill.get("done", 0), "duplicates": dups, "lost": lost,
            "done": statuses["done"], "rejected": statuses["rejected"], "skipped": statuses["skipped"],
            "seconds": round(time.monotonic() - started, 1), "first_run_seconds": round(first_run, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--patients", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--path", choices=("auto", "record", "bulk"), default="auto",
                        help="bulk: every module Bulk Write takes goes by bulk jobs, so kills land mid-job")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    total_dups = total_lost = 0
    with tempfile.TemporaryDirectory(prefix="crash-resume-") as tmp:
        print(f"{'trial':>5} {'kill at s':>9} {'in flight':>9} {'done@kill':>9} {'dups':>5} {'lost':>5} "
              f"{'done':>6} {'rejected':>8} {'skipped':>7}")
        # Calibrate: how long an uninterrupted load takes, so kills fall anywhere in it.
        force = None if args.path == "auto" else args.path
        window = trial(0, args.patients, rng, Path(tmp), 10_000, force)["first_run_seconds"]
        print(f"an uninterrupted load takes {window:.1f} s (process start included); kills fall in 0.5-{window:.1f} s")
        for n in range(1, args.trials + 1):
            r = trial(n, args.patients, rng, Path(tmp), window, force)
            total_dups += r["duplicates"]
            total_lost += r["lost"]
            kill = f"{r['killed_at_s']:.2f}" if r["killed_at_s"] is not None else "finished"
            print(f"{r['trial']:>5} {kill:>9} {r['in_flight_at_kill']:>9} {r['done_at_kill']:>9} {r['duplicates']:>5} "
                  f"{r['lost']:>5} {r['done']:>6} {r['rejected']:>8} {r['skipped']:>7}", flush=True)
    print(f"total: {total_dups} duplicates, {total_lost} lost rows over {args.trials} trials")
    return 0 if total_dups == 0 and total_lost == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
