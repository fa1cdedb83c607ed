"""The work folder holds patient data: what a command writes there, and what its child processes
write, is for the owner only (directories 0700, files 0600), and a folder an earlier version left
open is closed the next time a command uses it."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from clinic2zoho import cli, settings


@pytest.fixture
def work(tmp_path, monkeypatch):
    previous = os.umask(0o022)  # a usual login umask: the command must not depend on the caller's
    monkeypatch.setenv("CLINIC2ZOHO_HOME", str(tmp_path / "work"))
    monkeypatch.delenv("CLINIC2ZOHO_WAREHOUSE", raising=False)
    monkeypatch.delenv("CLINIC2ZOHO_REPORTS", raising=False)
    yield tmp_path / "work"
    os.umask(previous)


def open_to_others(root: Path) -> list[str]:
    paths = [root, *root.rglob("*")]
    return [f"{p.relative_to(root)} {stat.filemode(p.lstat().st_mode)}" for p in paths
            if not p.is_symlink() and stat.S_IMODE(p.lstat().st_mode) & 0o077]


def test_a_command_writes_its_work_folder_for_the_owner_only(work):
    assert cli.main(["generate", "--patients", "5", "--no-files"]) == 0
    assert cli.main(["land", "--source", str(work / "generated" / "export")]) == 0
    created = [p for p in work.rglob("*")]
    assert (work / "warehouse.duckdb").is_file() and any(p.suffix == ".csv" for p in created)
    assert stat.S_IMODE(work.stat().st_mode) == 0o700
    assert open_to_others(work) == []


def test_what_a_child_process_writes_there_is_owner_only_too(work):
    folder = settings.home()
    subprocess.run([sys.executable, "-c", f"open({str(folder / 'child.txt')!r}, 'w').write('x')"], check=True)
    assert stat.S_IMODE((folder / "child.txt").stat().st_mode) == 0o600


def test_a_folder_left_open_by_an_earlier_version_is_closed(work):
    (work / "reports").mkdir(parents=True, mode=0o755)
    work.chmod(0o755)
    (work / "reports" / "sample_diff.csv").write_text("values")
    (work / "reports" / "sample_diff.csv").chmod(0o644)
    (work / "warehouse.duckdb").write_text("")
    (work / "warehouse.duckdb").chmod(0o755)
    (work / "notes.txt").write_text("the user's own")
    (work / "notes.txt").chmod(0o644)
    settings.home()
    assert open_to_others(work) == ["notes.txt -rw-r--r--"]  # not ours: left as is, behind the folder's 0700
    assert stat.S_IMODE(work.stat().st_mode) == 0o700
    assert stat.S_IMODE((work / "warehouse.duckdb").stat().st_mode) == 0o700  # the owner keeps what it had


def test_reports_and_warehouse_elsewhere_are_owner_only(tmp_path, work, monkeypatch):
    monkeypatch.setenv("CLINIC2ZOHO_REPORTS", str(tmp_path / "shared" / "reports"))
    monkeypatch.setenv("CLINIC2ZOHO_WAREHOUSE", str(tmp_path / "elsewhere.duckdb"))
    assert stat.S_IMODE(settings.reports_dir().stat().st_mode) == 0o700
    settings.warehouse_path().write_text("")
    assert stat.S_IMODE((tmp_path / "elsewhere.duckdb").stat().st_mode) == 0o600
