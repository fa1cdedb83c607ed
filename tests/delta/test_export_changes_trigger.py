"""The sensor and trigger of the delta DAG: the trigger yields exactly one event (a change, the
deadline, or an error); the sensor answers at once when something changed, defers to the trigger
otherwise, and skips the run when the wait ends with nothing."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

pytest.importorskip("airflow")
from airflow.sdk.exceptions import AirflowException, AirflowSkipException, TaskDeferred  # noqa: E402

from clinic2zoho.delta import open_window, scan_source  # noqa: E402
from clinic2zoho.loader.plan import LoadPlan, ModuleSpec  # noqa: E402
from clinic2zoho_airflow.sensors.export_changes import ExportChangesSensor  # noqa: E402
from clinic2zoho_airflow.triggers.export_changes import ExportChangesTrigger  # noqa: E402

PLAN = LoadPlan((ModuleSpec(table="zoho.zoho_contacts", module="Contacts", external_id="Clinic_Patient_Id"),))


def _events(trigger: ExportChangesTrigger) -> list[dict]:
    async def collect():
        return [event.payload async for event in trigger.run()]

    return asyncio.run(collect())


@pytest.fixture
def export(tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "patients.csv").write_text("patient_id,phone\nPT1,555 0100\n")
    return folder


def _trigger(export, **kw) -> ExportChangesTrigger:
    args = {"source": str(export), "recorded": {n: f.to_dict() for n, f in scan_source(export).items()},
            "end_time": time.time() + 10, "window_id": "dw-1", "poll_interval": 0.05}
    args.update(kw)
    return ExportChangesTrigger(**args)


def test_a_file_changed_while_waiting_yields_one_changed_event(export):
    trigger = _trigger(export)
    timer = threading.Timer(0.3, lambda: (export / "patients.csv").write_text("patient_id,phone\nPT1,555 0199\n"))
    timer.start()
    try:
        events = _events(trigger)
    finally:
        timer.cancel()
    assert events == [{"window_id": "dw-1", "status": "changed", "rows_past_watermark": 0,
                       "files": {"new": [], "changed": ["patients.csv"], "removed": []}}]


def test_nothing_changed_by_the_deadline_yields_one_timeout_event(export):
    started = time.monotonic()
    events = _events(_trigger(export, end_time=time.time() + 0.4))
    assert [e["status"] for e in events] == ["timeout"]
    assert time.monotonic() - started < 5


def test_a_broken_source_yields_one_error_event(tmp_path):
    events = _events(ExportChangesTrigger(str(tmp_path / "gone"), {}, time.time() + 5, "dw-1", poll_interval=0.05))
    assert len(events) == 1 and events[0]["status"] == "error" and "export folder not found" in events[0]["message"]


def test_rows_landed_past_the_watermark_count_as_a_change(export, tmp_path):
    from clinic2zoho.generator import generate_export
    from clinic2zoho.landing import land_export

    generate_export(tmp_path / "gen", 2, seed=3, with_files=False, defects=False)
    warehouse = tmp_path / "wh.duckdb"
    land_export(tmp_path / "gen" / "export", "generic", warehouse)
    events = _events(_trigger(export, warehouse=str(warehouse), watermark_at="2000-01-01T00:00:00+00:00"))
    assert len(events) == 1 and events[0]["status"] == "changed" and events[0]["rows_past_watermark"] > 0
    assert events[0]["files"]["changed"] == []


def test_the_trigger_serializes_to_what_rebuilds_it(export):
    trigger = _trigger(export, warehouse="/w.duckdb", watermark_at="2030-01-01T00:00:00+00:00")
    path, kwargs = trigger.serialize()
    assert path == "clinic2zoho_airflow.triggers.export_changes.ExportChangesTrigger"
    assert ExportChangesTrigger(**kwargs).serialize() == (path, kwargs)


def test_the_sensor_answers_at_once_defers_when_idle_and_skips_on_timeout(work_home, export):
    window = open_window("cutover-1", 24, export, "generic", plan=PLAN)
    sensor = ExportChangesSensor(task_id="wait", poke_interval=5, timeout=600)
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute({})
    trigger = deferred.value.trigger
    assert isinstance(trigger, ExportChangesTrigger)
    assert trigger.window_id == window.window_id and trigger.poll_interval == 5
    assert trigger.end_time <= min(time.time() + 600, window.closes_at.timestamp())
    assert set(trigger.recorded) == {"patients.csv"}

    with pytest.raises(AirflowSkipException, match="no export file"):
        sensor.execute_complete({}, {"window_id": window.window_id, "status": "timeout",
                                     "message": "no export file or landed row past the watermark"})
    with pytest.raises(AirflowException, match="watching the export failed"):
        sensor.execute_complete({}, {"window_id": window.window_id, "status": "error", "message": "boom"})

    (export / "appointments.csv").write_text("appointment_id\nAP1\n")
    found = sensor.execute({})  # something changed already: no deferral
    assert found["window_id"] == window.window_id and found["files"]["new"] == ["appointments.csv"]


def test_the_sensor_skips_without_an_open_window(work_home):
    with pytest.raises(AirflowSkipException, match="no open delta window"):
        ExportChangesSensor(task_id="wait").execute({})
    with pytest.raises(ValueError, match="positive"):
        ExportChangesSensor(task_id="wait", poke_interval=0)
