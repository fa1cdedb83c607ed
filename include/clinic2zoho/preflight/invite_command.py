"""`clinic2zoho invite-providers [--role NAME] [--profile NAME] --confirm-list FILE | --yes`: add
the record-owning providers who have no Zoho user as users of the org (POST /users, one per call:
https://www.zoho.com/crm/developer/docs/api/v8/add-user.html); Zoho e-mails each an invitation.
A provider owns records only once the invitation is accepted: until then `doctor` and the users
gate (zoho_users_resolution: awaiting_acceptance) list them as waiting.

`--confirm-list FILE` is the list `doctor` wrote (reports/providers_to_invite.csv) after a person
reviewed it: rows may be removed, none added: a row that is not a provider without a user now is
refused and nothing is sent. `--yes` invites the list as `doctor` would show it now."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from clinic2zoho.mapping.zoho_access import add_zoho_arguments, client_from_args


def configure(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--confirm-list", type=Path, help="the reviewed list (doctor's reports/providers_to_invite.csv)")
    which.add_argument("--yes", action="store_true", help="invite every provider without a user, as doctor lists them")
    parser.add_argument("--role", default="Manager", help="role name for the new users (GET /settings/roles; default Manager)")
    parser.add_argument("--profile", default="Standard", help="profile name for the new users (default Standard)")
    parser.add_argument("--work", type=Path, default=None, help="work folder (warehouse); default CLINIC2ZOHO_HOME")
    parser.add_argument("--source", type=Path, default=None, help="the export folder, when the models are not built")
    add_zoho_arguments(parser)


def profile_ids(client: Any) -> dict[str, str]:
    """Profile name -> id (GET /settings/profiles, profiles.json)."""
    return {str(p["name"]): str(p["id"]) for p in client.profiles() if p.get("id") and p.get("name")}


def chosen(confirmed: list[dict[str, str]], current: list[Any]) -> tuple[list[tuple[Any, str, str]], list[str]]:
    """(provider, first name, last name) for each row of the reviewed list that is a provider without
    a user now (matched on id and e-mail; the names as the person left them), and the rows that are not."""
    by_id = {p.provider_id: p for p in current}
    picked, refused = [], []
    for row in confirmed:
        p = by_id.get(row["provider_id"])
        if p is None or (p.email or "") != row["email"].lower():
            refused.append(f"{row['provider_id']} <{row['email']}>")
        else:
            first, last = p.split_name()
            picked.append((p, row.get("first_name") or first, row.get("last_name") or last))
    return picked, refused


def run(args: argparse.Namespace) -> int:
    from clinic2zoho import settings
    from clinic2zoho.preflight import providers as prov
    from clinic2zoho.preflight.checks import DoctorInputs, provider_states

    if args.work:
        os.environ["CLINIC2ZOHO_HOME"] = str(Path(args.work).resolve())
    client = client_from_args(args)
    try:
        states, where = provider_states(client, DoctorInputs(settings.warehouse_path(), source=args.source))
        if states is None:
            print(f"no providers to read: {where}", file=sys.stderr)
            return 2
        current = prov.to_invite(states)
        if args.confirm_list:
            try:
                picked, refused = chosen(prov.read_invite_list(args.confirm_list), current)
            except (OSError, ValueError) as exc:
                print(str(exc), file=sys.stderr)
                return 2
            if refused:
                print("refused, nothing sent: these rows are not providers without a Zoho user now (run "
                      f"`clinic2zoho doctor` for the current list): {', '.join(refused)}", file=sys.stderr)
                return 2
        else:
            picked = [(p, *p.split_name()) for p in current]
        if not picked:
            print(f"nobody to invite: every record-owning provider ({where}) has a user or an invitation")
            return 0
        roles = {str(r["name"]): str(r["id"]) for r in client.roles()}
        profiles = profile_ids(client)
        if args.role not in roles or args.profile not in profiles:
            print(f"unknown role {args.role!r} or profile {args.profile!r}; roles: {', '.join(sorted(roles))}; "
                  f"profiles: {', '.join(sorted(profiles))}", file=sys.stderr)
            return 2
        failed = 0
        for p, first, last in picked:
            result = client.add_user({"first_name": first, "last_name": last, "email": p.email,
                                      "role": roles[args.role], "profile": profiles[args.profile]})
            if result.ok:
                print(f"invited {p.provider_id} <{p.email}> as {args.role} / {args.profile}: user {result.id}")
            else:
                failed += 1
                print(f"NOT invited {p.provider_id} <{p.email}>: {result.code} {result.message or ''}".rstrip(),
                      file=sys.stderr)
        print(f"{len(picked) - failed} invitation(s) sent by Zoho. Each provider owns records once they accept; "
              "until then `clinic2zoho doctor` and the users gate list them as waiting (land the org's users again "
              "and rebuild the models to refresh the gate).")
        return 1 if failed else 0
    finally:
        client.close()
