"""`land_users`: a Zoho org's users in raw.zoho_users, one org label at a time."""

from __future__ import annotations

import json
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .. import settings
from ..transactions import transaction
from .errors import LandingError
from .store import connect

USER_COLUMNS = ("id", "email", "full_name", "status")


def _read_users(path: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise LandingError(f"cannot read users file: {exc.strerror or exc}", file=path) from exc
    except json.JSONDecodeError as exc:
        raise LandingError(f"users file is not valid JSON ({exc.msg}, column {exc.colno})", file=path,
                           row=exc.lineno) from exc
    if isinstance(data, dict) and isinstance(data.get("users"), list):  # Zoho's GET /users shape
        data = data["users"]
    if not isinstance(data, list):
        raise LandingError("expected a JSON array of users (or {\"users\": [...]})", file=path)
    return data


def land_users(users: Path | str | list[dict[str, Any]], org_label: str = "production",
               warehouse: Path | None = None) -> int:
    """Replace `org_label`'s rows in raw.zoho_users; returns how many users landed. Accepts our
    users file (`id, email, full_name, status`) or Zoho's user JSON (`full_name`, `status`,
    `email`, `id`; `first_name`/`last_name` when there is no full name). `confirmed` is Zoho's
    `confirm`: false for an invited user who has not accepted yet (owns no record until then);
    a file without the key lists staff who did."""
    source = "list" if isinstance(users, list) else str(users)
    records = users if isinstance(users, list) else _read_users(Path(users))
    rows = []
    for n, user in enumerate(records, start=1):
        if not isinstance(user, dict) or not user.get("id"):
            raise LandingError("user has no id", file=source, row=n, field="id")
        full_name = user.get("full_name") or " ".join(
            str(user[k]) for k in ("first_name", "last_name") if user.get(k)) or None
        rows.append((str(user["id"]), _text(user.get("email")), full_name, _text(user.get("status")), org_label,
                     user.get("confirm") is not False))
    warehouse = Path(warehouse) if warehouse else settings.warehouse_path()
    with closing(connect(warehouse)) as con, transaction(con):
        con.execute("CREATE TABLE IF NOT EXISTS raw.zoho_users (id VARCHAR, email VARCHAR, full_name VARCHAR, "
                    "status VARCHAR, org_label VARCHAR, _loaded_at TIMESTAMPTZ)")
        con.execute("ALTER TABLE raw.zoho_users ADD COLUMN IF NOT EXISTS confirmed BOOLEAN")  # older warehouses
        con.execute("DELETE FROM raw.zoho_users WHERE org_label = ?", [org_label])
        loaded_at = datetime.now(timezone.utc)
        if rows:
            con.executemany("INSERT INTO raw.zoho_users (id, email, full_name, status, org_label, confirmed, "
                            "_loaded_at) VALUES (?, ?, ?, ?, ?, ?, ?)", [(*row, loaded_at) for row in rows])
    return len(rows)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
