"""Running the dbt project (the mapping) against the warehouse, and reading its outcome."""

from clinic2zoho.transform.dbt_runner import DbtRunResult, GateFailure, run_dbt, target_dir

__all__ = ["DbtRunResult", "GateFailure", "run_dbt", "target_dir"]
