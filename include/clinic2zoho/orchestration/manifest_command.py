"""`clinic2zoho dbt-manifest`: parse the dbt project into the work folder's manifest, which the DAG
files render their dbt group from (no `dbt ls` when Airflow parses them). `clinic2zoho migrate`
does this itself; a deployment (`airflow standalone`, the cluster) runs it after every change to
the mapping, or the DAG files fall back to `dbt ls`."""

from __future__ import annotations

import argparse
from pathlib import Path

from clinic2zoho import settings
from clinic2zoho.mapping.files import dbt_project_dir
from clinic2zoho.orchestration.dbt_manifest import ManifestError, current_manifest, write_manifest


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--work", type=Path, default=None,
                        help="the work folder (default: CLINIC2ZOHO_HOME, else ./work)")
    parser.add_argument("--dbt-project", type=Path, default=None, help="the dbt project (default: the shipped one)")


def run(args: argparse.Namespace) -> int:
    home = (args.work or settings.home()).resolve()
    project = (args.dbt_project or dbt_project_dir()).resolve()
    if (found := current_manifest(project, home)) is not None:
        print(f"the manifest is current: {found}")
        return 0
    try:
        print(f"parsed: {write_manifest(project, home)}")
    except ManifestError as exc:
        print(exc)
        return 1
    return 0
