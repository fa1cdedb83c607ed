"""The journal: one DuckDB segment per (run, module), queryable together with SQL, safe for
modules written by parallel processes, and published into the warehouse's ops schema."""

from __future__ import annotations

import multiprocessing

import duckdb
import pytest

from clinic2zoho.loader.journal import AuditLog, JournalReader, JournalSegment, crosswalk, publish
from clinic2zoho.zoho.models import CallEvent


def _write_module(root, module, n):
    with JournalSegment(root, "run1", module) as seg:
        for start in range(0, n, 10):
            keys = [f"{module}-{i}" for i in range(start, min(n, start + 10))]
            seg.intent([{"source_key": k, "operation": "insert"} for k in keys], "record", f"b{start}")
            seg.sent(keys)
            seg.done([{"source_key": k, "zoho_id": f"z{k}", "operation": "insert"} for k in keys])


def test_rows_move_from_intent_to_an_outcome(tmp_path):
    with JournalSegment(tmp_path, "run1", "Contacts") as seg:
        seg.intent([{"source_key": "p1", "operation": "insert"},
                    {"source_key": "p2", "operation": "update", "zoho_id": "9", "before_image": {"Last_Name": "X"}}],
                   "record", "b1")
        assert {k: e.status for k, e in seg.entries().items()} == {"p1": "intent", "p2": "intent"}
        seg.sent(["p1", "p2"])
        seg.done([{"source_key": "p1", "zoho_id": "1", "operation": "insert"}])
        seg.reject([{"source_key": "p2", "code": "INVALID_DATA", "field": "Email", "message": "invalid"}])
        entries = seg.entries()
    assert (entries["p1"].status, entries["p1"].zoho_id) == ("done", "1")
    assert entries["p2"].status == "rejected"
    assert entries["p2"].before_image == {"Last_Name": "X"}  # kept for rollback
    with JournalReader(tmp_path) as reader:
        assert reader.sql("SELECT module, source_key, code, field FROM load_rejects") == [
            ("Contacts", "p2", "INVALID_DATA", "Email")]
    assert crosswalk(tmp_path, "Contacts", ["run1"]) == {"p1": "1"}


def test_a_second_intent_keeps_the_first_before_image(tmp_path):
    with JournalSegment(tmp_path, "run1", "Contacts") as seg:
        seg.intent([{"source_key": "p", "operation": "update", "zoho_id": "9", "before_image": {"A": 1}}], "record", "b1")
        seg.intent([{"source_key": "p", "operation": "update", "zoho_id": "9", "before_image": {"A": 2}}], "record", "b2")
        entry = seg.entries()["p"]
    assert entry.before_image == {"A": 1} and entry.attempts == 2 and entry.batch_id == "b2"


def test_parallel_processes_write_their_own_segments(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_write_module, args=(tmp_path, m, 50)) for m in ("Events", "Insurance", "Tasks")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    with JournalReader(tmp_path) as reader:
        assert reader.sql("SELECT module, count(*) FILTER (status = 'done') FROM load_journal GROUP BY 1 ORDER BY 1") == [
            ("Events", 50), ("Insurance", 50), ("Tasks", 50)]


def test_audit_log_keeps_no_query_string_and_publish_copies_a_run(tmp_path):
    root = tmp_path / "journal"
    _write_module(root, "Accounts", 3)
    audit = AuditLog(root, "run1")
    audit(CallEvent("GET", "/crm/v8/Contacts/search?criteria=(Email:equals:someone@example.org)", "Contacts", 0, 1,
                    200, 0.01, "ok"))
    audit.close()
    warehouse = tmp_path / "warehouse.duckdb"
    assert publish(root, warehouse, "run1")["load_journal"] == 3
    assert publish(root, warehouse, "run1")["load_journal"] == 3  # replaces, never doubles
    con = duckdb.connect(str(warehouse))
    assert con.execute("SELECT count(*) FROM ops.load_journal").fetchone() == (3,)
    assert con.execute("SELECT path, credits FROM ops.audit_log").fetchall() == [("/crm/v8/Contacts/search", 1)]


def test_a_segment_left_without_tables_by_a_killed_process_reads_as_empty(tmp_path):
    _write_module(tmp_path, "Accounts", 3)
    duckdb.connect(str(tmp_path / "run1" / "Contacts.duckdb")).close()  # created, killed before its DDL
    with JournalReader(tmp_path) as reader:
        assert reader.sql("SELECT module, count(*) FROM load_journal GROUP BY 1") == [("Accounts", 3)]
    with JournalSegment(tmp_path, "run1", "Contacts") as seg:  # and the next writer sets it up
        assert seg.entries() == {}


