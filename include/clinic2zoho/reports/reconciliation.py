"""Counts that must add up, from the dbt audit models and the load journal.

Two stages, each checked:
- source entity (dbt `audit.row_conservation`): staged = mapped + excluded by a named rule;
- Zoho module: the records mapped to it = the rows of its table (`audit.zoho_table_counts`), and
  the rows of the table the run loaded = loaded + rejected (with reasons) + skipped by a rule,
  with nothing left pending. A document over the attachment limit loads as a link to where the
  clinic keeps it: counted loaded, and apart as `linked`."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

import duckdb

from clinic2zoho.reports.run_context import RunContext

_NAME = re.compile(r"^[a-z0-9_]+$")


@dataclass
class SourceCount:
    source_format: str
    staging_model: str
    clinic_model: str
    landed_rows: int | None  # rows in raw (every landed version)
    landing_rejects: int | None
    staged_rows: int
    mapped_rows: int
    excluded_rows: int
    exclusions: dict[str, int]
    unaccounted_rows: int

    @property
    def adds_up(self) -> bool:
        return self.unaccounted_rows == 0

    def to_dict(self) -> dict:
        return dict(asdict(self), adds_up=self.adds_up)


@dataclass
class ModuleCount:
    module: str
    table: str
    clinic_model: str | None
    mapped_records: int | None  # what dbt maps to this module (None: table outside schema zoho)
    table_rows: int
    loaded: int
    rejected: int
    skipped: int
    pending: int
    inserted: int
    updated: int
    reject_reasons: list[dict] = field(default_factory=list)  # code, field, n, example message
    linked: int = 0  # of `loaded`: documents attached as a link (over the attachment limit), not uploaded
    skip_rules: list[dict] = field(default_factory=list)
    unchanged: int = 0  # notes and attachments already in Zoho from an earlier run: nothing sent

    @property
    def unaccounted(self) -> int:
        return self.table_rows - self.loaded - self.rejected - self.skipped

    @property
    def adds_up(self) -> bool:
        mapped_ok = self.mapped_records is None or self.mapped_records == self.dbt_records
        return self.unaccounted == 0 and self.pending == 0 and mapped_ok

    dbt_records: int | None = None  # zoho_table_counts.zoho_records (notes: distinct source notes)

    def to_dict(self) -> dict:
        return dict(asdict(self), unaccounted=self.unaccounted, adds_up=self.adds_up)


def _rows(con: duckdb.DuckDBPyConnection, query: str, params: list | None = None) -> list[dict]:
    try:
        cur = con.execute(query, params or [])
    except duckdb.CatalogException:
        return []
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def source_counts(ctx: RunContext) -> list[SourceCount]:
    out: list[SourceCount] = []
    with duckdb.connect(str(ctx.warehouse), read_only=True) as con:
        rows = _rows(con, "SELECT * FROM audit.row_conservation WHERE staged_rows > 0 OR mapped_rows > 0"
                          " OR excluded_rows > 0 ORDER BY source_format, staging_model")
        loads = {(r["format"], r["entity"]): r for r in _rows(con, """
            SELECT b.format, f.entity, sum(f.rows_rejected) AS rejected
            FROM raw._file_loads f JOIN raw._batches b USING (batch_id) GROUP BY ALL""")}
        for r in rows:
            fmt, staging, clinic = r["source_format"], r["staging_model"], r["clinic_model"]
            entity = staging.split("__", 1)[1] if "__" in staging else staging
            landed = None
            if _NAME.match(entity) and _NAME.match(fmt):
                got = _rows(con, f"SELECT count(*) AS n FROM raw.{fmt}__{entity}")
                landed = int(got[0]["n"]) if got else None
            units = "transaction_rows" if staging.endswith("claims_transactions") else "source_rows"
            exclusions: dict[str, int] = {}
            if _NAME.match(clinic):
                for e in _rows(con, f"SELECT exclusion_rule AS rule, sum({units}) AS n FROM intermediate.{clinic}"
                                    " WHERE source_format = ? AND exclusion_rule IS NOT NULL GROUP BY 1 ORDER BY 1",
                               [fmt]):
                    exclusions[str(e["rule"])] = int(e["n"])
            if not exclusions and r["exclusion_rules"]:
                exclusions = {rule.strip(): 0 for rule in str(r["exclusion_rules"]).split(",")}
            rejected = loads.get((fmt, entity), {}).get("rejected")
            out.append(SourceCount(fmt, staging, clinic, landed, int(rejected) if rejected is not None else None,
                                   int(r["staged_rows"]), int(r["mapped_rows"]), int(r["excluded_rows"]), exclusions,
                                   int(r["unaccounted_rows"])))
    return out


def module_counts(ctx: RunContext) -> list[ModuleCount]:
    from clinic2zoho.loader import journal

    with duckdb.connect(str(ctx.warehouse), read_only=True) as con:
        dbt_counts = {r["zoho_model"]: r for r in _rows(con, "SELECT * FROM audit.zoho_table_counts")}
    with journal.JournalReader(ctx.journal_root, runs=[ctx.run_id]) as reader:
        status = {r["module"]: r for r in reader.dicts(
            """SELECT module, count(*) FILTER (status = 'done') AS loaded,
                      count(*) FILTER (status = 'rejected') AS rejected,
                      count(*) FILTER (status = 'skipped') AS skipped,
                      count(*) FILTER (status IN ('intent', 'sent')) AS pending,
                      count(*) FILTER (status = 'done' AND path = 'link') AS linked,
                      count(*) FILTER (status = 'done' AND operation = 'insert') AS inserted,
                      count(*) FILTER (status = 'done' AND operation = 'update') AS updated,
                      count(*) FILTER (status = 'done' AND operation = 'unchanged') AS unchanged
               FROM load_journal WHERE run_id = ? GROUP BY module""", [ctx.run_id])}
        reasons = reader.dicts(
            """SELECT module, status, coalesce(error_code, '') AS code, coalesce(error_field, '') AS field,
                      count(*) AS n, min(error) AS example
               FROM load_journal WHERE run_id = ? AND status IN ('rejected', 'skipped')
               GROUP BY ALL ORDER BY module, n DESC, code""", [ctx.run_id])
    out: list[ModuleCount] = []
    for module in ctx.plan.order():
        spec = ctx.plan.spec(module)
        schema, _, model = spec.table.rpartition(".")
        dbt = dbt_counts.get(model) if schema == "zoho" else None
        s = status.get(module, {})
        count = ModuleCount(
            module=module, table=spec.table, clinic_model=(dbt or {}).get("clinic_model"),
            mapped_records=int(dbt["mapped_records"]) if dbt else None,
            dbt_records=int(dbt["zoho_records"]) if dbt else None,
            table_rows=ctx.count_rows(spec),
            linked=int(s.get("linked", 0) or 0),
            **{k: int(s.get(k, 0) or 0) for k in ("loaded", "rejected", "skipped", "pending", "inserted", "updated",
                                                  "unchanged")})
        for r in reasons:
            if r["module"] != module:
                continue
            item = {"code": r["code"], "field": r["field"], "n": int(r["n"]), "example": r["example"] or ""}
            (count.reject_reasons if r["status"] == "rejected" else count.skip_rules).append(item)
        out.append(count)
    return out
