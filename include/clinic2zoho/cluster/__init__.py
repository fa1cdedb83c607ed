"""Plain-Python helpers for running the DAGs on a cluster (Celery workers): which worker a task
runs on, and the callables of the `cluster_smoke` DAG that proves parallel tasks and DuckDB's
one-writer rule under a real scheduler. No Airflow import here."""
