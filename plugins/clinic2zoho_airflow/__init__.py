"""Airflow hooks, operators, sensors and triggers for clinic2zoho: thin adapters over include/.

Installed (`pip install -e .`), the package is an Airflow provider: `provider_info.get_provider_info`
under the `apache_airflow_provider` entry point gives Airflow the `zoho` connection type and its form."""
