"""The loader run in a child process by the crash tests: `python -m tests.loader.load_child JSON`.
Secrets come through the environment. CLINIC2ZOHO_CRASH_AT decides where it dies."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from clinic2zoho.loader.journal import AuditLog
from clinic2zoho.loader.module_loader import LoadSettings
from clinic2zoho.loader.plan import LoadPlan
from clinic2zoho.loader.run import Loader
from clinic2zoho.loader.source import TableSource
from clinic2zoho.zoho import ZohoClient, ZohoConfig


def main(raw: str) -> int:
    a = json.loads(raw)
    config = ZohoConfig(a["cid"], os.environ["LOADER_TEST_SECRET"], os.environ["LOADER_TEST_REFRESH"], data_centre=None,
                        accounts_url=a["base"], api_url=a["base"], upload_url=a["base"], backoff_initial=0.02,
                        backoff_max=0.2, poll_initial=0.05, poll_max=0.2)
    root = Path(a["journal"])
    audit = AuditLog(root, a["run_id"])
    client = ZohoClient(config, on_call=audit)
    settings = LoadSettings(record_concurrency=2, files_root=Path(a["files"]), attachment_max_bytes=2000,
                            force_path=a.get("force_path"), poll_initial=0.05, poll_max=0.2)
    Loader(LoadPlan.from_json(a["plan"]), client, run_id=a["run_id"], root=root,
           source=TableSource(a["warehouse"]), settings=settings).run()
    client.close()
    audit.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
