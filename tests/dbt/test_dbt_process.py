"""dbt commands forked from the fork server run as the `dbt` executable runs them: the same exit
code and output for the same command, the caller's environment, folder and umask, a timeout that
ends the command, and a server that ended replaced by a new one."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from clinic2zoho.transform import dbt_process

MACROS = """
{% macro show_call() %}
  {{ print("env " ~ env_var("CLINIC2ZOHO_PROBE", "unset")) }}
{% endmacro %}
{% macro fail_call() %}
  {{ exceptions.raise_compiler_error("planted failure " ~ env_var("CLINIC2ZOHO_PROBE", "unset")) }}
{% endmacro %}
{% macro wait_call() %}
  {# a query that runs until the caller's timeout, on one core: the suite shares two #}
  {% do run_query("set threads = 1") %}
  {% do run_query("select sum(hash(a)) from range(200000000000) t(a)") %}
{% endmacro %}
"""


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    (folder / "macros").mkdir(parents=True)
    (folder / "dbt_project.yml").write_text("name: probe\nversion: '1.0'\nconfig-version: 2\nprofile: probe\n")
    (folder / "profiles.yml").write_text(
        "probe:\n  target: local\n  outputs:\n    local:\n      type: duckdb\n      path: probe.duckdb\n")
    (folder / "macros" / "probe.sql").write_text(MACROS)
    (folder / "models").mkdir()
    (folder / "models" / "built.sql").write_text("{{ config(materialized='table') }} select 42 as answer")
    return folder


def command(project: Path, macro: str, target_name: str = "target") -> list[str]:
    target = project / target_name
    return ["--no-use-colors", "run-operation", macro, "--project-dir", str(project), "--profiles-dir", str(project),
            "--target-path", str(target), "--log-path", str(target / "logs")]


def env(**extra: str) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", ""), "DO_NOT_TRACK": "1", "DBT_SEND_ANONYMOUS_USAGE_STATS": "False", **extra}


def executable(args: list[str], environment: dict[str, str], cwd: Path) -> tuple[int, str]:
    """The `dbt` executable run as a plain subprocess: what a forked command must answer like."""
    proc = subprocess.run([dbt_process.dbt_executable(), *args], env=environment, cwd=cwd, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, check=False)
    return proc.returncode, proc.stdout


def lines(output: str) -> list[str]:
    """dbt's printed lines without their time stamps and timings."""
    return [re.sub(r"\d{2}:\d{2}:\d{2}|\d+\.\d+s", "", line).strip() for line in output.splitlines() if line.strip()]


def events(output: str) -> list[tuple[str, str]]:
    """The level and name of each event dbt printed as JSON."""
    return [(event["info"]["level"], event["info"]["name"])
            for event in map(json.loads, filter(None, output.splitlines()))]


@pytest.mark.parametrize("macro", ["show_call", "fail_call"])
def test_a_forked_command_answers_as_the_dbt_executable(project: Path, tmp_path: Path, macro: str):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    environment = env(CLINIC2ZOHO_PROBE="from-the-caller")
    forked = dbt_process.run_dbt_command(command(project, macro, "forked"), environment, cwd)
    plain = executable(command(project, macro, "executable"), environment, cwd)
    assert forked[0] == plain[0] == (0 if macro == "show_call" else 1)
    assert lines(forked[1]) == lines(plain[1])
    assert "from-the-caller" in forked[1]
    # the warehouse opened by its relative path in the caller's folder, as the executable opened it
    assert (cwd / "probe.duckdb").is_file()


def test_a_forked_command_prints_the_executables_events_at_info_and_at_debug(project: Path, tmp_path: Path):
    """The server's children format only the events a logger writes (dbt_event_lines): in JSON,
    the format Cosmos reads, they print what the executable prints, at info (the messages too)
    and at debug (every event dbt fires)."""
    json_lines = ["--log-format", "json"]
    forked = dbt_process.run_dbt_command([*command(project, "show_call", "forked"), *json_lines], env(), tmp_path)
    plain = executable([*command(project, "show_call", "executable"), *json_lines], env(), tmp_path)
    assert forked[0] == plain[0] == 0
    assert lines(messages(forked[1])) == lines(messages(plain[1])) and "env unset" in messages(forked[1])
    at_info = events(forked[1])
    debug = [*json_lines, "--log-level", "debug"]
    forked = dbt_process.run_dbt_command([*command(project, "show_call", "forked"), *debug], env(), tmp_path)
    plain = executable([*command(project, "show_call", "executable"), *debug], env(), tmp_path)
    assert forked[0] == plain[0] == 0
    assert events(forked[1]) == events(plain[1])
    assert ("debug", "SQLQuery") in events(forked[1]) and len(events(forked[1])) > len(at_info)


def messages(output: str) -> str:
    return "\n".join(json.loads(line)["info"]["msg"] for line in output.splitlines() if line.strip())


def test_the_child_takes_only_the_given_environment_and_the_callers_umask(project: Path, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("CLINIC2ZOHO_PROBE", "set-in-the-caller-only")
    dbt_process._stop_server()  # a server started now sees the variable in its own environment
    code, output = dbt_process.run_dbt_command(command(project, "show_call"), env(), tmp_path)
    assert code == 0 and "env unset" in output
    old = os.umask(0o027)
    try:
        dbt_process.run_dbt_command(command(project, "show_call", "umask"), env(), tmp_path)
    finally:
        os.umask(old)
    assert (project / "umask" / "manifest.json").stat().st_mode & 0o777 == 0o640


def test_a_timeout_ends_the_command_and_the_server_serves_the_next(project: Path, tmp_path: Path):
    with pytest.raises(subprocess.TimeoutExpired):
        dbt_process.run_dbt_command(command(project, "wait_call"), env(), tmp_path, timeout_s=6)
    assert dbt_process._server is not None and dbt_process._server.poll() is None
    assert dbt_process.run_dbt_command(command(project, "show_call"), env(), tmp_path)[0] == 0
    pids: list[int] = []
    with dbt_process._lock, pytest.raises(subprocess.TimeoutExpired):  # the server busy: the executable
        dbt_process.stream_dbt_command(command(project, "wait_call"), env(), tmp_path, lambda line: None,
                                       on_start=pids.append, timeout_s=6)
    assert pids and not _running(pids[0])


def test_a_server_that_ended_is_replaced(project: Path, tmp_path: Path):
    assert dbt_process.run_dbt_command(command(project, "show_call"), env(), tmp_path)[0] == 0
    first = dbt_process._server
    first.kill()
    first.wait()
    assert dbt_process.run_dbt_command(command(project, "show_call"), env(), tmp_path)[0] == 0
    assert dbt_process._server is not first and dbt_process._server.poll() is None


def test_the_warehouse_file_alone_holds_what_a_forked_command_built(project: Path, tmp_path: Path):
    """The child ends as the dbt executable does: DuckDB writes its changes into the file (a
    checkpoint) when it is closed, so a copy of the file alone (as tests and backups copy it) holds
    them; a child ended by os._exit left them in the write-ahead log beside it."""
    args = ["--no-use-colors", "run", "--project-dir", str(project), "--profiles-dir", str(project),
            "--target-path", str(project / "target"), "--log-path", str(project / "target" / "logs")]
    assert dbt_process.run_dbt_command(args, env(), tmp_path)[0] == 0
    assert not (tmp_path / "probe.duckdb.wal").exists()
    shutil.copy(tmp_path / "probe.duckdb", tmp_path / "copy.duckdb")
    with duckdb.connect(str(tmp_path / "copy.duckdb"), read_only=True) as con:
        assert con.execute("select answer from built").fetchall() == [(42,)]


def _stat(pid: int) -> list[str]:
    """The process's state and parent id (from /proc), or [] when it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].split()[:2]
    except (FileNotFoundError, IndexError):
        return []


def _running(pid: int) -> bool:
    return _stat(pid)[:1] not in ([], ["Z"])


@pytest.mark.parametrize("server_busy", [False, True], ids=["forked", "executable"])
def test_a_streamed_command_gives_each_line_while_dbt_runs(project: Path, tmp_path: Path, server_busy: bool):
    """The dbt group's build reads its lines as dbt prints them (Cosmos pushes each model's result
    from its line): each arrives while the command still runs, the same lines as the whole
    output, from a forked child or, when the server is serving another thread, the executable."""
    seen: list[tuple[str, bool]] = []
    pids: list[int] = []
    parents: list[str] = []
    environment = env(CLINIC2ZOHO_PROBE="streamed")

    def on_line(line: str) -> None:
        seen.append((line, _running(pids[0])))
        parents.append((_stat(pids[0]) + ["", ""])[1])

    def stream() -> int:
        return dbt_process.stream_dbt_command(command(project, "show_call", "streamed"), environment, tmp_path,
                                              on_line, on_start=pids.append)

    if server_busy:
        with dbt_process._lock:
            code = stream()
    else:
        code = stream()
    whole = executable(command(project, "show_call", "whole"), environment, tmp_path)
    assert code == whole[0] == 0
    assert lines("\n".join(line for line, _ in seen)) == lines(whole[1])
    assert any("env streamed" in line for line, _ in seen)
    assert seen[0][1]  # the first line came while dbt was still running
    # run by a child of the fork server, or by this process's own child
    assert parents[0] == str(os.getpid() if server_busy else dbt_process._server.pid)


def test_the_build_hook_forks_dbt_and_relays_each_line_to_cosmos(project: Path, tmp_path: Path):
    from clinic2zoho_airflow.hooks.dbt_forked import ForkedDbtSubprocessHook

    hook = ForkedDbtSubprocessHook()
    relayed: list[tuple[str, dict]] = []
    parents: list[str] = []

    def relay(line: str, kw: dict) -> None:
        relayed.append((line, kw))
        parents.append((_stat(hook.pid) + ["", ""])[1])

    result = hook.run_command([dbt_process.dbt_executable(), *command(project, "fail_call")], env=env(),
                              cwd=str(tmp_path), process_log_line=relay, context="the task's")
    assert result.exit_code == 1 and result.full_output == [line for line, _ in relayed]
    assert any("planted failure" in line for line in result.full_output)
    assert all(kw == {"context": "the task's", "project_dir": str(tmp_path)} for _, kw in relayed)
    assert parents[0] == str(dbt_process._server.pid)  # run by a child of the fork server
    # another program runs as Cosmos runs it
    assert hook.run_command(["echo", "not dbt"], env=env(), cwd=str(tmp_path)).full_output == ["not dbt"]


def test_killing_the_build_ends_its_dbt_process(project: Path, tmp_path: Path):
    """Airflow's on_kill (a task timed out or marked failed) reaches the forked dbt process."""
    import threading

    from clinic2zoho_airflow.hooks.dbt_forked import ForkedDbtSubprocessHook

    hook = ForkedDbtSubprocessHook()
    results = []
    runner = threading.Thread(target=lambda: results.append(hook.run_command(
        [dbt_process.dbt_executable(), *command(project, "wait_call")], env=env(), cwd=str(tmp_path))))
    runner.start()
    deadline = time.monotonic() + 60
    while hook.pid is None and time.monotonic() < deadline:
        time.sleep(0.05)
    pid = hook.pid
    assert pid is not None and _running(pid)
    hook.send_sigterm()
    runner.join(60)
    assert not runner.is_alive() and results[0].exit_code != 0 and not _running(pid)


def test_a_caller_that_gives_up_ends_the_command_and_the_server_serves_the_next(project: Path, tmp_path: Path):
    """A line callback that raises (or a task timeout raised inside it) ends the dbt child; the
    server then answers the next command as its own, forked as before."""
    pids: list[int] = []

    def give_up(line: str) -> None:
        raise KeyboardInterrupt("the caller gave up")

    with pytest.raises(KeyboardInterrupt):
        dbt_process.stream_dbt_command(command(project, "wait_call"), env(), tmp_path, give_up, on_start=pids.append)
    assert not _running(pids[0])
    server = dbt_process._server
    parents: list[str] = []
    code = dbt_process.stream_dbt_command(command(project, "show_call"), env(), tmp_path,
                                          lambda line: parents.append((_stat(pids[-1]) + ["", ""])[1]),
                                          on_start=pids.append)
    assert code == 0 and dbt_process._server is server and parents[0] == str(server.pid)


def test_what_the_server_warms_up_is_all_in_the_installed_dbt():
    """Every class the fork server builds the validation schema or compiles the serializers of,
    and every module it imports, exists in the installed dbt (a dbt upgrade that moved one would
    quietly make each command build or import it again)."""
    from clinic2zoho.transform.dbt_warm_up import IMPORTED, SERIALIZED, VALIDATED, warm_up

    assert warm_up() == {"schemas": sum(len(names) for names in VALIDATED.values()),
                         "serialized": sum(len(names) for names in SERIALIZED.values()),
                         "imported": len(IMPORTED)}


# The server as `python -m clinic2zoho.transform.dbt_fork_server` runs it, with dbt's command line
# replaced by a probe that reports the child's garbage collector.
GC_PROBE = """
import gc, json, sys
import dbt.cli.main
import clinic2zoho.transform.dbt_fork_server as server
def probe():
    print(json.dumps({"enabled": gc.isenabled(), "frozen": gc.get_freeze_count()}))
dbt.cli.main.cli = probe
print(json.dumps({"server_enabled": gc.isenabled()}), flush=True)
server.serve()
"""


def probe_request(output: Path) -> str:
    """One request line to a probed server, its child's output to `output` (the caller's pipe in the
    real server), run in the output's folder."""
    import json

    output.touch()
    return json.dumps({"args": [], "env": env(), "cwd": str(output.parent), "output": str(output),
                       "umask": 0o077}) + "\n"


def test_the_server_collects_nothing_and_its_children_collect_without_walking_its_heap(tmp_path: Path):
    """gc's recipe for fork without exec: collection off in the server, its objects frozen before
    each fork (a child's collections never walk them), collection back on in each child."""
    import json

    output = tmp_path / "output"
    done = subprocess.run([sys.executable, "-c", GC_PROBE], input=probe_request(output), text=True,
                          capture_output=True, check=True, timeout=120)
    said = [json.loads(line) for line in done.stdout.splitlines()]
    assert said[0] == {"server_enabled": False} and said[-1] == {"returncode": 0}
    child = json.loads(output.read_text())
    assert child["enabled"] is True
    assert child["frozen"] > 100_000  # dbt's modules and objects, frozen in the server before the fork


# The server as `python -m clinic2zoho.transform.dbt_fork_server [--warm-up-first]` runs it, with
# dbt's command line replaced by a probe that reports whether the child inherited the warm-up (the
# build task's module is imported by the warm-up, or by a build command itself).
WARM_PROBE = """
import json, sys
import dbt.cli.main
import clinic2zoho.transform.dbt_fork_server as server
dbt.cli.main.cli = lambda: print(json.dumps({"warm": "dbt.task.build" in sys.modules}))
server.main(sys.argv[1:])
"""


@pytest.mark.parametrize("flags", [[], [dbt_process.WARM_UP_FIRST]])
def test_a_server_started_ahead_forks_its_first_command_warm(tmp_path: Path, flags: list[str]):
    """A server started ahead of the commands (dbt_process.start_server: the DAG run's first task,
    listeners/dbt_server.py) warms up at its start, so the run's build is forked warm; one started
    for a command warms up at its second request, as a task's one command needs no warm-up."""
    import json

    outputs = [tmp_path / "first", tmp_path / "second"]
    subprocess.run([sys.executable, "-c", WARM_PROBE, *flags], input="".join(map(probe_request, outputs)),
                   text=True, capture_output=True, check=True, timeout=120)
    warm = [json.loads(output.read_text())["warm"] for output in outputs]
    assert warm == ([True, True] if flags else [False, True])


def test_start_server_starts_a_server_that_warms_up_first(tmp_path: Path):
    dbt_process._stop_server()
    try:
        dbt_process.start_server()
        assert dbt_process._server.args[-1] == dbt_process.WARM_UP_FIRST
        code, output = dbt_process.run_dbt_command(["--version"], env(), tmp_path)
        assert code == 0 and "dbt" in output.lower()
    finally:
        dbt_process._stop_server()
    code, _ = dbt_process.run_dbt_command(["--version"], env(), tmp_path)  # started for a command
    assert code == 0 and dbt_process.WARM_UP_FIRST not in dbt_process._server.args
