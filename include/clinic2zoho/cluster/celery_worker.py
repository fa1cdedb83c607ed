"""Celery settings for the project's Airflow workers (`[celery] celery_config_options`): Airflow's
own, plus the modules the clinic DAG files import, imported once when a worker starts. Every task
runs in a process forked from its worker, which then has them loaded instead of importing them
again to parse the DAG file (0.4 s of each of the cutover's eighty-odd tasks)."""

from __future__ import annotations

from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG

PRELOADED = (
    "clinic2zoho_airflow.operators.clinic_tasks",
    "clinic2zoho_airflow.operators.clinic_steps",
    "clinic2zoho_airflow.operators.delta_steps",
)

CELERY_CONFIG = {**DEFAULT_CELERY_CONFIG, "imports": (*DEFAULT_CELERY_CONFIG.get("imports", ()), *PRELOADED)}
