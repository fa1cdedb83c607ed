"""Where a run keeps its files. Everything comes from the environment so Airflow workers,
the CLI and tests agree without passing paths around."""

from __future__ import annotations

import os
import stat
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
# The work folder holds patient data (warehouse, journals, reports, the local orgs) and the local
# orgs' credentials: what this process and its children create is for the owner only.
OWNER_ONLY_UMASK = 0o077
# What clinic2zoho writes in a work folder (anything else there is the user's own and left as is).
WORK_ENTRIES = frozenset({"airflow", "cosmos-cache", "dbt_manifest", "decisions", "delta", "generated", "journal",
                          "logs",
                          "migration.json", "reports", "signoffs", "warehouse.duckdb", "warehouse.duckdb.wal",
                          "warehouse.dbt_target", "zoho"})


def owner_only(path: Path) -> Path:
    """Create `path` (or take it as it is) readable by its owner only: directories 0700 and files
    0600 from now on (the umask, which child processes inherit), the folder itself, and once, for
    a folder an earlier version left open, what clinic2zoho wrote in it."""
    os.umask(OWNER_ONLY_UMASK)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if stat.S_IMODE(path.stat().st_mode) & OWNER_ONLY_UMASK:
        for entry in sorted(path / name for name in WORK_ENTRIES if (path / name).exists()):
            _tighten(entry)
            for folder, dirs, files in os.walk(entry):
                for name in dirs + files:
                    _tighten(Path(folder) / name)
        _tighten(path)
    return path


def _tighten(path: Path) -> None:
    info = path.lstat()
    if not stat.S_ISLNK(info.st_mode) and stat.S_IMODE(info.st_mode) & OWNER_ONLY_UMASK:
        path.chmod(stat.S_IMODE(info.st_mode) & ~OWNER_ONLY_UMASK)


def home() -> Path:
    """The work folder of this run (warehouse, reports, generated export, server state)."""
    return owner_only(Path(os.environ.get("CLINIC2ZOHO_HOME", "work")).resolve())


def warehouse_path() -> Path:
    """The DuckDB file holding raw, staging, zoho and ops schemas."""
    override = os.environ.get("CLINIC2ZOHO_WAREHOUSE")
    if override:
        os.umask(OWNER_ONLY_UMASK)
        return Path(override).resolve()
    return home() / "warehouse.duckdb"


def journal_root(given: str | Path | None = None) -> Path:
    """Where load runs keep their journals: `given` (a command's --journal, an operator's
    journal_dir) or the work folder's `journal/`."""
    return Path(given) if given else home() / "journal"


def reports_dir() -> Path:
    override = os.environ.get("CLINIC2ZOHO_REPORTS")
    return owner_only(Path(override).resolve() if override else home() / "reports")
