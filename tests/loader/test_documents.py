"""Documents are read only inside the export folder: a crafted documents.csv (`..`, an absolute
path, a symlink out of the folder) never gets a host file into Zoho; its rows are rejects with
their reason. A file the loader cannot read is a reject too, and the load (or its resume) ends."""

from __future__ import annotations

from pathlib import Path

import pytest

from clinic2zoho.loader import documents
from clinic2zoho.loader.journal import JournalReader
from clinic2zoho.loader.module_loader import LoadSettings
from clinic2zoho.reports.reconciliation import module_counts
from clinic2zoho.reports.run_context import RunContext

from tests.loader.conftest import load

DOCS = ["Accounts", "Contacts", "Attachments"]  # what attachments need: their parents
SENTINEL = b"SENTINEL outside the export: must never reach Zoho\n"


@pytest.fixture
def sentinel(tmp_path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    path = outside / "sentinel.txt"
    path.write_bytes(SENTINEL)
    return path


def _add_documents(clinic, rows: list[tuple[str, str]]) -> None:
    values = ", ".join(f"('{doc}', '{doc}_file.txt', '{path}', 'p1')" for doc, path in rows)
    clinic.sql(f"INSERT INTO zoho.zoho_attachments VALUES {values}")


def _contents(org) -> dict[str, bytes]:
    """Every attachment the server holds, read back over HTTP: file name -> bytes."""
    out = {}
    with org.client() as c:
        for rec in c.iter_records("Contacts", ["Clinic_Patient_Id"]):
            for att in c.attachments("Contacts", rec["id"]):
                out[att["File_Name"]] = c.download_attachment("Contacts", rec["id"], att["id"])
    return out


def _journal(clinic, run_id: str = "run1") -> dict[str, tuple]:
    with JournalReader(clinic.journal, runs=[run_id]) as q:
        rows = q.sql("SELECT source_key, status, error_code, error FROM load_journal WHERE module = 'Attachments'")
    return {k: (s, c, e) for k, s, c, e in rows}


def test_paths_leaving_the_export_folder_are_rejects_and_never_uploaded(org, clinic, sentinel):
    files = clinic.files  # the export folder of this load (files_root)
    (files / "link-out.txt").symlink_to(sentinel)
    (files / "dir-out").symlink_to(sentinel.parent, target_is_directory=True)
    (files / "link-in.txt").symlink_to("doc-d1.txt")  # inside, pointing inside: allowed
    (files / "sub").mkdir()
    _add_documents(clinic, [
        ("up", "../../outside/sentinel.txt"),
        ("abs", str(sentinel)),
        ("winabs", "C:\\outside\\sentinel.txt"),
        ("linkout", "link-out.txt"),
        ("dirout", "dir-out/sentinel.txt"),
        ("linkin", "link-in.txt"),
        ("dotdot_inside", "sub/../doc-d2.txt"),
    ])
    result = load(org, clinic, modules=DOCS)
    assert result.pending == 0

    held = _contents(org)
    assert SENTINEL not in held.values()
    assert held["linkin_file.txt"] == (files / "doc-d1.txt").read_bytes()
    assert held["dotdot_inside_file.txt"] == (files / "doc-d2.txt").read_bytes()

    journal = _journal(clinic)
    for key in ("up", "abs", "winabs", "linkout", "dirout"):
        status, code, message = journal[key]
        assert (status, code) == ("rejected", "PATH_OUTSIDE_EXPORT"), key
        assert "leaves the export folder" in message and "sentinel" not in message, key
    assert journal["linkin"][0] == journal["dotdot_inside"][0] == "done"
    with JournalReader(clinic.journal) as q:
        rejects = q.sql("SELECT source_key FROM load_rejects WHERE code = 'PATH_OUTSIDE_EXPORT' ORDER BY 1")
    assert [r[0] for r in rejects] == ["abs", "dirout", "linkout", "up", "winabs"]

    # The reconciliation report lists them with their reason, and the counts still add up.
    attachments = next(m for m in module_counts(RunContext.open("run1", clinic.warehouse, clinic.journal))
                       if m.module == "Attachments")
    assert attachments.adds_up and attachments.rejected == 6  # and d6: over the limit, no address to link it by
    reason = next(r for r in attachments.reject_reasons if r["code"] == "PATH_OUTSIDE_EXPORT")
    assert reason["n"] == 5 and "leaves the export folder" in reason["example"]


def test_without_a_known_export_folder_no_document_is_read(org, clinic):
    """No files_root and no landed export in the warehouse: refuse, do not guess."""
    result = load(org, clinic, files_root=None, modules=DOCS)
    assert result.pending == 0
    assert {v[1] for v in _journal(clinic).values()} == {"EXPORT_FOLDER_UNKNOWN"}
    assert _contents(org) == {}


def test_the_export_folder_landed_into_the_warehouse_is_the_default(org, clinic):
    clinic.sql("CREATE SCHEMA raw; CREATE TABLE raw._batches (batch_id VARCHAR, format VARCHAR, source VARCHAR,"
               f" started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ); INSERT INTO raw._batches VALUES"
               f" ('b1', 'generic', '{clinic.files}', now(), now())")
    load(org, clinic, files_root=None, modules=DOCS)
    assert len(_contents(org)) == 5  # d6 is over the size limit


def _refuse_reads_of(monkeypatch, target: Path) -> None:
    """Make `target` unreadable to the loader: chmod 000, and where the process reads through it
    anyway (root), refuse it where the loader opens documents, as the kernel would (EACCES)."""
    target.chmod(0)
    try:
        target.open("rb").close()
    except PermissionError:
        return  # chmod 000 holds for this user: the real refusal is tested
    real = documents.open_document

    def refusing(path):
        if Path(path) == target.resolve():
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(documents, "open_document", refusing)


def test_an_unreadable_document_is_a_reject_and_the_load_finishes(org, clinic, monkeypatch):
    _refuse_reads_of(monkeypatch, clinic.files / "doc-d2.txt")
    result = load(org, clinic, modules=DOCS)
    assert result.pending == 0
    status, code, message = _journal(clinic)["d2"]
    assert (status, code) == ("rejected", "FILE_UNREADABLE") and "doc-d2" not in message
    assert "doc-d2.txt" not in _contents(org) and len(_contents(org)) == 4


class _Killed(BaseException):
    """The process dying mid-upload (not an Exception: nothing in the loader handles it)."""


def test_a_row_left_sent_on_a_file_now_unreadable_is_rejected_on_resume(org, clinic, monkeypatch):
    target = (clinic.files / "doc-d3.txt").resolve()
    real = documents.open_document
    calls = []

    def dies_during_upload(path):
        if Path(path) == target:
            calls.append(path)
            if len(calls) == 2:  # the probe passes; the process dies opening the file for the upload
                raise _Killed()
        return real(path)

    monkeypatch.setattr(documents, "open_document", dies_during_upload)
    with pytest.raises(_Killed):
        load(org, clinic, modules=DOCS, record_concurrency=1)
    assert _journal(clinic)["d3"][0] == "sent"
    monkeypatch.setattr(documents, "open_document", real)

    _refuse_reads_of(monkeypatch, target)
    result = load(org, clinic, modules=DOCS)  # the resume: same run id
    assert result.pending == 0
    assert _journal(clinic)["d3"][:2] == ("rejected", "FILE_UNREADABLE")


def test_a_file_becoming_unreadable_between_check_and_upload_is_a_reject(org, clinic, monkeypatch):
    target = clinic.files / "doc-d4.txt"
    real = documents.open_document
    calls = []

    def second_open_refused(path):
        if Path(path) == target.resolve():
            calls.append(path)
            if len(calls) >= 2:
                raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(documents, "open_document", second_open_refused)
    assert load(org, clinic, modules=DOCS).pending == 0
    assert _journal(clinic)["d4"][:2] == ("rejected", "FILE_UNREADABLE")


def test_a_document_between_20_and_25_mib_is_over_zohos_limit_and_never_dropped(org, clinic):
    """Zoho's pages disagree on the attachment limit (20 MB, 100 MB; zoho/facts.py): the project takes
    the stricter 20 MiB, which the local server enforces from its own copy. A 22 MiB file (under the
    25 MB the loader once assumed) is refused by the server when sent as is, so the loader does not
    send it: it is over the limit and, with no web address to link it by, a reject naming what to set.
    A file of exactly 20 MiB goes through."""
    for name, size in (("scan-22mib.pdf", 22 * 2**20), ("scan-20mib.pdf", 20 * 2**20)):
        with open(clinic.files / name, "wb") as fh:
            fh.truncate(size)  # sparse: no 42 MiB written to disk
    _add_documents(clinic, [("big", "scan-22mib.pdf"), ("edge", "scan-20mib.pdf")])

    result = load(org, clinic, modules=DOCS, attachment_max_bytes=LoadSettings().attachment_max_bytes)
    assert result.pending == 0
    journal = _journal(clinic)
    status, code, message = journal["big"]
    assert (status, code) == ("rejected", "DOCUMENT_URL_MISSING")
    assert f"{22 * 2**20} bytes, over the attachment limit ({20 * 2**20} bytes)" in message
    assert journal["edge"][0] == "done"
    held = _contents(org)
    assert "big_file.txt" not in held and len(held["edge_file.txt"]) == 20 * 2**20

    # the server on its own refuses the 22 MiB file, as the loader expected
    with org.client() as c:
        parent = next(r["id"] for r in c.iter_records("Contacts", ["Clinic_Patient_Id"])
                      if r["Clinic_Patient_Id"] == "p1")
        refused = c.upload_attachment("Contacts", parent, clinic.files / "scan-22mib.pdf")
    assert (refused.ok, refused.code) == (False, "FILE_SIZE_MORE_THAN_ALLOWED_SIZE")
