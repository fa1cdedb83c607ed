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
from clinic2zoho.transform import dbt_parse_cache

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
    opened), stamped with the project's fingerprint. Returns the manifest's path. Forked from this
    process's dbt fork server (dbt_process): no new interpreter importing dbt for one command."""
    return ManifestParse(project, home).forked()


class ManifestParse:
    """A `dbt parse` into the work folder (or none, the manifest being current): forked and waited
    for (`write_manifest`), or started in a child process while the caller does other work
    (`clinic2zoho migrate` prepares Airflow) and `wait()`s."""

    def __init__(self, project: Path, home: Path | None) -> None:
        from clinic2zoho.transform.dbt_runner import dbt_env_by_name

        self.folder = manifest_folder(home)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.found = current_manifest(project, home)
        self.project, self.proc = project, None
        if self.found is not None:
            return
        self.fingerprint = project_fingerprint(project)
        self.target = self.folder / "target"
        self.args = ["--no-use-colors", "parse", "--project-dir", str(project), "--profiles-dir", str(project),
                     "--target-path", str(self.target), "--log-path", str(self.target / "logs")]
        # the parse never opens the warehouse; named as run_dbt names it, the profile is every work
        # folder's, and a new work folder starts from the parse another one left (dbt checks the
        # project's files itself)
        self.env = dbt_env_by_name((home or settings.home()) / "warehouse.duckdb")
        self.shared = dbt_parse_cache.shared_parse(project, self.env, {})
        self.saved_before = dbt_parse_cache.start_from_shared(self.target, self.shared)

    def forked(self) -> Path:
        if self.found is not None:
            return self.found
        from clinic2zoho.transform.dbt_process import run_dbt_command

        return self.finish(*run_dbt_command(self.args, self.env, self.folder))

    def start(self) -> "ManifestParse":
        from clinic2zoho.transform.dbt_process import dbt_executable

        if self.found is None:
            self.proc = subprocess.Popen([dbt_executable(), *self.args], env=self.env, cwd=self.folder,
                                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        return self

    def stop(self) -> None:
        """The caller gave up (an error elsewhere): no parse is left running."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()

    def wait(self) -> Path:
        if self.proc is None:
            return self.found
        output, _ = self.proc.communicate()
        return self.finish(self.proc.returncode, output)

    def finish(self, returncode: int, output: str) -> Path:
        """The parse's manifest, stamped with the fingerprint the project had when it started."""
        manifest = self.target / "manifest.json"
        if returncode != 0 or not manifest.is_file():
            tail = "\n".join(output.splitlines()[-20:])
            raise ManifestError(f"`dbt parse` of {self.project.name} failed (exit {returncode}):\n{tail}")
        (self.folder / "fingerprint.json").write_text(
            json.dumps({"project": str(self.project), "fingerprint": self.fingerprint}), encoding="utf-8")
        dbt_parse_cache.share(self.target, self.shared, self.saved_before)
        return manifest


def start_manifest(project: Path, home: Path | None = None) -> ManifestParse:
    """Start `write_manifest`'s parse; `.wait()` for its manifest path."""
    return ManifestParse(project, home).start()
