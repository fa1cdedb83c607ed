"""The fork server of dbt_process: imports dbt once, then forks one child per command.

Requests come one JSON line at a time on stdin (args, env, cwd, output pipe, umask); for each the
server answers `{"pid": ...}` when the child started and `{"returncode": ...}` when it ended. It
ends when its stdin closes (the process that started it ended).

At its second request the server warms up (dbt_warm_up) before forking: what dbt builds on first
use is then built once for every later command, not once in each. Not at its start: a server that
an Airflow task starts for its one dbt command would build it for no other. A server started ahead
of the commands (`--warm-up-first`, dbt_process.start_server) warms up at its start instead: its
first command, the DAG run's build, is then forked warm, and the warm-up overlapped the tasks
before it."""

from __future__ import annotations

import gc
import json
import os
import sys

# Python's recipe for a process that forks without exec (the gc module's docs, gc.freeze): no
# collection in the server, its objects frozen before each fork and collection back on in the
# child. A child's collections then never walk the server's heap (dbt and what the warm-up built)
# nor touch its pages, which fork shares copy-on-write. Measured on 2026-12-06 (600 patients,
# `dbt build` of the project, two interleaved rounds of four commands each way): 17.9 s of CPU per
# warm command against 20.9 s without.
gc.disable()

# what every dbt command imports first: dbt's command line, the adapter and the project's plugin
import dbt.adapters.duckdb  # noqa: F401
import dbt.cli.main  # noqa: F401

import clinic2zoho.transform.duckdb_plugin  # noqa: F401
from clinic2zoho.transform.dbt_event_lines import format_only_logged_events
from clinic2zoho.transform.dbt_process import WARM_UP_FIRST
from clinic2zoho.transform.dbt_warm_up import warm_up


def serve(warm_first: bool = False) -> None:
    format_only_logged_events()  # in the server: every command forked from it has it
    if warm_first:
        _warm_up()
    served = 0
    for line in sys.stdin:
        request = json.loads(line)
        served += 1
        if served == 2 and not warm_first:
            _warm_up()
        gc.freeze()
        pid = os.fork()
        if pid == 0:
            gc.enable()
            # the child ends as a dbt process ends, not with os._exit: DuckDB writes its last
            # changes into the warehouse file (a checkpoint) when its database object is finalised
            sys.exit(_run(request))
        _answer({"pid": pid})
        _, status = os.waitpid(pid, 0)
        _answer({"returncode": os.waitstatus_to_exitcode(status)})


def _warm_up() -> None:
    try:
        warm_up()
    except Exception:  # noqa: BLE001 - only a head start: each command builds what it lacks
        pass


def _run(request: dict) -> int:
    """In the child: the command's output pipe (the caller's) on stdout and stderr, no stdin, its folder, umask
    and environment; then dbt's command line. Returns dbt's exit code."""
    code = 1
    try:
        fd = os.open(request["output"], os.O_WRONLY)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        os.close(null)
        os.umask(request["umask"])
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = ["dbt", *request["args"]]
        try:
            dbt.cli.main.cli()
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    except BaseException:  # noqa: BLE001 - the child reports every failure as its exit code
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    return code


def _answer(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def main(argv: list[str]) -> None:
    serve(warm_first=WARM_UP_FIRST in argv)


if __name__ == "__main__":
    main(sys.argv[1:])
