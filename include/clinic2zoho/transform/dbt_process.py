"""One dbt command in a child process, forked from a process that has already imported dbt.

dbt runs in a child process (DuckDB takes one writer per file: the child opens the warehouse and
is gone when its outcome is read). Started as a new interpreter, every child imported dbt, its
DuckDB adapter and the project's DuckDB plugin again: about 2 s of CPU per command, more than a
third of a small one (a `dbt run` of one model with a saved parse: 4.9 s of CPU as a new
interpreter, 2.9 s forked; bench/dbt_start.py). So the first command of a process starts a fork
server (`python -m clinic2zoho.transform.dbt_fork_server`) that imports them once, and each
command is a child forked from it that takes the command's environment, folder and output (a
named pipe the caller reads) before dbt starts, and ends as dbt ends: it runs as the `dbt` executable would. multiprocessing's
own fork server is not used: each of its children imports the caller's main script again. Where
the server cannot serve (it is serving another thread's command, or it ended), the `dbt`
executable runs as before.

A command's output comes line by line as it is printed (`stream_dbt_command`: the dbt group's
build, whose lines Cosmos reads the models' results from while it runs), or whole once it ended
(`run_dbt_command`). `start_server` starts the server ahead of the first command, so that its
imports overlap other work."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

# the server's flag to warm up at its start, not at its second request (dbt_fork_server)
WARM_UP_FIRST = "--warm-up-first"
_server: subprocess.Popen[str] | None = None
_pending = b""  # what was read from the server's answers past the last whole line
_lock = threading.Lock()


def dbt_executable() -> str:
    """The `dbt` of this interpreter's environment, else the one on PATH."""
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def run_dbt_command(args: Sequence[str], env: Mapping[str, str], cwd: Path,
                    timeout_s: float | None = None) -> tuple[int, str]:
    """`dbt <args>` in `cwd` with exactly `env`: its exit code and what it printed (stdout and
    stderr, in order). A timeout ends the command and raises subprocess.TimeoutExpired."""
    lines: list[str] = []
    code = stream_dbt_command(args, env, cwd, lines.append, timeout_s=timeout_s)
    return code, "".join(line + "\n" for line in lines)


def stream_dbt_command(args: Sequence[str], env: Mapping[str, str], cwd: Path, on_line: Callable[[str], None],
                       on_start: Callable[[int], None] | None = None, timeout_s: float | None = None) -> int:
    """`dbt <args>` in `cwd` with exactly `env`, each line it prints (stdout and stderr, in order,
    without its newline) given to `on_line` as it comes; `on_start` gets the process id that
    runs it. Returns dbt's exit code; a timeout ends the command and raises
    subprocess.TimeoutExpired."""
    if not _lock.acquire(blocking=False):
        return _stream_executable(args, env, cwd, on_line, on_start, timeout_s)
    try:
        server = _running_server()
        if server is None:
            return _stream_executable(args, env, cwd, on_line, on_start, timeout_s)
        with tempfile.TemporaryDirectory(prefix="dbt-output-") as folder:
            fifo = Path(folder) / "output"
            os.mkfifo(fifo, 0o600)
            # open for reading and writing: the child's open never waits for a reader, and no end
            # of file comes before the child writes; the command's end is the server's answer
            fd = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)
            try:
                try:
                    _request(server, args, env, cwd, fifo)
                    pid = (_reply(server, 60) or {})["pid"]
                except (OSError, ValueError, KeyError):
                    _stop_server()
                    return _stream_executable(args, env, cwd, on_line, on_start, timeout_s)
                try:
                    if on_start is not None:
                        on_start(pid)
                    code = _relay_until_exit(server, fd, _LineSplitter(on_line), timeout_s)
                    if code is None:
                        raise subprocess.TimeoutExpired(["dbt", *args], timeout_s or 0)
                    return code
                except BaseException:
                    # timed out, or the caller gave up (its line callback raised, a task timed
                    # out): the child ends, and its answer is read, so the server's next answer is
                    # the next command's
                    _end_abandoned(server, pid)
                    raise
            finally:
                os.close(fd)
    finally:
        _lock.release()


