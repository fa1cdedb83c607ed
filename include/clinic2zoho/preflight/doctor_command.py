"""`clinic2zoho doctor [--work DIR] [--source EXPORT] [--html PATH]`: the preflight a clinic runs
before anything else, against the org the ZOHO_* environment names (as `prepare-schema` and `load`
reach it). Prints the readiness table, writes reports/doctor.html and, when providers have no
user, reports/providers_to_invite.csv for `invite-providers` (and doctor.json beside the page).
Exit 0 only when ready."""

from __future__ import annotations

import argparse
import os
from contextlib import ExitStack
from pathlib import Path

from clinic2zoho.loader import cli_common
from clinic2zoho.mapping import files
from clinic2zoho.mapping.zoho_access import add_zoho_arguments, client_from_args

INVITE_LIST = "providers_to_invite.csv"
CREDENTIAL_VARS = ("ZOHO_CLIENT_ID", "ZOHO_CLIENT_SECRET", "ZOHO_REFRESH_TOKEN")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--work", type=Path, default=None,
                        help="work folder (warehouse, reports and, when no Zoho is given, a demo's local orgs); "
                             "default CLINIC2ZOHO_HOME")
    parser.add_argument("--source", type=Path, default=None,
                        help="the export folder: its providers.csv when the models are not built")
    parser.add_argument("--html", type=Path, default=None, help="where the page goes (default <work>/reports/doctor.html)")
    parser.add_argument("--format", dest="formats", action="append", choices=files.FORMATS,
                        help="mapping file(s) to check (default: the formats landed in the warehouse)")
    parser.add_argument("--dbt-project", type=Path, default=None)
    cli_common.add_plan_arguments(parser)
    add_zoho_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from clinic2zoho import settings
    from clinic2zoho.preflight import page
    from clinic2zoho.preflight.checks import SANDBOX_ENV
    from clinic2zoho.zoho.connection import connection_json
    from clinic2zoho.zoho_server.work_orgs import has_local_org, local_config, start_local_org

    if args.work:
        os.environ["CLINIC2ZOHO_HOME"] = str(Path(args.work).resolve())
    home = settings.home()
    given = args.api_url or args.data_centre or any(os.environ.get(v) for v in CREDENTIAL_VARS)
    if not given and has_local_org(home, "production"):
        with ExitStack() as started:  # a demo's work folder: its local orgs, from their saved state
            server = started.enter_context(start_local_org(home, "production"))
            sandbox = os.environ.get(SANDBOX_ENV)
            if not sandbox and has_local_org(home, "sandbox"):
                sandbox = connection_json(local_config(started.enter_context(start_local_org(home, "sandbox"))))
            print(f"the local orgs of work folder {home}, started from their saved state")
            return _doctor(args, local_config(server), sandbox)
    try:
        client = client_from_args(args)  # the same configuration prepare-schema builds
    except SystemExit as exc:  # missing ZOHO_* variables: a row of its own, the page still written
        from clinic2zoho.preflight.readiness import FAIL, Readiness

        reports = settings.reports_dir()
        readiness = Readiness()
        readiness.add("Configuration", FAIL, str(exc.code), "set the ZOHO_* variables (README, 'Connecting a real org')")
        page.print_table(readiness, "not configured")
        written = page.write_page(readiness, "not configured", args.html or reports / "doctor.html")
        page.write_json(readiness, "not configured", written.with_suffix(".json"))
        return 1
    config = client.config
    client.close()
    return _doctor(args, config, os.environ.get(SANDBOX_ENV))


def _doctor(args: argparse.Namespace, config, sandbox_connection: str | None) -> int:
    from clinic2zoho import settings
    from clinic2zoho.preflight import page, providers
    from clinic2zoho.preflight.checks import DoctorInputs, run_doctor
    from clinic2zoho.transform.dbt_runner import target_dir

    reports = settings.reports_dir()
    plan, plan_error = None, None
    built = target_dir(settings.warehouse_path()) / "manifest.json"  # where the work folder's dbt build wrote it
    if not args.plan and args.manifest == settings.DBT_PROJECT_DIR / "target" / "manifest.json" and built.is_file():
        args.manifest = built
    try:
        plan = cli_common.load_plan(args).select(args.module)
    except (OSError, ValueError, KeyError) as exc:
        plan_error = f"no load plan ({type(exc).__name__}: build the models so dbt writes target/manifest.json)"
    inputs = DoctorInputs(settings.warehouse_path(), args.dbt_project, args.formats, plan, plan_error, args.source,
                          sandbox_connection)
    result = run_doctor(config, inputs)
    where = config.api_base
    invite = reports / INVITE_LIST
    if result.to_invite:
        providers.write_invite_list(invite, result.to_invite)
        print(f"providers without a user: {invite} (review it, then `clinic2zoho invite-providers --confirm-list {invite}`)")
    page.print_table(result.readiness, where)
    written = page.write_page(result.readiness, where, args.html or reports / "doctor.html")
    page.write_json(result.readiness, where, written.with_suffix(".json"))
    print(f"page: {written}")
    return 0 if result.readiness.ready else 1
