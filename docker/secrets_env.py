"""Write the `.env` that docker-compose.yml requires: a fresh random value for each of its secrets,
in a file only its owner can read. No value is printed.

    python docker/secrets_env.py           # then set AIRFLOW_CONN_ZOHO_DEFAULT in .env to the real org
    python docker/secrets_env.py --demo    # also the local Zoho server's credentials and the
                                           # Connection to it, for docker-compose.demo.yml

Standard library only: it runs before anything is installed. An existing file is never replaced."""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import sys
from pathlib import Path

REAL_ORG = "AIRFLOW_CONN_ZOHO_DEFAULT="  # left empty: compose refuses to start until it is set


def deployment_secrets() -> dict[str, str]:
    return {
        "AIRFLOW_JWT_SECRET": secrets.token_urlsafe(64),  # HS512 wants at least 64 bytes
        "AIRFLOW_API_SECRET_KEY": secrets.token_urlsafe(32),
        "AIRFLOW_FERNET_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "POSTGRES_PASSWORD": secrets.token_hex(24),  # hex: safe inside the database URLs
        "AIRFLOW_ADMIN_PASSWORD": secrets.token_urlsafe(18),
    }


def demo_org() -> dict[str, str]:
    client_id, client_secret = "1000." + secrets.token_hex(16).upper(), secrets.token_hex(20)
    refresh = "1000." + secrets.token_hex(32)
    url = "http://zoho-server:8088"
    connection = {"conn_type": "zoho", "login": client_id, "password": client_secret,
                  "extra": {"refresh_token": refresh, "accounts_url": url, "api_url": url, "upload_url": url,
                            "edition": "Enterprise"}}
    return {"ZOHO_DEMO_CLIENT_ID": client_id, "ZOHO_DEMO_CLIENT_SECRET": client_secret,
            "ZOHO_DEMO_REFRESH_TOKEN": refresh, "AIRFLOW_CONN_ZOHO_DEFAULT": json.dumps(connection)}


def render(values: dict[str, str]) -> str:
    # Single quotes: compose takes the value literally (the Connection JSON holds double quotes).
    return "".join(f"{key}='{value}'\n" for key, value in values.items())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", action="store_true", help="add the local Zoho server's org (demo only)")
    parser.add_argument("--out", type=Path, default=Path(".env"), help="default: .env here")
    args = parser.parse_args(argv)
    values = deployment_secrets() | (demo_org() if args.demo else {})
    text = render(values) + ("" if args.demo else f"# the clinic's Zoho org (README, \"A real Zoho org\")\n{REAL_ORG}\n")
    try:
        fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        print(f"{args.out} exists: not replaced (its secrets may be in use)", file=sys.stderr)
        return 1
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    print(f"wrote {args.out} (mode 0600): {', '.join(values)}; the UI login is admin with AIRFLOW_ADMIN_PASSWORD there")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
