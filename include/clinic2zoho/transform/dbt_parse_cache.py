"""dbt's saved parse shared by the warehouses that build one project with the same vars.

Each warehouse has its own dbt target folder, and dbt parses the whole project again for a target
folder without a saved parse (`partial_parse.msgpack`): a new warehouse, a sample warehouse, a copy
of one. That costs about 4 s of CPU in every such command (a `dbt run` of one model on a new copy
of a warehouse: 7.0 s parsing the whole project, 3.2 s from the shared parse; bench/dbt_start.py).
dbt accepts a saved parse only when dbt's version, the vars, the profile and the project's files
are as they were, and checks this itself (a changed file is parsed again, anything else starts a
full parse), so a new target folder can start from the parse another warehouse's command left: a
copy of a warehouse to break on purpose, or a warehouse built again from scratch. For the profile
to be the same, run_dbt opens the warehouse by its file name from the warehouse's folder.

The parses are kept in the project's own target folder (`target/shared_parse/`), one per vars and
profile, the KEPT most recent; a project folder that cannot be written to keeps none."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PARSE_FILE = "partial_parse.msgpack"
PROFILE_ENV = ("CLINIC2ZOHO_WAREHOUSE", "CLINIC2ZOHO_DUCKDB_MEMORY_LIMIT")  # what profiles.yml reads
KEPT = 24  # parses kept per project, the most recently written (about 1.5 MB each)


def shared_parse(project: Path, env: Mapping[str, str], vars: Mapping[str, Any]) -> Path:
    """Where the parse of `project` under these vars and this environment's profile is kept."""
    profile = {key: env.get(key) for key in PROFILE_ENV}
    key = json.dumps([profile, vars], sort_keys=True, default=str)
    return project / "target" / "shared_parse" / f"{hashlib.sha256(key.encode()).hexdigest()[:20]}.msgpack"


def start_from_shared(target: Path, shared: Path) -> float | None:
    """A target folder without a saved parse gets the shared one. Returns the modification time of
    the target's saved parse as the command starts (None: there is none)."""
    saved = target / PARSE_FILE
    if not saved.is_file() and shared.is_file():
        target.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copyfile(shared, saved)
        except OSError:
            saved.unlink(missing_ok=True)
    return saved.stat().st_mtime if saved.is_file() else None


def share(target: Path, shared: Path, before: float | None) -> None:
    """Keep the parse the command saved (when it wrote one) for the next new target folder: written
    beside and renamed, so a command starting meanwhile reads a whole file."""
    saved = target / PARSE_FILE
    if not saved.is_file() or (before is not None and saved.stat().st_mtime == before):
        return
    try:
        shared.parent.mkdir(parents=True, exist_ok=True)
        partial = shared.with_name(f"{shared.name}.{os.getpid()}")
        shutil.copyfile(saved, partial)
        os.replace(partial, shared)
        _keep_recent(shared.parent)
    except OSError:
        pass


def _keep_recent(folder: Path) -> None:
    """Only the KEPT most recently written parses (every test run's vars name new files)."""
    parses = sorted(folder.glob("*.msgpack"), key=lambda path: path.stat().st_mtime, reverse=True)
    for old in parses[KEPT:]:
        old.unlink(missing_ok=True)
