"""The delta window after a cutover: every hour (by default), while the window the cutover opened
is open, carry changes made in the clinic system into Zoho.

check_window (skips the run when no window is open; closes the window once its time passed, and
says so) → wait_for_changes (deferrable sensor: export files new or changed past the watermark,
or rows landed past it) → land → rebuild (dbt build of the models downstream of the changed raw
tables) → stage (rows new or changed since the baseline, into `delta.*`) → upsert_changes (the
loader, upserting by external id, before-images journaled; rollback with the DAG run's id) →
finish (journal published, baseline, fingerprints and watermark moved forward).

Logic lives in `clinic2zoho.delta`, the task bodies in `clinic2zoho_airflow.operators.delta_steps`; the cutover's task `open_delta_window` opens the window once
its load is validated (its param delta_window_hours, 24–48, default 48).
Environment knobs (read at parse, `clinic2zoho.delta.settings`): CLINIC2ZOHO_DELTA_SCHEDULE (cron
or preset, default @hourly), CLINIC2ZOHO_DELTA_WAIT_SECONDS (how long a run waits for a change,
default 3000), CLINIC2ZOHO_DELTA_POKE_SECONDS (how often the trigger looks, default 60),
CLINIC2ZOHO_ZOHO_CONN_ID (default zoho_default)."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from clinic2zoho.delta.settings import delta_dag_settings
from clinic2zoho_airflow.operators.delta_steps import check_window, finish, land, modules_to_load, rebuild, stage
from clinic2zoho_airflow.operators.zoho_load import ZohoLoadOperator
from clinic2zoho_airflow.sensors.export_changes import ExportChangesSensor

KNOBS = delta_dag_settings()


with DAG(
    dag_id="clinic_delta",
    description="While the delta window is open: carry changes to the export into Zoho (hourly)",
    doc_md=__doc__,
    schedule=KNOBS.schedule,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["clinic2zoho", "delta"],
) as dag:
    window = check_window()
    changes = ExportChangesSensor(
        task_id="wait_for_changes",
        window_id="{{ ti.xcom_pull(task_ids='check_window')['window_id'] }}",
        poke_interval=KNOBS.poke_seconds,
        timeout=KNOBS.wait_seconds,
        deferrable=True,
    )
    landed = land(window)
    staged = stage(window)
    upsert = ZohoLoadOperator.partial(
        task_id="upsert_changes",
        zoho_conn_id=KNOBS.zoho_conn_id,
        load_run_id="{{ run_id }}",
        plan_path="{{ ti.xcom_pull(task_ids='stage')['plan_path'] }}",
        deferrable=True,
    ).expand(modules=modules_to_load(staged))
    window >> changes >> landed >> rebuild(window, landed) >> staged
    upsert >> finish(staged)
