"""Write the demo inputs for the shared sample exports (run from the repo root):

    .venv/bin/python demo/build_demo_inputs.py ../shared/data

Synthea providers carry no email, so the demo clinic fills them in (provider_email_overrides.csv)
and its Zoho org has users with those emails (zoho_users.json). FHIR practitioners carry work
emails, which the demo org replaces with its own the same way. Emails and user ids are derived from provider ids
only: no name from the export is written."""

from __future__ import annotations

import csv
import hashlib
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _user_id(key: str) -> str:
    """A Zoho-like 19-digit user id derived from a provider key."""
    return "5725767" + str(int(hashlib.sha256(key.encode()).hexdigest(), 16))[:12]


def _write(out: Path, domain: str, provider_ids: list[str]) -> None:
    emails = {pid: f"dr-{pid[:8]}@{domain}" for pid in sorted(provider_ids)}
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "provider_email_overrides.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["provider_id", "email"])
        writer.writerows(emails.items())
    users = [{"id": _user_id(pid), "email": email, "full_name": f"Provider {pid[:8]}", "status": "active"}
             for pid, email in emails.items()]
    (out / "zoho_users.json").write_text(json.dumps(users, indent=1) + "\n", encoding="utf-8")


def synthea(export: Path, out: Path) -> None:
    with open(export / "providers.csv", newline="", encoding="utf-8") as fh:
        ids = [row["Id"] for row in csv.DictReader(fh)]
    _write(out, "ma27-demo-clinic.example", ids)


def fhir(export: Path, out: Path) -> None:
    """FHIR practitioners have emails, but the demo org uses its own (made-up) addresses, which
    the overrides map them to: the same path a clinic takes when its mail domain changed."""
    lines = (export / "Practitioner.000.ndjson").read_text(encoding="utf-8").splitlines()
    _write(out, "fhir10-demo-clinic.example", [json.loads(line)["id"] for line in lines if line.strip()])


if __name__ == "__main__":
    data = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data")
    synthea(data / "synthea_csv_ma27", HERE / "synthea_ma27")
    fhir(data / "fhir_bulk_ndjson_10", HERE / "fhir_bulk_ndjson_10")
