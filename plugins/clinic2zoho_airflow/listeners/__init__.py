"""Airflow listeners the project's plugin (clinic2zoho_airflow.plugin) registers."""
