"""Airflow hooks, operators, sensors and triggers for clinic2zoho: thin adapters over include/."""