def start_server() -> None:
    """Start the fork server now, if it is not running, without waiting for its imports (a command
    running in another thread has it running already). Started ahead of the commands, it warms up
    before its first one (dbt_fork_server): that first command is then forked warm, while the
    warm-up overlapped the caller's work before it."""
    if _lock.acquire(blocking=False):
        try:
            _running_server(warm_first=True)
        finally:
            _lock.release()


class _LineSplitter:
    def __init__(self, on_line: Callable[[str], None]) -> None:
        self._on_line = on_line
        self._partial = b""

    def feed(self, chunk: bytes) -> None:
        *whole, self._partial = (self._partial + chunk).split(b"\n")
        for line in whole:
            self._on_line(line.decode("utf-8", errors="backslashreplace"))

    def close(self) -> None:
        if self._partial:
            self._on_line(self._partial.decode("utf-8", errors="backslashreplace"))
            self._partial = b""


def _relay_until_exit(server: subprocess.Popen[str], fd: int, lines: _LineSplitter,
                      timeout_s: float | None) -> int | None:
    """Relay what the child writes to `fd` until the server answers that it ended; then what is
    left in the pipe (all of it: the child has ended). Returns the child's exit code, or None
    when `timeout_s` passed first."""
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    while b"\n" not in _pending:
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            return None
        ready, _, _ = select.select([fd, server.stdout], [], [], left)
        if fd in ready:
            lines.feed(_read_available(fd))
        if server.stdout in ready:
            break
    try:
        reply = _reply(server, None) or {}
    except (OSError, ValueError):
        _stop_server()
        raise RuntimeError("the dbt fork server ended while a command ran") from None
    lines.feed(_read_available(fd))
    lines.close()
    return int(reply["returncode"])


def _end_abandoned(server: subprocess.Popen[str], pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        if _reply(server, 60) is None:
            _stop_server()
    except (OSError, ValueError):
        _stop_server()


def _read_available(fd: int) -> bytes:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def _stream_executable(args: Sequence[str], env: Mapping[str, str], cwd: Path, on_line: Callable[[str], None],
                       on_start: Callable[[int], None] | None, timeout_s: float | None) -> int:
    with subprocess.Popen([dbt_executable(), *args], env=dict(env), cwd=cwd, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as proc:
        if on_start is not None:
            on_start(proc.pid)
        timed_out = threading.Event()

        def end_on_timeout() -> None:  # killing the process ends its output
            timed_out.set()
            proc.kill()

        timer = threading.Timer(timeout_s, end_on_timeout) if timeout_s is not None else None
        if timer is not None:
            timer.start()
        try:
            lines = _LineSplitter(on_line)
            for chunk in iter(lambda: proc.stdout.read1(65536), b""):
                lines.feed(chunk)
            lines.close()
            code = proc.wait()
        finally:
            if timer is not None:
                timer.cancel()
        if timed_out.is_set():
            raise subprocess.TimeoutExpired([dbt_executable(), *args], timeout_s)
        return code


def _request(server: subprocess.Popen[str], args: Sequence[str], env: Mapping[str, str], cwd: Path,
             output: Path) -> None:
    request = {"args": list(args), "env": dict(env), "cwd": str(cwd), "output": str(output),
               "umask": _current_umask()}
    server.stdin.write(json.dumps(request) + "\n")
    server.stdin.flush()


def _running_server(warm_first: bool = False) -> subprocess.Popen[str] | None:
    global _server, _pending
    if _server is not None and _server.poll() is None:
        return _server
    _pending = b""
    command = [sys.executable, "-m", "clinic2zoho.transform.dbt_fork_server"]
    if warm_first:
        command.append(WARM_UP_FIRST)
    try:
        _server = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL, text=True)
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


def _current_umask() -> int:
    mask = os.umask(0o077)
    os.umask(mask)
    return mask
