"""The clinic_delta DAG's knobs, read from the environment when the DAG file is parsed: how often
it runs, how long a run waits for a change and how often it looks, and the Zoho Connection it
writes with. The demo's delta run shortens the waits through the same variables."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping


@dataclass(frozen=True)
class DeltaDagSettings:
    schedule: str  # cron or preset
    wait_seconds: float  # how long a run waits for a change
    poke_seconds: float  # how often the trigger looks
    zoho_conn_id: str


def delta_dag_settings(environ: Mapping[str, str] = os.environ) -> DeltaDagSettings:
    return DeltaDagSettings(
        schedule=environ.get("CLINIC2ZOHO_DELTA_SCHEDULE", "@hourly"),
        wait_seconds=float(environ.get("CLINIC2ZOHO_DELTA_WAIT_SECONDS", 50 * 60)),
        poke_seconds=float(environ.get("CLINIC2ZOHO_DELTA_POKE_SECONDS", 60)),
        zoho_conn_id=environ.get("CLINIC2ZOHO_ZOHO_CONN_ID", "zoho_default"),
    )
