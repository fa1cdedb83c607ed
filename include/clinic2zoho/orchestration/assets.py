"""Names of the Airflow Assets the DAGs emit (plain strings, so include/ stays free of Airflow).

A DAG that reacts to a cutover schedules on LOADED_URI; one that reacts to a new landing on
RAW_URI."""

from __future__ import annotations

RAW_NAME = "clinic2zoho_raw"
RAW_URI = "clinic2zoho://warehouse/raw"  # the landed export (schema raw)
LOADED_NAME = "clinic2zoho_zoho_loaded"
LOADED_URI = "clinic2zoho://zoho/loaded"  # the Zoho-shaped tables, loaded into the production org
SAMPLE_LOADED_NAME = "clinic2zoho_zoho_sample_loaded"
SAMPLE_LOADED_URI = "clinic2zoho://zoho/sample"  # the sample, loaded into the sandbox org
GROUP = "clinic2zoho"
