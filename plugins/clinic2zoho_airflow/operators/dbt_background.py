"""The dbt group's build beside its watching tasks where one process runs a DAG run's tasks one
after another (`airflow dags test`: migrate, the demo, the DAG tests).

There the watching tasks (56 in the demo's cutover) used to start only once the build had ended,
so the group cost the build plus Airflow's own cost per task (30-40 ms each on 2 cores, 1.2-1.3x
a plain build by itself). Here the build task starts the build in a thread and returns; each
watching task waits for its model's result while dbt builds the rest; the gate task waits for the
build's end and fails on a failed build, as the build task did.

The thread never talks to Airflow: the task SDK's in-process channel (InProcessSupervisorComms)
serves one caller at a time and swaps a module global on each call. What the build pushes to XCom
is kept (each model's status remembered first for this process's watching tasks, in
dbt_watch._pushed_here) and pushed by the main thread: by the watching tasks while they wait, by
the gate task before it reads the tests' outcomes. Anywhere else (an executor running each task
in its own process; a retried build, which Cosmos skips) the build runs inside its task as before."""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

# The builds started by this process and not yet waited for, by DAG, run and build task.
_running: dict[tuple[str, str, str], BackgroundBuild] = {}


class BackgroundBuild:
    """One build running in a thread of this process, and the XCom pushes it kept."""

    def __init__(self, ti: Any):
        self.ti = ti  # the build task's own instance: the kept pushes are pushed as it
        self.key = (ti.dag_id, ti.run_id, ti.task_id)
        self.error: BaseException | None = None
        self.done = False
        self.seconds: float | None = None  # the build's own time, from its start to its end
        self._kept: deque[tuple[str, Any, dict[str, Any]]] = deque()
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def start(self, execute: Callable[[dict[str, Any]], Any], context: dict[str, Any]) -> None:
        """`execute(context)` in a thread, the task instance in its context replaced by KeptPushes;
        the thread keeps the task's context variables (its log context)."""
        kept = KeptPushes(self.ti, self)
        own = {**context, "ti": kept, "task_instance": kept}
        _running[self.key] = self
        self._thread = threading.Thread(target=contextvars.copy_context().run, args=(self._run, execute, own),
                                        name=f"dbt build {self.ti.task_id}")
        self._thread.start()

    def _run(self, execute: Callable[[dict[str, Any]], Any], context: dict[str, Any]) -> None:
        started = time.monotonic()
        try:
            execute(context)
        except BaseException as error:  # the gate task raises it; the build's log says the rest
            self.error = error
        finally:
            self.seconds = time.monotonic() - started
            with self._changed:
                self.done = True
                self._changed.notify_all()

    def keep(self, key: str, value: Any, kwargs: dict[str, Any]) -> None:
        with self._changed:
            self._kept.append((key, value, kwargs))
            self._changed.notify_all()

    def push_kept(self) -> int:
        """Push what the build kept so far, in its order (the main thread only)."""
        pushed = 0
        while True:
            with self._changed:
                if not self._kept:
                    return pushed
                key, value, kwargs = self._kept.popleft()
            self.ti.xcom_push(key=key, value=value, **kwargs)
            pushed += 1

    def wait(self, until: Callable[[], bool] = lambda: False) -> None:
        """Until `until()` holds or the build has ended, pushing what it keeps meanwhile; then
        whatever it kept before is pushed too (the main thread only)."""
        while True:
            self.push_kept()
            with self._changed:
                if self.done or until():
                    break
                if not self._kept:
                    self._changed.wait(timeout=1.0)
        self.push_kept()

    def finish(self) -> None:
        """Wait for the build's end, push all it kept, and forget it (the main thread only)."""
        self.wait()  # returns once the build is done, all it kept pushed: it keeps nothing after
        self.join()

    def join(self) -> None:
        """Wait for the thread's end, and forget the build."""
        if self._thread is not None:
            self._thread.join()
        _running.pop(self.key, None)


class KeptPushes:
    """The build task's instance as the build thread sees it: its XCom pushes are kept for the main
    thread; a pull of its own XCom (Cosmos appends dbt's start-up events to a list it pulls back)
    reads what it kept. Every other attribute is the task instance's (the build reads its ids and
    try number; Cosmos sets its own attributes on it, which stay on this object)."""

    def __init__(self, ti: Any, build: BackgroundBuild):
        self._ti = ti
        self._build = build
        self._latest: dict[str, Any] = {}  # what it pushed under each key (Airflow cleared the rest)

    def xcom_push(self, key: str, value: Any, **kwargs: Any) -> None:
        self._latest[key] = value
        self._build.keep(key, value, kwargs)

    def xcom_pull(self, task_ids: Any = None, dag_id: Any = None, key: str = "return_value", *,
                  default: Any = None, run_id: Any = None, **kwargs: Any) -> Any:
        if task_ids not in (None, self._ti.task_id) or dag_id not in (None, self._ti.dag_id) \
                or run_id not in (None, self._ti.run_id) or kwargs:
            raise RuntimeError(f"the dbt build's thread reads only its own XCom, not {task_ids or dag_id or run_id}")
        return self._latest.get(key, default)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ti, name)


def build_beside_the_watching_tasks(producer: Any) -> None:
    """Where this process runs the DAG run's other tasks too, the build task starts its build in a
    thread and returns (BackgroundBuild); a retry's (which Cosmos skips) and any other executor's
    build run inside the task."""
    execute = producer.execute

    def execute_in_the_background(context: Any, **kwargs: Any) -> Any:
        from clinic2zoho_airflow.in_process_api import serves_itself

        ti = context["ti"]
        if ti.try_number > 1 or getattr(ti, "map_index", -1) not in (-1, None) or not serves_itself():
            return execute(context, **kwargs)
        BackgroundBuild(ti).start(lambda own: execute(own, **kwargs), context)
        log.info("the dbt build runs beside the group's watching tasks; the group's gate task waits for its end")
        return None

    producer.execute = execute_in_the_background


def running_here(ti: Any, producer_task_id: str) -> BackgroundBuild | None:
    """The build `producer_task_id` of the same run started in this process, not yet waited for."""
    return _running.get((getattr(ti, "dag_id", None), getattr(ti, "run_id", None), producer_task_id))


def wait_for_builds_of_run(dag_id: str, run_id: str) -> None:
    """At a run's end: wait for any build of it still running here (its gate task never ran: a
    model's task failed first). What it kept is not pushed: the run has ended."""
    for key, build in list(_running.items()):
        if key[:2] == (dag_id, run_id):
            build.join()
            log.info("the dbt build of %s ended after its run (%s)", key[2],
                     "failed" if build.error else "succeeded")
