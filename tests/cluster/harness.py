"""A real Airflow deployment on loopback: the components docker-compose.yml runs, without Docker.

`AirflowCluster` creates a fresh PostgreSQL database, writes a private AIRFLOW_HOME, runs
`airflow db migrate`, then starts `airflow api-server`, `scheduler`, `dag-processor`, `triggerer`
and Celery workers (`airflow celery worker`) with Redis as the broker, waits until they are
healthy, and drives DAG runs through the REST API. `stop()` ends every process it started and
drops the database. A start costs ~20 s and ~20 CPU-seconds, so the tests share one per session
(the `airflow_cluster` fixture in conftest.py serves every DAG they drive). Usage:

    with AirflowCluster(tmp_dir, dags=[Path("dags/cluster_smoke.py")]) as cluster:
        result = cluster.trigger_and_wait("cluster_smoke", conf={"shards": 4}, timeout=120)
        result.assert_success()

Configuration through the environment (defaults are the loopback services of our machines):
`CLUSTER_TEST_POSTGRES` (an admin DSN, default postgresql://postgres@127.0.0.1:5432/postgres)
and `CLUSTER_TEST_REDIS` (default redis://127.0.0.1:6379)."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import psutil
import psycopg2
import redis

from clinic2zoho.cluster.pools import REQUIRED_POOLS

ROOT = Path(__file__).resolve().parents[2]
AIRFLOW_BIN = str(Path(sys.executable).with_name("airflow"))
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379"
TERMINAL_RUN_STATES = {"success", "failed"}
MIGRATE_ARGS = ["db", "migrate"]  # run once before the components start, like compose's airflow-init
WORKER_LABELS = "abcdefghijklmnopqrstuvwxyz"
# keys kombu keeps for any Celery app in a Redis database (not tied to one queue)
CELERY_BOOKKEEPING_KEYS = {
    "_kombu.binding_deadlines", "_kombu.binding.celery.pidbox", "_kombu.binding.celeryev",
    "_kombu.binding.reply.celery.pidbox", "unacked", "unacked_index", "unacked_mutex",
}


class ClusterError(RuntimeError):
    """The cluster could not start, or a run did not finish in time."""


def postgres_admin_dsn() -> str:
    return os.environ.get("CLUSTER_TEST_POSTGRES", DEFAULT_POSTGRES)


def redis_base_url() -> str:
    return os.environ.get("CLUSTER_TEST_REDIS", DEFAULT_REDIS).rstrip("/")


def services_unavailable() -> str | None:
    """Why the cluster cannot run here (PostgreSQL or Redis not answering), or None."""
    try:
        psycopg2.connect(postgres_admin_dsn(), connect_timeout=3).close()
    except psycopg2.Error as exc:
        return f"PostgreSQL does not answer at {_redact(postgres_admin_dsn())}: {str(exc).strip()}"
    try:
        redis.Redis.from_url(redis_base_url(), socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        return f"Redis does not answer at {_redact(redis_base_url())}: {exc}"
    return None


def _redact(url: str) -> str:
    """A URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def free_port() -> int:
    """A loopback port free right now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Component:
    """One started process (its own process group) and its log file."""

    name: str
    args: list[str]
    log: Path
    process: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def tail(self, lines: int = 40) -> str:
        if not self.log.exists():
            return "(no log)"
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class RunResult:
    """A finished DAG run: its final state, each task instance's state (key `task_id` or
    `task_id[map_index]`), the task instances as the REST API returned them (hostname, pool,
    start/end dates...), and the log tails of failed tasks."""

    dag_id: str
    run_id: str
    state: str
    task_states: dict[str, str]
    task_instances: list[dict]
    seconds: float
    failed_task_logs: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.state == "success"

    def hostnames(self) -> dict[str, str]:
        """Task key -> the host Airflow recorded for it (the worker name on this harness)."""
        return {_ti_key(ti): ti.get("hostname") or "" for ti in self.task_instances}

    def assert_success(self) -> None:
        if self.ok:
            return
        logs = "\n".join(f"--- {key} ---\n{text}" for key, text in self.failed_task_logs.items())
        raise AssertionError(f"{self.dag_id} run {self.run_id} ended {self.state}: {self.task_states}\n{logs}")


def _ti_key(ti: Mapping) -> str:
    index = ti.get("map_index", -1)
    return ti["task_id"] if index is None or index < 0 else f"{ti['task_id']}[{index}]"


class MemorySampler(threading.Thread):
    """Samples the proportional set size (PSS; RSS where unavailable) of every component's process
    tree every `interval` seconds, keeping the peak of the total and of each component."""

    def __init__(self, components: Sequence[Component], interval: float = 2.0):
        super().__init__(daemon=True, name="cluster-memory")
        self.components, self.interval = components, interval
        self.peak_total = 0
        self.peak_by_component: dict[str, int] = {}
        self._stop = threading.Event()

    def run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def sample(self) -> None:
        total = 0
        for comp in self.components:
            if comp.process is None or comp.process.poll() is not None:
                continue
            size = 0
            try:
                root = psutil.Process(comp.pid)
                for proc in [root, *root.children(recursive=True)]:
                    try:
                        info = proc.memory_full_info()
                        size += getattr(info, "pss", info.rss)
                    except (psutil.NoSuchProcess, psutil.AccessDenied):
                        continue
            except psutil.NoSuchProcess:
                continue
            total += size
            self.peak_by_component[comp.name] = max(self.peak_by_component.get(comp.name, 0), size)
        self.peak_total = max(self.peak_total, total)

    def stop(self) -> None:
        self._stop.set()


class AirflowCluster:
    """Airflow with CeleryExecutor on loopback: PostgreSQL metadata DB, Redis broker, api-server,
    scheduler, dag-processor, triggerer and `workers` Celery workers of `concurrency` slots each.

    `dags`: DAG files to serve (linked into a private DAGs folder, so only they are parsed); None
    serves the repository's dags/ folder. `env`: extra environment for every component, applied
    last (Connections as `AIRFLOW_CONN_*`, `CLINIC2ZOHO_HOME`, any `AIRFLOW__SECTION__KEY`).
    `pools`: pools to create, name -> (slots, description); default the project's REQUIRED_POOLS.
    `sample_memory`: sample the components' PSS every 2 s for `memory_report()` (the harness's
    figures); reading every process's smaps costs about 1% of the whole suite's CPU, and no test
    asserts on it."""

    def __init__(
        self,
        root: Path,
        dags: Iterable[Path] | None = None,
        env: Mapping[str, str] | None = None,
        workers: int = 2,
        concurrency: int = 2,
        parallelism: int = 4,
        pools: Mapping[str, tuple[int, str]] | None = None,
        sample_memory: bool = True,
    ):
        self.root = Path(root)
        self.sample_memory = sample_memory
        self.token = secrets.token_hex(4)
        self.database = f"airflow_it_{self.token}"
        self.queue = f"clinic2zoho_it_{self.token}"
        self.api_port = free_port()
        self.api_url = f"http://127.0.0.1:{self.api_port}"
        self.airflow_home = self.root / "airflow"
        self.logs_dir = self.root / "component-logs"
        self.dag_files = None if dags is None else [Path(p).resolve() for p in dags]
        self.dags_folder = ROOT / "dags" if dags is None else self.root / "dags"
        self.extra_env = dict(env or {})
        self.work_home = Path(self.extra_env.get("CLINIC2ZOHO_HOME") or self.root / "work")
        self.n_workers, self.concurrency, self.parallelism = workers, concurrency, parallelism
        self.pools = dict(REQUIRED_POOLS if pools is None else pools)
        self.worker_names = [f"worker-{WORKER_LABELS[i]}" for i in range(workers)]
        self.components: list[Component] = []
        self.timings: dict[str, float] = {}
        self.redis_db: int | None = None
        self.env: dict[str, str] = {}
        self._database_created = False
        self._client: httpx.Client | None = None
        self._sampler: MemorySampler | None = None

    # ----- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> AirflowCluster:
        try:
            self.start()
        except BaseException:
            self.stop(dump_logs=True)
            raise
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.stop(dump_logs=exc_type is not None)

    def start(self, timeout: float = 300) -> None:
        started = time.monotonic()
        for folder in (self.airflow_home, self.logs_dir, self.work_home):
            folder.mkdir(parents=True, exist_ok=True)
        self._link_dags()
        self._create_database()
        self.redis_db = self._pick_redis_db()
        self.env = self._base_env()
        self._run_once("db-migrate", [AIRFLOW_BIN, *MIGRATE_ARGS], timeout=180)
        self.timings["migrate_s"] = time.monotonic() - started
        self._start_components()
        if self.sample_memory:
            self._sampler = MemorySampler(self.components)
            self._sampler.start()
        self._wait_healthy(timeout)
        for name, (slots, description) in self.pools.items():
            self.set_pool(name, slots, description)
        self.timings["start_s"] = time.monotonic() - started

    def stop(self, dump_logs: bool = False, grace: float = 20) -> None:
        """End every process started (whole trees, by pid), then drop the database and Redis keys."""
        stopping = time.monotonic()
        if self._sampler:
            self._sampler.sample()
            self._sampler.stop()
        if dump_logs:
            sys.stderr.write(self.dump_logs())
        if self._client:  # an open keep-alive connection would hold the api-server's shutdown
            self._client.close()
            self._client = None
        trees = {}
        for comp in self.components:
            if comp.process and comp.process.poll() is None:
                try:
                    trees[comp.name] = [comp.process, *psutil.Process(comp.pid).children(recursive=True)]
                except psutil.NoSuchProcess:
                    continue
                try:
                    os.killpg(comp.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + grace
        for comp in self.components:
            if comp.process:
                try:
                    comp.process.wait(timeout=max(0.1, deadline - time.monotonic()))
                    self.timings[f"exit_{comp.name}_s"] = time.monotonic() - stopping
                except subprocess.TimeoutExpired:
                    pass
        for procs in trees.values():  # leftovers of a tree (e.g. a task in its own session)
            for proc in procs:
                try:
                    if isinstance(proc, subprocess.Popen):
                        if proc.poll() is None:
                            proc.kill()
                            proc.wait(5)
                    elif proc.is_running():
                        proc.kill()
                except (psutil.NoSuchProcess, ProcessLookupError):
                    pass
        self._drop_redis_keys()
        self._drop_database()
        self.timings["stop_s"] = time.monotonic() - stopping

    # ----- setup -----------------------------------------------------------------------------
    def _link_dags(self) -> None:
        if self.dag_files is None:
            return
        self.dags_folder.mkdir(parents=True, exist_ok=True)
        for path in self.dag_files:
            if not path.is_file():
                raise ClusterError(f"DAG file not found: {path}")
            (self.dags_folder / path.name).symlink_to(path)

    def _admin_connection(self):
        con = psycopg2.connect(postgres_admin_dsn(), connect_timeout=5)
        con.autocommit = True
        return con

    def _create_database(self) -> None:
        con = self._admin_connection()
        try:
            with con.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{self.database}"')
        finally:
            con.close()
        self._database_created = True

    def _drop_database(self) -> None:
        if not self._database_created:
            return
        con = self._admin_connection()
        try:
            with con.cursor() as cur:
                cur.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            self._database_created = False
        finally:
            con.close()

    def _database_url(self, scheme: str) -> str:
        parts = urlsplit(postgres_admin_dsn())
        return urlunsplit(parts._replace(scheme=scheme, path=f"/{self.database}"))

    def _pick_redis_db(self) -> int:
        """An empty Redis database number when there is one (runs never share a queue anyway)."""
        base = redis.Redis.from_url(redis_base_url())
        count = int(base.config_get("databases").get("databases", 16))
        candidates = list(range(1, count))
        secrets.SystemRandom().shuffle(candidates)
        for number in candidates:
            if redis.Redis.from_url(f"{redis_base_url()}/{number}").dbsize() == 0:
                return number
        return candidates[0] if candidates else 0

    def _drop_redis_keys(self) -> None:
        """Delete this run's queue keys; then Celery's shared bookkeeping keys too, if no one else
        uses that Redis database (so it stays free for the next run)."""
        if self.redis_db is None:
            return
        try:
            client = redis.Redis.from_url(f"{redis_base_url()}/{self.redis_db}")
            ours = list(client.scan_iter(match=f"*{self.queue}*"))
            if ours:
                client.delete(*ours)
            rest = {key.decode() for key in client.scan_iter()}
            if rest and rest <= CELERY_BOOKKEEPING_KEYS:
                client.delete(*rest)
        except redis.RedisError:
            pass

    def _base_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "CLINIC2ZOHO_"))}
        env.update(
            {
                "AIRFLOW_HOME": str(self.airflow_home),
                "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
                "AIRFLOW__CORE__AUTH_MANAGER": (
                    "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
                ),
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
                "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
                "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__PARALLELISM": str(self.parallelism),
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.api_url}/execution/",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self._database_url("postgresql+psycopg2"),
                "AIRFLOW__CELERY__BROKER_URL": f"{redis_base_url()}/{self.redis_db}",
                "AIRFLOW__CELERY__RESULT_BACKEND": self._database_url("db+postgresql"),
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(self.concurrency),
                "AIRFLOW__OPERATORS__DEFAULT_QUEUE": self.queue,
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(self.api_port),
                "AIRFLOW__API__WORKERS": "1",
                "AIRFLOW__API__BASE_URL": self.api_url,
                "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(64),  # >= 64 bytes for HS512
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
                "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
                # the served DAG files never change while the cluster runs: parsed once when found,
                # not again every 30 s (the cutover's parse renders the dbt project: ~1 CPU-second)
                "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "3600",
                "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
                "AIRFLOW__COSMOS__CACHE_DIR": str(self.root / "cosmos-cache"),
                "DO_NOT_TRACK": "1",
                "SCARF_NO_ANALYTICS": "true",
                "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
                "CLINIC2ZOHO_HOME": str(self.work_home),
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.extra_env)
        return env

    def _run_once(self, name: str, args: list[str], timeout: float) -> None:
        log = self.logs_dir / f"{name}.log"
        with log.open("w") as handle:
            done = subprocess.run(args, env=self.env, cwd=self.root, stdout=handle, stderr=subprocess.STDOUT,
                                  timeout=timeout, check=False)
        if done.returncode != 0:
            raise ClusterError(f"`{' '.join(args[1:])}` failed ({done.returncode}):\n"
                               + Component(name, args, log).tail(40))

    def _spawn(self, name: str, args: list[str], env: Mapping[str, str]) -> Component:
        comp = Component(name, args, self.logs_dir / f"{name}.log")
        handle = comp.log.open("w")
        comp.process = subprocess.Popen(args, env=dict(env), cwd=self.root, stdout=handle,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        handle.close()
        self.components.append(comp)
        return comp

    def component_args(self) -> list[tuple[str, list[str], dict[str, str]]]:
        """(name, argv, extra environment) of every long-running component, in start order: the
        services docker-compose.yml runs, one process each, plus one Celery worker per name."""
        a = AIRFLOW_BIN
        components: list[tuple[str, list[str], dict[str, str]]] = [
            ("api-server", [a, "api-server", "--host", "127.0.0.1", "--port", str(self.api_port), "--workers", "1"], {}),
            ("scheduler", [a, "scheduler"], {}),
            ("dag-processor", [a, "dag-processor"], {}),
            ("triggerer", [a, "triggerer"], {}),
        ]
        for name in self.worker_names:
            args = [a, "celery", "worker", "--concurrency", str(self.concurrency), "--queues", self.queue,
                    "--celery-hostname", f"{name}-{self.token}@%h"]
            env = {
                # each worker names itself, so tasks and Airflow's records say where they ran
                "CLINIC2ZOHO_WORKER_NAME": name,
                "AIRFLOW__CORE__HOSTNAME_CALLABLE": "clinic2zoho.cluster.worker_identity.hostname",
                # workers on one host each need their own log server port
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
                # as docker-compose.yml: the DAG files' modules loaded once per worker, not per task
                "AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS": "clinic2zoho.cluster.celery_worker.CELERY_CONFIG",
            }
            components.append((name, args, env))
        return components

    def _start_components(self) -> None:
        for name, args, extra in self.component_args():
            self._spawn(name, args, {**self.env, **extra})

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pending = {"api", "scheduler", "triggerer", "dag_processor", *self.worker_names}
        while pending:
            for comp in self.components:
                if comp.process and comp.process.poll() is not None:
                    raise ClusterError(f"{comp.name} exited with {comp.process.returncode}:\n{comp.tail(40)}")
            for comp in self.components:
                if comp.name in pending and comp.name in self.worker_names and " ready." in comp.tail(200):
                    pending.discard(comp.name)
            try:
                health = httpx.get(f"{self.api_url}/api/v2/monitor/health", timeout=10).json()
                pending.discard("api")
                for part in ("metadatabase", "scheduler", "triggerer", "dag_processor"):
                    if (health.get(part) or {}).get("status") == "healthy":
                        pending.discard(part)
            except (httpx.HTTPError, ValueError):
                pass
            if not pending:
                break
            if time.monotonic() > deadline:
                raise ClusterError(f"not healthy after {timeout:.0f}s: {sorted(pending)}\n{self.dump_logs()}")
            time.sleep(1)

    # ----- REST API --------------------------------------------------------------------------
    @property
    def client(self) -> httpx.Client:
        """An authenticated client for the api-server (all users are admins on this harness)."""
        if self._client is None:
            token = httpx.get(f"{self.api_url}/auth/token", timeout=60).json()["access_token"]
            self._client = httpx.Client(base_url=f"{self.api_url}/api/v2", timeout=60,
                                        headers={"Authorization": f"Bearer {token}"})
        return self._client

    def request(self, method: str, path: str, attempts: int = 3, **kwargs) -> httpx.Response:
        """One call to `/api/v2`, retried on connection errors and timeouts (a busy shared machine
        can stall the api-server for a while); the status is left to the caller."""
        for attempt in range(1, attempts + 1):
            try:
                return self.client.request(method, path, **kwargs)
            except httpx.TransportError:
                if attempt == attempts:
                    raise
                time.sleep(2 * attempt)
        raise AssertionError("unreachable")

    def api(self, method: str, path: str, accept: Iterable[int] = (), **kwargs) -> httpx.Response:
        """A call to `/api/v2` that must succeed (or answer one of the `accept` statuses)."""
        response = self.request(method, path, **kwargs)
        if response.status_code >= 400 and response.status_code not in set(accept):
            raise ClusterError(f"{method} {path} -> {response.status_code}: {response.text[:500]}")
        return response

    def set_pool(self, name: str, slots: int, description: str = "") -> None:
        body = {"name": name, "slots": slots, "description": description, "include_deferred": False}
        if self.request("GET", f"/pools/{name}").status_code == 200:
            self.api("PATCH", f"/pools/{name}", json=body)
        else:
            self.api("POST", "/pools", json=body)

    def import_errors(self) -> dict[str, str]:
        rows = self.api("GET", "/importErrors").json().get("import_errors", [])
        return {row["filename"]: row["stack_trace"] for row in rows}

    def wait_for_dag(self, dag_id: str, timeout: float = 90) -> None:
        """Wait until the dag-processor has parsed `dag_id`; on timeout, name the import errors."""
        deadline = time.monotonic() + timeout
        while self.request("GET", f"/dags/{dag_id}").status_code != 200:
            if time.monotonic() > deadline:
                raise ClusterError(f"{dag_id} not parsed after {timeout:.0f}s; import errors: "
                                   f"{self.import_errors() or 'none'}\n" + self.component("dag-processor").tail(30))
            time.sleep(1)

    def trigger_and_wait(
        self, dag_id: str, conf: Mapping | None = None, timeout: float = 120, run_id: str | None = None
    ) -> RunResult:
        """Unpause `dag_id`, trigger a run with `conf`, wait until it succeeds or fails, and return
        its final state and task states. Raises ClusterError if it is still going after `timeout`."""
        started = time.monotonic()
        self.wait_for_dag(dag_id, timeout=min(timeout, 90))
        self.api("PATCH", f"/dags/{dag_id}", json={"is_paused": False})
        run_id = run_id or f"it__{self.token}__{int(time.time() * 1000)}"
        # 409: a retried POST whose first attempt went through (the run id is ours)
        self.api("POST", f"/dags/{dag_id}/dagRuns", accept=(409,),
                 json={"dag_run_id": run_id, "logical_date": None, "conf": dict(conf or {})})
        deadline = started + timeout
        while True:
            state = self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}").json()["state"]
            if state in TERMINAL_RUN_STATES:
                break
            if time.monotonic() > deadline:
                tis = self.task_instances(dag_id, run_id)
                raise ClusterError(f"{dag_id} run {run_id} still {state} after {timeout:.0f}s: "
                                   f"{ {_ti_key(t): t['state'] for t in tis} }\n{self.dump_logs()}")
            time.sleep(1)
        tis = self.task_instances(dag_id, run_id)
        states = {_ti_key(ti): ti["state"] for ti in tis}
        failed = {key: self.task_log(dag_id, run_id, ti["task_id"], ti.get("map_index", -1))
                  for key, ti in zip(states, tis) if ti["state"] not in ("success", "skipped")}
        return RunResult(dag_id, run_id, state, states, tis, time.monotonic() - started, failed)

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        rows: list[dict] = []
        while True:
            page = self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances",
                            params={"limit": 100, "offset": len(rows)}).json()
            rows.extend(page["task_instances"])
            if not page["task_instances"] or len(rows) >= page["total_entries"]:
                return rows

    # ----- logs and figures ------------------------------------------------------------------
    def component(self, name: str) -> Component:
        return next(c for c in self.components if c.name == name)

    def task_log(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1, lines: int = 60) -> str:
        """The tail of a task's latest attempt log, read from the shared log folder."""
        folder = self.airflow_home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}"
        if map_index is not None and map_index >= 0:
            folder = folder / f"map_index={map_index}"
        attempts = sorted(folder.glob("attempt=*.log"), key=lambda p: p.stat().st_mtime)
        if not attempts:
            return f"(no task log under {folder})"
        return "\n".join(attempts[-1].read_text(errors="replace").splitlines()[-lines:])

    def task_logs_text(self, dag_id: str, run_id: str) -> str:
        """Every task log of a run, whole (for searching, e.g. for DuckDB lock errors)."""
        folder = self.airflow_home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}"
        return "\n".join(p.read_text(errors="replace") for p in sorted(folder.rglob("*.log")))

    def dump_logs(self, lines: int = 40) -> str:
        parts = [f"===== {c.name} (pid {c.process.pid if c.process else '-'}) =====\n{c.tail(lines)}"
                 for c in self.components]
        return "\n".join(parts) + "\n"

    def worker_pids(self) -> dict[str, int]:
        """Worker name -> pid of its `airflow celery worker` process (every task it runs descends from it)."""
        return {c.name: c.pid for c in self.components if c.name in self.worker_names}

    @property
    def peak_memory_bytes(self) -> int:
        return self._sampler.peak_total if self._sampler else 0

    def memory_report(self) -> str:
        if not self._sampler:
            return "memory: not sampled"
        mib = 1024 * 1024
        parts = ", ".join(f"{k} {v / mib:.0f}" for k, v in sorted(self._sampler.peak_by_component.items()))
        return f"peak memory (PSS, MiB): total {self._sampler.peak_total / mib:.0f}; {parts}"


def main() -> int:
    """Start a cluster, run cluster_smoke once, print the figures (`python -m tests.cluster.harness`)."""
    import tempfile

    reason = services_unavailable()
    if reason:
        print(f"cannot run: {reason}")
        return 1
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="clinic2zoho-cluster-") as tmp:
        with AirflowCluster(Path(tmp), dags=[ROOT / "dags" / "cluster_smoke.py"]) as cluster:
            result = cluster.trigger_and_wait("cluster_smoke", timeout=300)
            print(f"cluster_smoke: {result.state} in {result.seconds:.1f} s; hosts {sorted(set(result.hostnames().values()))}")
        print(cluster.memory_report())
        print("timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in cluster.timings.items() if not k.startswith("exit_")))
    print(f"whole: {time.monotonic() - began:.1f} s")
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
