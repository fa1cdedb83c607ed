"""What must hold before a work folder is purged: no load midway (its in-flight rows need their
labels and the warehouse to resume or roll back), no delta window open (it reads the export's
landed rows), and a confirmed cutover when the journal holds before-images (they are what a
rollback restores updated records from)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from clinic2zoho.loader.journal import JournalReader

IN_FLIGHT = "SELECT run_id, count(*) FROM load_journal WHERE status IN ('intent', 'sent') GROUP BY 1"
RESTORABLE = """
    SELECT j.run_id, count(*) FROM load_journal j
    LEFT JOIN rollback_journal r USING (run_id, module, source_key)
    WHERE j.status = 'done' AND j.operation = 'update' AND j.before_image IS NOT NULL
      AND (r.status IS NULL OR r.status <> 'done')
    GROUP BY 1"""


class PurgeRefused(RuntimeError):
    pass


@dataclass
class JournalState:
    in_flight: dict[str, int] = field(default_factory=dict)  # run -> rows between intent and outcome
    restorable: dict[str, int] = field(default_factory=dict)  # run -> updated records a rollback restores

    def add(self, in_flight: list[tuple], restorable: list[tuple]) -> None:
        for run_id, n in in_flight:
            self.in_flight[run_id] = max(self.in_flight.get(run_id, 0), n)
        for run_id, n in restorable:
            self.restorable[run_id] = max(self.restorable.get(run_id, 0), n)


def journal_state(journal_root: Path, warehouse: Path) -> JournalState:
    """From the journal's segments and from their copy in the warehouse (`ops`), whichever holds more."""
    state = JournalState()
    if journal_root.is_dir():
        with JournalReader(journal_root) as reader:
            state.add(reader.sql(IN_FLIGHT), reader.sql(RESTORABLE))
    if warehouse.is_file():
        con = _read(warehouse)
        try:
            tables = {r[0] for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'ops'").fetchall()}
            if "load_journal" in tables:
                con.execute("CREATE TEMP VIEW load_journal AS SELECT * FROM ops.load_journal")
                con.execute("CREATE TEMP VIEW rollback_journal AS SELECT * FROM "
                            + ("ops.rollback_journal" if "rollback_journal" in tables else
                               "(SELECT NULL::VARCHAR AS run_id, NULL::VARCHAR AS module, "
                               "NULL::VARCHAR AS source_key, NULL::VARCHAR AS status) WHERE false"))
                state.add(con.execute(IN_FLIGHT).fetchall(), con.execute(RESTORABLE).fetchall())
        finally:
            con.close()
    return state


def _read(warehouse: Path) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(warehouse), read_only=True)
    except duckdb.IOException:
        raise PurgeRefused(f"{warehouse} is in use by another process (Airflow, a load, a delta run): "
                           "stop it and purge again") from None


def check(journal_root: Path, warehouse: Path, after_cutover: bool) -> JournalState:
    state = journal_state(journal_root, warehouse)
    if state.in_flight:
        runs = ", ".join(f"{run} ({n} rows)" for run, n in sorted(state.in_flight.items()))
        raise PurgeRefused(f"a load stopped midway: {runs} between intent and outcome. Resume it (the same "
                           "command and run id) or roll it back, then purge")
    _check_delta_window(warehouse)
    if state.restorable and not after_cutover:
        total = sum(state.restorable.values())
        runs = ", ".join(f"{run} ({n})" for run, n in sorted(state.restorable.items()))
        raise PurgeRefused(
            f"after a purge, rollback will no longer be possible for the {total} record(s) the load updated "
            f"in Zoho ({runs}): their before-images are patient data and go with it (records the runs "
            "created can still be deleted by id). Give --after-cutover once the cutover is final")
    return state


def _check_delta_window(warehouse: Path) -> None:
    if not warehouse.is_file():
        return
    from clinic2zoho.delta.window import current_window

    _read(warehouse).close()  # a clear refusal when the file is in use
    window = current_window(warehouse)
    if window is not None and not window.expired():
        raise PurgeRefused(f"{window.describe()}: changes are still carried from the export into Zoho, "
                           "from the landed rows a purge removes. Purge once it has closed")
