"""One dbt command in a child process, forked from a process that has already imported dbt.

dbt runs in a child process (DuckDB takes one writer per file: the child opens the warehouse and
is gone when its outcome is read). Started as a new interpreter, every child imported dbt, its
DuckDB adapter and the project's DuckDB plugin again: about 2 s of CPU per command, more than a
third of a small one (a `dbt run` of one model with a saved parse: 4.9 s of CPU as a new
interpreter, 2.9 s forked; bench/dbt_start.py). So the first command of a process starts a fork
server (`python -m clinic2zoho.transform.dbt_fork_server`) that imports them once, and each
command is a child forked from it that takes the command's environment, folder and output file
before dbt starts, and ends as dbt ends: it runs as the `dbt` executable would. multiprocessing's
own fork server is not used: each of its children imports the caller's main script again. Where
the server cannot serve (it is serving another thread's command, or it ended), the `dbt`
executable runs as before."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

OUTPUT_FILE = "dbt_output.log"  # in the target folder while the command runs
_server: subprocess.Popen[str] | None = None
_pending = b""  # what was read from the server's answers past the last whole line
_lock = threading.Lock()


def dbt_executable() -> str:
    """The `dbt` of this interpreter's environment, else the one on PATH."""
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def run_dbt_command(args: Sequence[str], env: Mapping[str, str], cwd: Path, output_dir: Path,
                    timeout_s: float | None = None) -> tuple[int, str]:
    """`dbt <args>` in `cwd` with exactly `env`: its exit code and what it printed (stdout and
    stderr, in order). A timeout ends the command and raises subprocess.TimeoutExpired."""
    if not _lock.acquire(blocking=False):
        return _run_executable(args, env, cwd, timeout_s)
    try:
        server = _running_server()
        if server is None:
            return _run_executable(args, env, cwd, timeout_s)
        output_dir.mkdir(parents=True, exist_ok=True)
        output = output_dir / OUTPUT_FILE
        request = {"args": list(args), "env": dict(env), "cwd": str(cwd), "output": str(output),
                   "umask": _current_umask()}
        try:
            server.stdin.write(json.dumps(request) + "\n")
            server.stdin.flush()
            pid = (_reply(server, 60) or {})["pid"]
            reply = _reply(server, timeout_s)
        except (OSError, ValueError, KeyError):
            _stop_server()
            return _run_executable(args, env, cwd, timeout_s)
        if reply is None:  # timed out: the command ends as subprocess.run's would
            os.kill(pid, signal.SIGKILL)
            _reply(server, 60)
            output.unlink(missing_ok=True)
            raise subprocess.TimeoutExpired(["dbt", *args], timeout_s or 0)
        try:
            return int(reply["returncode"]), output.read_text(encoding="utf-8", errors="replace")
        finally:
            output.unlink(missing_ok=True)
    finally:
        _lock.release()


def _running_server() -> subprocess.Popen[str] | None:
    global _server, _pending
    if _server is not None and _server.poll() is None:
        return _server
    _pending = b""
    try:
        _server = subprocess.Popen([sys.executable, "-m", "clinic2zoho.transform.dbt_fork_server"],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                   text=True)
    except OSError:
        _server = None
    return _server


def _reply(server: subprocess.Popen[str], timeout_s: float | None) -> dict | None:
    """The server's next line, or None when `timeout_s` passed first. Read from the pipe itself:
    a buffered readline could take both answers at once and leave select waiting for the second."""
    global _pending
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    while b"\n" not in _pending:
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        ready, _, _ = select.select([server.stdout], [], [], left)
        if not ready:
            return None
        chunk = os.read(server.stdout.fileno(), 4096)
        if not chunk:
            raise OSError("the dbt fork server ended")
        _pending += chunk
    line, _pending = _pending.split(b"\n", 1)
    return json.loads(line)


def _stop_server() -> None:
    global _server, _pending
    _pending = b""
    if _server is not None:
        _server.kill()
        _server.wait()
        _server = None


def _run_executable(args: Sequence[str], env: Mapping[str, str], cwd: Path, timeout_s: float | None) -> tuple[int, str]:
    proc = subprocess.run([dbt_executable(), *args], env=dict(env), cwd=cwd, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=timeout_s, check=False)
    return proc.returncode, proc.stdout


def _current_umask() -> int:
    mask = os.umask(0o077)
    os.umask(mask)
    return mask
