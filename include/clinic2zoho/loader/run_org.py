"""The Zoho org each run loaded into, kept in `<journal root>/<run id>/org.json`.

One journal root holds the sample run (sandbox org) and the cutover (production org), and every
org hands out record ids of its own: an id journaled by one org's run names nothing, or an
unrelated record, in another. So a run records its org (Zoho's org id, from GET /org) before it
writes anything, and the readers that feed a load take only the runs of the org being loaded.

A run folder without org.json is a journal written before orgs were recorded: its org is
unknown, so its ids and outcomes are trusted by no load (a lookup it would have answered is read
back from the org by external id instead), it cannot be resumed, and rolling it back is left to
the operator's choice of connection (warned)."""

from __future__ import annotations

import json
import logging
import os
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from clinic2zoho.loader import journal

log = logging.getLogger(__name__)

ORG_FILE = "org.json"


class OrgMismatch(RuntimeError):
    """The run was loaded into another org than the one this connection reaches (or its org is
    unknown and the action needs it)."""


def client_org(client: Any) -> dict[str, Any]:
    """What a run records of the org `client` reaches: its id, type (sandbox/production), name."""
    org = client.current_org()
    return {"org_id": client.org_id(), "type": org.get("type"), "company_name": org.get("company_name")}


def describe(org: dict[str, Any]) -> str:
    extra = ", ".join(str(v) for v in (org.get("type"), org.get("company_name")) if v)
    return f"org {org.get('org_id')}" + (f" ({extra})" if extra else "")


def recorded(root: Path, run_id: str) -> dict[str, Any] | None:
    """The org the run recorded, or None (a journal from before orgs were recorded, or no run)."""
    try:
        return json.loads((journal.run_dir(root, run_id) / ORG_FILE).read_text())
    except FileNotFoundError:
        return None


def runs_of(root: Path, org_id: str | None) -> list[str]:
    """The runs whose journal records `org_id` (None: the runs whose org is unknown)."""
    return [r for r in journal.runs(root) if (recorded(root, r) or {}).get("org_id") == org_id]


def _has_load_rows(root: Path, run_id: str) -> bool:
    # module segments only: audit files hold calls, `_schema` a schema rollback
    return any(not f.stem.startswith(("audit-", "_")) for f in journal.run_dir(root, run_id).glob("*.duckdb"))


def _write_once(path: Path, org: dict[str, Any]) -> dict[str, Any]:
    """Write org.json unless it exists; returns what it holds. Parallel load tasks of one run
    race here: a hard link of a complete temp file is atomic and never replaces the winner's."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{ORG_FILE}.{uuid.uuid4().hex[:8]}")
    tmp.write_text(json.dumps({**org, "recorded_at": datetime.now(timezone.utc).isoformat()}, indent=1))
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return json.loads(path.read_text())


def claim(root: Path, run_id: str, client: Any) -> dict[str, Any]:
    """Before a load (or resume) writes anything: record the org `client` reaches as the run's,
    or check it is the one the run recorded. Raises OrgMismatch."""
    org = client_org(client)
    have = recorded(root, run_id)
    if have is None:
        if _has_load_rows(root, run_id):
            raise OrgMismatch(
                f"run {run_id} was journaled before runs recorded their Zoho org, so the org it loaded into is "
                f"unknown and it cannot be resumed safely into {describe(org)}; start a new run instead (it reads "
                "back by external id what the org holds)")
        have = _write_once(journal.run_dir(root, run_id) / ORG_FILE, org)
    if have.get("org_id") != org["org_id"]:
        raise OrgMismatch(f"run {run_id} was loaded into {describe(have)}; this connection reaches {describe(org)}. "
                          f"Load it with the connection of {describe(have)}, or start a new run for this org")
    return have


def check(root: Path, run_id: str, client: Any, action: str = "roll back") -> None:
    """Refuse to act on a run's records in another org than the one it loaded into: its Zoho ids
    name other records there. A run of unknown org proceeds with a warning (the operator chose
    the connection; nothing recorded says otherwise)."""
    have = recorded(root, run_id)
    if have is None:
        log.warning("run %s does not record the Zoho org it loaded into (journaled before orgs were recorded); "
                    "%s it in the org this connection reaches", run_id, action)
        return
    org = client_org(client)
    if have.get("org_id") != org["org_id"]:
        raise OrgMismatch(f"refusing to {action} run {run_id}: it was loaded into {describe(have)}, but this connection "
                          f"reaches {describe(org)}, where its Zoho ids name other records. Use the connection of "
                          f"{describe(have)}")
