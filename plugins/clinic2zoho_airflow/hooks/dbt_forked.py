"""Cosmos's subprocess hook with the dbt command forked from the project's dbt fork server
(clinic2zoho.transform.dbt_process) instead of started as a new `dbt` interpreter: the dbt
group's build then skips dbt's imports (about 1.5 s of the build's start, bench/dbt_start.py),
and more when the server was started ahead of it (listeners.dbt_server). Its lines reach Cosmos
as they are printed, as from the interpreter's pipe: Cosmos pushes each model's result to XCom as
its line comes. A command that is not the project's `dbt`, or given no folder, runs
as Cosmos runs it."""

from __future__ import annotations

import logging
import os
import signal
from pathlib import Path
from typing import Any

from cosmos.hooks.subprocess import FullOutputSubprocessHook, FullOutputSubprocessResult

from clinic2zoho.transform.dbt_process import dbt_executable, stream_dbt_command

log = logging.getLogger(__name__)


class ForkedDbtSubprocessHook(FullOutputSubprocessHook):
    def __init__(self) -> None:
        super().__init__()
        self.pid: int | None = None  # the process running the current command

    def run_command(self, command: list[str], env: dict[str, str] | None = None, output_encoding: str = "utf-8",
                    cwd: str | None = None, process_log_line: Any = None, **kwargs: Any) -> FullOutputSubprocessResult:
        if cwd is None or not command or command[0] != dbt_executable():
            return super().run_command(command, env=env, output_encoding=output_encoding, cwd=cwd,
                                       process_log_line=process_log_line, **kwargs)
        kwargs.setdefault("project_dir", cwd)  # as Cosmos's hook gives its line callable
        lines: list[str] = []

        def on_line(line: str) -> None:
            lines.append(line)
            if process_log_line:
                process_log_line(line, kwargs)
            else:
                log.info("%s", line)

        def on_start(pid: int) -> None:
            self.pid = pid

        code = stream_dbt_command(command[1:], dict(os.environ) if env is None else env, Path(cwd), on_line,
                                  on_start)
        self.pid = None
        log.info("Command exited with return code %s", code)
        return FullOutputSubprocessResult(exit_code=code, output=lines[-1] if lines else "", full_output=lines)

    def send_sigterm(self) -> None:
        self._signal(signal.SIGTERM) or super().send_sigterm()

    def send_sigint(self) -> None:
        self._signal(signal.SIGINT) or super().send_sigint()

    def _signal(self, sig: int) -> bool:
        if self.pid is None:
            return False
        try:
            os.kill(self.pid, sig)
        except ProcessLookupError:
            pass
        return True
