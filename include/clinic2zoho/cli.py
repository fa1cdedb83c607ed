"""The `clinic2zoho` command. Each sub-command lives in its own module, exposing
`configure(parser)` and `run(args) -> int`; modules are imported only when their command runs."""

from __future__ import annotations

import argparse
import importlib
import sys

# command name -> (module path, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "generate": ("clinic2zoho.generator.command", "write a generated generic clinic export"),
    "land": ("clinic2zoho.landing.command", "land a clinic export into DuckDB schema raw"),
    "land-users": ("clinic2zoho.landing.users_command", "land a Zoho org's users into raw.zoho_users"),
    "quality": ("clinic2zoho.quality.command", "write the Data Quality Report"),
    "resolve-duplicates": ("clinic2zoho.quality.resolve_command",
                           "record which duplicate patient pairs are one person (merge) or two (distinct)"),
    "zoho-server": ("clinic2zoho.zoho_server.command", "run the local Zoho CRM v8 server"),
    "doctor": ("clinic2zoho.preflight.doctor_command",
               "check the configured Zoho org is ready: reachable, scopes, credits, providers, schema, sandbox"),
    "invite-providers": ("clinic2zoho.preflight.invite_command",
                         "invite the providers without a Zoho user (after doctor's list is confirmed)"),
    "propose": ("clinic2zoho.mapping.propose_command", "propose the field mapping"),
    "confirm": ("clinic2zoho.mapping.confirm_command", "confirm the mapping on the record"),
    "prepare-schema": ("clinic2zoho.mapping.schema_command", "create Zoho modules and fields"),
    "sign-off": ("clinic2zoho.orchestration.signoff_command",
                 "sign off (or refuse) the sample run's diff: the cutover requires it"),
    "estimate": ("clinic2zoho.loader.estimate_command", "predict credits and duration of a load"),
    "load": ("clinic2zoho.loader.load_command", "load the Zoho-shaped tables into Zoho"),
    "rollback": ("clinic2zoho.loader.rollback_command", "undo a load run"),
    "validate": ("clinic2zoho.reports.validate_command", "reconcile and spot-check a load"),
    "dbt-manifest": ("clinic2zoho.orchestration.manifest_command",
                     "parse the dbt project into the work folder's manifest the DAG files render from"),
    "migrate": ("clinic2zoho.migrate", "run the whole migration (what `make demo` runs)"),
    "purge": ("clinic2zoho.purge.command", "remove a work folder's patient data after the cutover, keeping the audit"),
}


def _load(name: str):
    module_path, _ = COMMANDS[name]
    return importlib.import_module(module_path)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="clinic2zoho", description="Migrate a clinic's data into Zoho CRM.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    if not argv or argv[0] in {"-h", "--help"} or argv[0] not in COMMANDS:
        parser.print_help()
        return 0 if not argv or argv[0] in {"-h", "--help"} else 2
    name, rest = argv[0], argv[1:]
    module = _load(name)
    cmd_parser = argparse.ArgumentParser(prog=f"clinic2zoho {name}", description=COMMANDS[name][1])
    module.configure(cmd_parser)
    args = cmd_parser.parse_args(rest)
    return int(module.run(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
