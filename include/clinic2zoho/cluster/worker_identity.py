"""Which worker a task runs on.

Several Celery workers on one machine share a host name, so each worker is started with its own
name in `CLINIC2ZOHO_WORKER_NAME`; `hostname` is usable as Airflow's `[core] hostname_callable`,
so the task instance's recorded host name is that worker name. The process ancestry lets a test
check the claim independently: a task process descends from the worker process that ran it."""

from __future__ import annotations

import os
import socket
from pathlib import Path

WORKER_NAME_ENV = "CLINIC2ZOHO_WORKER_NAME"


def hostname() -> str:
    """The worker name when one is set, else the machine's fully qualified name (Airflow's default)."""
    return os.environ.get(WORKER_NAME_ENV) or socket.getfqdn()


def worker_name() -> str | None:
    """The name this process's worker was started with, if any."""
    return os.environ.get(WORKER_NAME_ENV) or None


def _parent_pid(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: parse after its last ')'.
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[1])


def process_ancestry(pid: int | None = None, limit: int = 32) -> list[int]:
    """`pid` (default: this process) and its ancestors up to init, nearest first.

    Reads /proc (Linux); elsewhere it returns this process and its parent only."""
    current = os.getpid() if pid is None else pid
    if not Path("/proc").is_dir():
        return [current, os.getppid()] if pid is None else [current]
    chain = [current]
    while len(chain) < limit:
        parent = _parent_pid(chain[-1])
        if not parent or parent in chain:
            break
        chain.append(parent)
    return chain
