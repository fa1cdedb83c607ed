"""Bulk Write over real HTTP: end to end and in steps, per-row results, failed jobs."""

from __future__ import annotations

import pytest

from clinic2zoho.zoho import BulkJobStatus
from clinic2zoho.zoho.bulk_files import write_bulk_zips
from tests.zoho.conftest import contacts, count_by_key, ensure_external_field, unique

COLUMNS = ["Last_Name", "Clinic_Patient_Id"]
pytestmark = pytest.mark.xdist_group("zoho-client-bulk")


@pytest.fixture
def ext(client) -> str:
    return ensure_external_field(client)


def test_bulk_insert_end_to_end_reports_each_row(make_client, ext, tmp_path):
    client, calls = make_client()
    tag = unique("bulk")
    rows = contacts(300, tag)
    rows[5] = {"Last_Name": None, "Clinic_Patient_Id": f"{tag}-5"}  # fails: mandatory
    with client.bulk_write("Contacts", iter(rows), COLUMNS, work_dir=tmp_path, key_column=ext) as result:
        assert result.status is BulkJobStatus.COMPLETED and len(result.job_ids) == 1
        outcomes = list(result.rows())
        assert [o.row for o in outcomes] == list(range(300))
        assert [o.key for o in outcomes] == [f"{tag}-{i}" for i in range(300)]
        bad = [o for o in outcomes if not o.ok]
        assert [(o.row, o.errors) for o in bad] == [(5, (("MANDATORY_NOT_FOUND", "Last_Name"),))]
        assert all(o.status == "added" and o.record_id for o in outcomes if o.ok)
        assert result.count("added_count") == 299
    assert not any(tmp_path.iterdir())  # work files removed
    job_calls = calls.of(method="POST", path="/crm/bulk/v8/write")
    assert [(e.credits, e.record_count) for e in job_calls] == [(500, 300)]
    assert len(count_by_key(client, "Contacts", ext, tag)) == 299


def test_bulk_upsert_by_external_id_updates_existing_rows(client, ext):
    tag = unique("bups")
    client.insert("Contacts", contacts(10, tag))
    rows = contacts(15, tag, First_Name="Bulk")
    with client.bulk_write("Contacts", rows, COLUMNS + ["First_Name"], operation="upsert", find_by=ext) as result:
        statuses = [o.status for o in result.rows()]
    assert statuses == ["updated"] * 10 + ["added"] * 5
    assert count_by_key(client, "Contacts", ext, tag) == {f"{tag}-{i}": 1 for i in range(15)}


def test_a_large_write_runs_as_several_jobs(client, ext, monkeypatch):
    import clinic2zoho.zoho.client_bulk as client_module

    def small_files(rows, columns, dest, stem="bulk"):
        return write_bulk_zips(rows, columns, dest, stem=stem, max_rows=40)

    monkeypatch.setattr(client_module, "write_bulk_zips", small_files)
    tag = unique("multi")
    with client.bulk_write("Contacts", contacts(100, tag), COLUMNS) as result:
        assert len(result.job_ids) == 3
        assert [o.row for o in result.rows()] == list(range(100))
        assert all(o.ok for o in result.rows())


def test_bulk_in_steps_for_a_deferrable_operator(client, ext, tmp_path):
    tag = unique("steps")
    (bulk_file,) = write_bulk_zips(contacts(20, tag), COLUMNS, tmp_path)
    file_id = client.bulk_upload(bulk_file.path)
    job_id = client.bulk_create_job("Contacts", file_id, COLUMNS, operation="upsert", find_by=ext)
    job = client.bulk_wait(job_id)
    assert BulkJobStatus.parse(job["status"]) is BulkJobStatus.COMPLETED
    assert job == client.bulk_status(job_id) or client.bulk_status(job_id)["status"] == "COMPLETED"
    rows = list(client.bulk_results(job["result"]["download_url"], key_column=ext))
    assert [r.key for r in rows] == [f"{tag}-{i}" for i in range(20)]
    assert all(r.status == "added" and r.record_id for r in rows)


def test_a_failed_bulk_job_is_surfaced_as_failed(zoho_server, make_client):
    client, _ = make_client(zoho_server)
    ensure_external_field(client)
    zoho_server.settings(faults={"bulk_fail_rate": 1.0})
    tag = unique("bfail")
    with client.bulk_write("Contacts", contacts(30, tag), COLUMNS) as result:
        assert result.status is BulkJobStatus.FAILED and not result.ok
        rows = list(result.rows())
    assert len(rows) == 30 and all(r.status == "unprocessed" and not r.ok for r in rows)


def test_failing_rows_are_reported_per_row(zoho_server, make_client):
    client, _ = make_client(zoho_server)
    ext = ensure_external_field(client)
    zoho_server.settings(faults={"row_fail_rate": 0.3, "seed": 7})
    tag = unique("rfail")
    with client.bulk_write("Contacts", contacts(200, tag), COLUMNS, key_column=ext) as result:
        rows = list(result.rows())
    failed = [r for r in rows if not r.ok]
    assert 20 < len(failed) < 120 and all(r.errors for r in failed)
    zoho_server.settings(faults={"row_fail_rate": 0.0})
    landed = count_by_key(client, "Contacts", ext, tag)
    assert set(landed) == {r.key for r in rows if r.ok}


def test_modules_zoho_refuses_in_bulk_are_refused_before_any_call(make_client):
    client, calls = make_client()
    for module in ("Notes", "Events", "Calls"):
        with pytest.raises(ValueError, match="Bulk Write does not take"):
            client.bulk_write(module, [], ["Note_Title"])
    assert calls.events == []


def test_an_upsert_needs_find_by(client):
    with pytest.raises(ValueError, match="needs find_by"):
        client.bulk_write("Contacts", [], COLUMNS, operation="upsert")
