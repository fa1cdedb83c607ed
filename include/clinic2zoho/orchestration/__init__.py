"""Plain-Python bodies of the DAG tasks (no Airflow import): landing, the quality report, the
load plan with its estimate, the sample, and the assets the DAGs emit. DAG files only wire them."""
