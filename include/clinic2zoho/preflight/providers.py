"""Each provider who owns records, against the org's users as they are now: matched to an active,
confirmed user; invited and waiting for acceptance; deactivated; with no user (to invite); or with
no e-mail at all (the clinic fills seed provider_email_overrides).

Providers come from the warehouse's zoho.zoho_users_resolution when the models are built (only
those owning records), else from a generic export's providers.csv (every provider with an e-mail
or not). The org's users are read live (GET /users?type=AllUsers): the warehouse's copy of them
may be older than an invitation."""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import duckdb

MATCHED, WAITING, INACTIVE, NO_USER, NO_EMAIL = "matched", "awaiting_acceptance", "inactive_user", "no_user", "no_email"
INVITE_COLUMNS = ["provider_id", "first_name", "last_name", "email", "owned_records"]


@dataclass(frozen=True)
class Provider:
    provider_id: str
    name: str
    email: str | None
    owned_records: int | None  # None: unknown (read from the export, the models not built)

    def split_name(self) -> tuple[str, str]:
        """first_name, last_name for Zoho's Users API (both given; a one-word name fills both)."""
        words = self.name.split()
        if not words:
            local = (self.email or "provider").split("@")[0]
            return local, local
        return words[0], " ".join(words[1:]) or words[0]


@dataclass(frozen=True)
class ProviderState:
    provider: Provider
    state: str
    user_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self.provider), "state": self.state, "user_id": self.user_id}


def from_warehouse(warehouse: Path) -> list[Provider] | None:
    """Providers owning records, from the built users resolution; None when it is not built."""
    if not Path(warehouse).is_file():
        return None
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            rows = con.execute(
                "select provider_id, coalesce(Provider_Name, ''), Email, Owned_Records "
                "from zoho.zoho_users_resolution where Owned_Records > 0 order by provider_id").fetchall()
    except duckdb.Error:  # not built (no zoho schema or table yet)
        return None
    return [Provider(str(pid), str(name), (str(email).strip().lower() or None) if email else None, int(owned))
            for pid, name, email, owned in rows]


def from_export(export_dir: Path) -> list[Provider] | None:
    """A generic export's providers.csv (provider_id, first_name, last_name, email); None when absent."""
    path = Path(export_dir) / "providers.csv"
    if not path.is_file():
        return None
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    out = []
    for row in rows:
        if not row.get("provider_id"):
            continue
        name = " ".join(v.strip() for v in (row.get("first_name") or "", row.get("last_name") or "") if v.strip())
        email = (row.get("email") or "").strip().lower() or None
        out.append(Provider(row["provider_id"].strip(), name, email, None))
    return out


def classify(providers: list[Provider], users: list[dict[str, Any]]) -> list[ProviderState]:
    """Each provider against the org's users (GET /users?type=AllUsers; `confirm` false = invited)."""
    by_email: dict[str, dict[str, Any]] = {}
    for user in users:
        email = str(user.get("email") or "").strip().lower()
        if email and (email not in by_email or user.get("status") == "active"):
            by_email[email] = user
    out = []
    for p in providers:
        if not p.email:
            out.append(ProviderState(p, NO_EMAIL))
            continue
        user = by_email.get(p.email)
        if user is None:
            out.append(ProviderState(p, NO_USER))
        elif str(user.get("status") or "").lower() != "active":
            out.append(ProviderState(p, INACTIVE, str(user.get("id"))))
        elif user.get("confirm") is False:
            out.append(ProviderState(p, WAITING, str(user.get("id"))))
        else:
            out.append(ProviderState(p, MATCHED, str(user.get("id"))))
    return out


def to_invite(states: list[ProviderState]) -> list[Provider]:
    return [s.provider for s in states if s.state == NO_USER]


def write_invite_list(path: Path, providers: list[Provider]) -> Path:
    """The list a person reviews before `clinic2zoho invite-providers --confirm-list FILE`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(INVITE_COLUMNS)
        for p in providers:
            first, last = p.split_name()
            writer.writerow([p.provider_id, first, last, p.email, "" if p.owned_records is None else p.owned_records])
    return path


def read_invite_list(path: Path) -> list[dict[str, str]]:
    with Path(path).open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in ("provider_id", "email") if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: the list needs the columns {', '.join(INVITE_COLUMNS)} (missing {', '.join(missing)})")
        return [{k: (v or "").strip() for k, v in row.items() if k} for row in reader if (row.get("provider_id") or "").strip()]
