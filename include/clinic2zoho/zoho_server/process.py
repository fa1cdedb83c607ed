"""Run the local Zoho server in a subprocess, for tests, the demo and benchmarks.

    with ZohoServerProcess(users=[{"email": "dr.a@clinic.example", "full_name": "Dr A"}]) as zs:
        zs.api_url, zs.client_id, zs.refresh_token, zs.settings(per_minute_credits=500), zs.snapshot()
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from clinic2zoho.tls import tls_context

from .command import credentials_path


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class ZohoServerProcess:
    def __init__(self, state: str | Path | None = None, users: str | Path | list[dict[str, Any]] | None = None,
                 port: int | None = None, host: str = "127.0.0.1", settings: dict[str, Any] | None = None,
                 edition: str | None = None, startup_timeout: float = 30.0, workdir: str | Path | None = None) -> None:
        self._tmp = None
        if workdir is None and (state is None or isinstance(users, list)):
            self._tmp = tempfile.TemporaryDirectory(prefix="zoho-server-")
            workdir = self._tmp.name
        self.workdir = Path(workdir) if workdir is not None else Path(state).parent  # type: ignore[arg-type]
        self.state = Path(state) if state is not None else self.workdir / "zoho_state.sqlite"
        if isinstance(users, list):
            users_path = self.workdir / f"{self.state.name}.users.json"
            users_path.write_text(json.dumps(users), encoding="utf-8")
            users = users_path
        self.users = Path(users) if users is not None else None
        self.host = host
        self.port = port
        self.fixed_port = port is not None
        self.initial_settings = settings or {}
        self.edition = edition
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = self.workdir / f"{self.state.name}.log"
        self.client_id = self.client_secret = self.refresh_token = self.admin_token = self.org_id = self.zgid = ""
        self._settings_applied = False

    # ---- URLs ----------------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    accounts_url = api_url = upload_url = base_url

    # ---- lifecycle -------------------------------------------------------------------------------------
    def start(self) -> "ZohoServerProcess":
        last_error = ""
        for _ in range(1 if self.fixed_port else 5):
            if not self.fixed_port:
                self.port = free_port(self.host)
            cmd = [sys.executable, "-m", "clinic2zoho.cli", "zoho-server", "--port", str(self.port), "--state", str(self.state),
                   "--host", self.host]
            if self.users is not None:
                cmd += ["--users", str(self.users)]
            if self.edition:
                cmd += ["--edition", self.edition]
            log = open(self.log_path, "ab")
            try:
                self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                             env={**os.environ, "PYTHONUNBUFFERED": "1"})
            finally:
                log.close()
            if self._wait_ready():
                self._load_credentials()
                if not self._settings_applied and self.initial_settings:
                    self.settings(**self.initial_settings)
                    self._settings_applied = True
                return self
            last_error = self._log_tail()
            self._kill()
        raise RuntimeError(f"zoho server did not start on {self.host}:{self.port}; log {self.log_path}:\n{last_error}")

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                return False
            try:
                if self._answers_as_this_org(httpx.get(f"{self.base_url}/__health", timeout=1.0, verify=tls_context())):
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        return False

    def _answers_as_this_org(self, health: httpx.Response) -> bool:
        """The server on the port is this process's: the org it names is the one whose credentials
        this process wrote before listening. Another process may have taken the free port first
        (two started at once); ours then fails to bind and ends, and start() tries another port."""
        if health.status_code != 200:
            return False
        try:
            written = json.loads(credentials_path(self.state).read_text(encoding="utf-8"))
            return str(health.json().get("org_id")) == str(written.get("org_id"))
        except (OSError, ValueError):
            return False

    def _log_tail(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
        except OSError:
            return ""

    def _load_credentials(self) -> None:
        creds = json.loads(credentials_path(self.state).read_text(encoding="utf-8"))
        self.client_id, self.client_secret = creds["client_id"], creds["client_secret"]
        self.refresh_token, self.admin_token, self.org_id = creds["refresh_token"], creds["admin_token"], creds["org_id"]
        self.zgid = creds["zgid"]  # X-CRM-ORG on bulk uploads

    def _kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def stop(self) -> None:
        self._kill()

    def crash(self) -> None:
        """Kill the server without a clean shutdown (SIGKILL), as a power cut would."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    def restart(self) -> "ZohoServerProcess":
        self.stop()
        self.fixed_port = True  # the same URLs after a restart
        return self.start()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def close(self) -> None:
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> "ZohoServerProcess":
        return self.start() if not self.running else self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- admin API --------------------------------------------------------------------------------------
    def _admin(self, method: str, path: str, body: Any = None) -> Any:
        resp = httpx.request(method, f"{self.base_url}{path}", json=body, headers={"X-Admin-Token": self.admin_token},
                             timeout=60.0, verify=tls_context())
        resp.raise_for_status()
        return resp.json()

    def snapshot(self) -> dict[str, Any]:
        return self._admin("GET", "/__admin/snapshot")

    def settings(self, **changes: Any) -> dict[str, Any]:
        return self._admin("POST", "/__admin/settings", changes)

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        return self._admin("POST", "/__admin/clock", {"advance_seconds": seconds})

    def credits(self) -> dict[str, Any]:
        return self._admin("GET", "/__admin/credits")

    def calls(self, reset: bool = False) -> dict[str, Any]:
        return self._admin("DELETE" if reset else "GET", "/__admin/calls")

    def set_record_fields(self, module: str, record_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        return self._admin("POST", f"/__admin/records/{module}/{record_id}", fields)

    def set_users(self, users: list[dict[str, Any]]) -> dict[str, Any]:
        return self._admin("POST", "/__admin/users", users)

    def accept_invitation(self, user_id: str) -> dict[str, Any]:
        """The invited user accepts (zoho_server/users.py): confirmed, may own records."""
        return self._admin("POST", f"/__admin/users/{user_id}/accept")

    def access_token(self) -> str:
        """A fresh access token through the OAuth endpoint (convenience for tests)."""
        resp = httpx.post(f"{self.accounts_url}/oauth/v2/token", data={
            "grant_type": "refresh_token", "client_id": self.client_id, "client_secret": self.client_secret,
            "refresh_token": self.refresh_token}, timeout=10.0, verify=tls_context())
        resp.raise_for_status()
        return resp.json()["access_token"]
