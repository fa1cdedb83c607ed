"""Child processes whose output reaches their log file with every known secret replaced by `***`.

`clinic2zoho migrate` runs Airflow in children and keeps their output in `<work>/logs`. Airflow
cannot be trusted to mask: `airflow dags test` runs tasks in-process, and its supervisor comms log
each mask-secret request at DEBUG as `Sending request msg=MaskSecret(value=...)`; its masker does
not look inside that object, so every Connection secret a task reads lands in the log in clear.
The one place that sees all of a child's output, from every logger of every library at every level,
is the pipe it writes to: the secrets migrate hands out are replaced there, before any byte
reaches a file."""

from __future__ import annotations

import re
import subprocess
import threading
from pathlib import Path
from typing import Iterable

MASK = b"***"
MIN_SECRET_LENGTH = 8  # shorter values would mask ordinary words; every credential here is longer


class Redactor:
    """Replaces each of the given secrets (longest first, so a secret containing another is masked
    whole) in a chunk of bytes."""

    def __init__(self, secrets: Iterable[str]):
        given = [s for s in secrets if s]
        values = {s for s in given if len(s) >= MIN_SECRET_LENGTH}
        short = [s for s in given if len(s) < MIN_SECRET_LENGTH]
        if short:
            raise ValueError(f"{len(short)} secret(s) shorter than {MIN_SECRET_LENGTH} characters cannot be "
                             "masked reliably")
        ordered = sorted(values, key=len, reverse=True)
        self._pattern = re.compile(b"|".join(re.escape(v.encode()) for v in ordered)) if ordered else None

    def __call__(self, data: bytes) -> bytes:
        return self._pattern.sub(MASK, data) if self._pattern else data


class RedactedProcess:
    """`subprocess.Popen` with stdout and stderr appended to `log` through `redact`, line by line
    (a secret holds no newline, so no secret is ever split between two writes)."""

    def __init__(self, cmd: list[str], env: dict[str, str], log: Path, redact: Redactor):
        self._log = open(log, "ab")
        try:
            self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
        except BaseException:
            self._log.close()
            raise
        self._redact = redact
        self._pump = threading.Thread(target=self._copy, name="redacted-output", daemon=True)
        self._pump.start()

    def _copy(self) -> None:
        assert self.proc.stdout is not None
        for line in iter(self.proc.stdout.readline, b""):
            self._log.write(self._redact(line))
            self._log.flush()

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode

    def poll(self) -> int | None:
        return self.proc.poll()

    def terminate(self) -> None:
        self.proc.terminate()

    def wait(self, timeout: float | None = None) -> int:
        code = self.proc.wait(timeout=timeout)
        # A grandchild that inherited the pipe may keep it open: the log stops at a bounded wait.
        self._pump.join(timeout=30)
        if not self._pump.is_alive():
            self._log.close()
        return code


def run_redacted(cmd: list[str], env: dict[str, str], log: Path, redact: Redactor) -> int:
    return RedactedProcess(cmd, env, log, redact).wait()