def test_writes_queued_while_the_connection_is_busy_commit_together_and_a_bad_one_fails_alone(tmp_path):
    """Group commit: threads that find the segment busy wait in its queue; the next holder commits
    them in one transaction. Each caller returns once its own rows are in, with its own path and
    batch id; a write that cannot apply raises in its caller only, the others still land."""
    import threading

    with JournalSegment(tmp_path, "run1", "Attachments") as seg:
        seg.intent([{"source_key": "k0", "operation": "insert"}], "upload", "a0")
        raised: dict[str, BaseException] = {}
        transactions: list[int] = []  # rows per transaction (each write here is of one row)
        one_transaction = seg._transaction

        def counted(statements):
            transactions.append(sum(len(rows) for _, rows in statements))
            return one_transaction(statements)

        seg._transaction = counted

        def upload(i: int) -> None:
            key = f"k{i}"
            seg.intent([{"source_key": key, "operation": "insert", "parent_id": f"p{i}"}],
                       "link" if i % 2 else "upload", f"a{i}")
            seg.sent([key])
            seg.done([{"source_key": key, "zoho_id": f"z{i}", "operation": "insert"}])

        def broken() -> None:
            try:
                seg._apply([{"source_key": "x"}], "INSERT INTO no_such_table SELECT source_key FROM _batch")
            except Exception as exc:  # noqa: BLE001 - the test keeps what reached the caller
                raised["broken"] = exc

        threads = [threading.Thread(target=upload, args=(i,)) for i in range(1, 9)]
        threads.append(threading.Thread(target=broken))
        with seg._lock:  # busy: every thread's first write queues behind this holder
            for thread in threads:
                thread.start()
            while True:
                with seg._queue_lock:
                    if len(seg._queued) == len(threads):
                        break
        for thread in threads:
            thread.join()
        rows = seg.sql("SELECT source_key, status, path, batch_id, parent_id, zoho_id FROM load_journal"
                       " WHERE source_key <> 'k0' ORDER BY source_key")
    assert "no_such_table" in str(raised["broken"])
    # the nine queued first writes went in one transaction; it failed on the bad one, so each was
    # retried alone
    assert transactions[:10] == [9] + [1] * 9
    assert rows == [(f"k{i}", "done", "link" if i % 2 else "upload", f"a{i}", f"p{i}", f"z{i}") for i in range(1, 9)]


def test_a_holder_interrupted_mid_commit_leaves_no_write_it_took_passing_for_committed(tmp_path, monkeypatch):
    """The writes a holder took from the queue are its to commit: interrupted, it marks each as
    failed (its caller raises) instead of leaving them for callers who would find nothing queued."""
    import pytest

    from clinic2zoho.loader.journal import _Write

    with JournalSegment(tmp_path, "run1", "Attachments") as seg:
        statement = ("INSERT INTO load_journal (run_id, module, source_key, status)"
                     " SELECT 'run1', 'A', source_key, 'intent' FROM _batch")
        writes = [_Write(statement, [{"source_key": "k1"}]), _Write(statement, [{"source_key": "k2"}])]

        def interrupted(statements):
            raise KeyboardInterrupt

        monkeypatch.setattr(seg, "_transaction", interrupted)
        with pytest.raises(KeyboardInterrupt):
            seg._commit(writes)
        monkeypatch.undo()
        assert all(w.committed and isinstance(w.error, KeyboardInterrupt) for w in writes)
        assert seg.sql("SELECT count(*) FROM load_journal")[0][0] == 0


def test_readers_sharing_a_database_each_read_their_own_runs_and_leave_nothing_attached(tmp_path):
    """Readers opened inside shared_reading() share one in-memory database (starting one per
    reader cost more than the reads): each keeps its own views and files, closing it detaches its
    files, and the database is let go with the block."""
    from clinic2zoho.loader import journal

    for run, keys in (("run1", ["a"]), ("run2", ["b", "c"])):
        with JournalSegment(tmp_path, run, "Contacts") as seg:
            seg.intent([{"source_key": k, "operation": "insert"} for k in keys], "record", "b1")
    with journal.shared_reading():
        first, second = JournalReader(tmp_path, runs=["run1"]), JournalReader(tmp_path, runs=["run2"])
        with first, second:
            assert first.sql("SELECT source_key FROM load_journal") == [("a",)]
            assert sorted(second.sql("SELECT source_key FROM load_journal")) == [("b",), ("c",)]
            with JournalReader(tmp_path, runs=[]) as none:  # no run: empty views, still its own
                assert none.sql("SELECT count(*) FROM load_journal") == [(0,)]
            assert first.sql("SELECT count(*) FROM load_journal") == [(1,)]
            # one database: the in-memory one and both readers' files
            assert first.sql("SELECT count(*) FROM duckdb_databases() WHERE NOT internal") == [(3,)]
        (tmp_path / "run2" / "Broken.duckdb").write_bytes(b"not a database")
        with pytest.raises(duckdb.Error):  # a reader failing at a file leaves none it attached before
            JournalReader(tmp_path, runs=["run1", "run2"])
        with JournalReader(tmp_path, runs=[]) as after:
            assert after.sql("SELECT database_name FROM duckdb_databases() WHERE NOT internal") == [("memory",)]
    assert journal._shared_database is None
