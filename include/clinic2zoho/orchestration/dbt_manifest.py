"""The dbt manifest the DAG files render their Cosmos tasks from (LoadMode.DBT_MANIFEST): parsing a
DAG file then reads one JSON file instead of running `dbt ls` (20 s and more on 2 cores).

The manifest belongs to the work folder (`<work>/dbt_manifest/`), not the repository: the source
map and the confirmed mapping change the models, so each clinic's project has its own. It is
written by `write_manifest` (`clinic2zoho migrate` before it starts Airflow, `clinic2zoho
dbt-manifest` for a deployment) together with a fingerprint of the project's files; a DAG file uses
it only while the fingerprint still matches, and renders with `dbt ls` otherwise (slower, never
wrong)."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

from clinic2zoho import settings

# What dbt reads when it parses: an edit to any of these may change the graph or a model's meta.
PARSED_ENTRIES = ("models", "macros", "seeds", "tests", "snapshots", "analyses", "mapping",
                  "dbt_project.yml", "profiles.yml", "packages.yml", "selectors.yml")
FOLDER = "dbt_manifest"


class ManifestError(RuntimeError):
    pass


def manifest_folder(home: Path | None = None) -> Path:
    return (home or settings.home()) / FOLDER


def project_fingerprint(project: Path) -> str:
    """A hash of every file dbt parses in `project` (names and contents)."""
    digest = hashlib.sha256()
    for entry in PARSED_ENTRIES:
        root = project / entry
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []
        for path in files:
            digest.update(path.relative_to(project).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def current_manifest(project: Path, home: Path | None = None) -> Path | None:
    """The work folder's manifest if it was parsed from `project` as it is now, else None."""
    folder = manifest_folder(home)
    manifest, stamp = folder / "target" / "manifest.json", folder / "fingerprint.json"
    if not (manifest.is_file() and stamp.is_file()):
        return None
    try:
        recorded = json.loads(stamp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    fresh = recorded.get("project") == str(project) and recorded.get("fingerprint") == project_fingerprint(project)
    return manifest if fresh else None


def write_manifest(project: Path, home: Path | None = None) -> Path:
    """`dbt parse` of `project` into the work folder (nothing is built, the warehouse is not
    opened), stamped with the project's fingerprint. Returns the manifest's path."""
    from clinic2zoho.transform.dbt_runner import dbt_env, dbt_executable

    folder = manifest_folder(home)
    folder.mkdir(parents=True, exist_ok=True)
    if (found := current_manifest(project, home)) is not None:
        return found
    fingerprint = project_fingerprint(project)
    target = folder / "target"
    cmd = [dbt_executable(), "--no-use-colors", "parse", "--project-dir", str(project), "--profiles-dir",
           str(project), "--target-path", str(target), "--log-path", str(target / "logs")]
    env = dbt_env((home or settings.home()) / "warehouse.duckdb")
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0 or not (target / "manifest.json").is_file():
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-20:])
        raise ManifestError(f"`dbt parse` of {project.name} failed (exit {proc.returncode}):\n{tail}")
    (folder / "fingerprint.json").write_text(json.dumps({"project": str(project), "fingerprint": fingerprint}),
                                             encoding="utf-8")
    return target / "manifest.json"
