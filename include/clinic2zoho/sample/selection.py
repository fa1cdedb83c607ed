"""Choosing the patients of the sample migration and cutting the Zoho-shaped tables down to them.

100–300 patients (a share of the whole, clamped) chosen to represent the whole: stratified by
status, number of insurance plans, appointments, notes and documents — first one patient for
every value of every dimension that occurs, then the rest allocated to the strata in proportion
to their size (largest remainder). Within a stratum patients are taken in the order of a hash of
(seed, patient key), so a seed always gives the same sample.

The selection is written to `ops.sample_patients`, and filtered copies of the zoho_* tables to
schema `sample` (same table names, same columns), holding the sampled patients and every record
related to them. `SampleSelection.plan` is the load plan over those copies: the loader loads the
sample with no change (its TableSource reads whatever table each ModuleSpec names)."""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from math import floor
from pathlib import Path

import duckdb

from clinic2zoho import settings as app_settings
from clinic2zoho.loader.plan import LoadPlan, ModuleSpec, plan_from_manifest

PATIENT_MODULES = ("Contacts", "Leads")
DIMENSIONS = ("status", "insurance_plans", "appointments", "notes", "documents")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class SampleError(ValueError):
    pass


def _ident(name: str) -> str:
    if not _IDENT.match(name):
        raise SampleError(f"{name!r} is not a plain SQL identifier")
    return f'"{name}"'


def _table(name: str) -> str:
    return ".".join(_ident(p) for p in name.split("."))


def bucket(n: int, edges: tuple[int, ...]) -> str:
    """0 -> '0'; counts grouped by the upper edges, e.g. (2, 5) -> '1-2', '3-5', '6+'."""
    if n <= 0:
        return "0"
    low = 1
    for edge in edges:
        if n <= edge:
            return str(low) if low == edge else f"{low}-{edge}"
        low = edge + 1
    return f"{low}+"


BUCKETS = {"insurance_plans": (1,), "appointments": (2, 5), "notes": (1,), "documents": ()}


@dataclass
class Patient:
    key: str
    module: str
    status: str
    counts: dict[str, int]

    def stratum(self) -> tuple[str, ...]:
        return (self.status,) + tuple(bucket(self.counts[d], BUCKETS[d]) for d in DIMENSIONS[1:])


@dataclass
class SampleSelection:
    seed: int
    population: int
    patients: list[str]
    plan: LoadPlan
    schema: str
    tables: dict[str, int]  # module -> rows in the sample table
    shares: dict[str, dict[str, tuple[float, float]]] = field(default_factory=dict)  # dim -> value -> (whole, sample)
    strata: int = 0

    @property
    def size(self) -> int:
        return len(self.patients)


def _order(seed: int, key: str) -> str:
    return hashlib.sha256(f"{seed}:{key}".encode()).hexdigest()


def _patient_links(spec: ModuleSpec) -> list[str]:
    cols = [c for c, m in spec.lookups.items() if m in PATIENT_MODULES]
    # a parent in one of several modules (a Call on a Contact or a Lead) names a patient too
    if spec.parent_column and (spec.parent_module in PATIENT_MODULES or set(spec.parent_modules) & set(PATIENT_MODULES)):
        cols.append(spec.parent_column)
    return cols


def _population(con: duckdb.DuckDBPyConnection, plan: LoadPlan) -> list[Patient]:
    patients: dict[str, Patient] = {}
    for module in PATIENT_MODULES:
        if module not in plan.modules():
            continue
        spec = plan.spec(module)
        cols = {d[0] for d in con.execute(f"SELECT * FROM {_table(spec.table)} LIMIT 0").description}
        status = _ident("Patient_Status") if "Patient_Status" in cols else f"'{module}'"
        for key, st in con.execute(f"SELECT {_ident(spec.external_id)}, {status} FROM {_table(spec.table)}").fetchall():
            patients.setdefault(str(key), Patient(str(key), module, str(st or "(none)"), Counter()))
    groups = {"insurance_plans": ("Insurance",), "appointments": ("Events", "Tasks"), "notes": ("Notes",),
              "documents": ("Attachments",)}
    for dim, modules in groups.items():
        for module in modules:
            if module not in plan.modules():
                continue
            spec = plan.spec(module)
            links = _patient_links(spec)
            if not links:
                continue
            cols = {d[0] for d in con.execute(f"SELECT * FROM {_table(spec.table)} LIMIT 0").description}
            # a note split into parts is one note
            unit = f"count(DISTINCT {_ident('Source_Note_Id')})" if "Source_Note_Id" in cols else "count(*)"
            rows = con.execute(f"SELECT {_ident(links[0])}, {unit} FROM {_table(spec.table)} GROUP BY 1").fetchall()
            for key, n in rows:
                if key is not None and str(key) in patients:
                    patients[str(key)].counts[dim] += int(n)
    for p in patients.values():
        for dim in DIMENSIONS[1:]:
            p.counts.setdefault(dim, 0)
    return list(patients.values())


def _choose(population: list[Patient], n: int, seed: int) -> list[Patient]:
    ordered = sorted(population, key=lambda p: _order(seed, p.key))
    chosen: dict[str, Patient] = {}
    # 1. every value of every dimension that occurs is represented
    for d_index in range(len(DIMENSIONS)):
        seen = {p.stratum()[d_index] for p in chosen.values()}
        for p in ordered:
            if len(chosen) >= n:
                break
            value = p.stratum()[d_index]
            if value not in seen:
                chosen[p.key] = p
                seen.add(value)
    # 2. the rest in proportion to the strata (largest remainder), in hash order within each
    remaining = n - len(chosen)
    strata: dict[tuple, list[Patient]] = defaultdict(list)
    for p in ordered:
        if p.key not in chosen:
            strata[p.stratum()].append(p)
    pool = sum(len(v) for v in strata.values())
    if remaining > 0 and pool:
        quotas = {s: remaining * len(v) / pool for s, v in strata.items()}
        take = {s: floor(q) for s, q in quotas.items()}
        left = remaining - sum(take.values())
        for s in sorted(quotas, key=lambda s: (-(quotas[s] - take[s]), s))[:left]:
            take[s] += 1
        for s, members in strata.items():
            for p in members[:take[s]]:
                chosen[p.key] = p
    return sorted(chosen.values(), key=lambda p: p.key)


def _shares(population: list[Patient], sample: list[Patient]) -> dict[str, dict[str, tuple[float, float]]]:
    out: dict[str, dict[str, tuple[float, float]]] = {}
    for i, dim in enumerate(DIMENSIONS):
        whole = Counter(p.stratum()[i] for p in population)
        part = Counter(p.stratum()[i] for p in sample)
        out[dim] = {v: (whole[v] / len(population), part[v] / max(len(sample), 1)) for v in sorted(whole)}
    return out


def sample_size(population: int, share: float, minimum: int, maximum: int) -> int:
    return min(population, max(minimum, min(maximum, round(share * population))))


def select_sample(warehouse: Path | str | None = None, *, plan: LoadPlan | None = None, manifest: Path | None = None,
                  size: int | None = None, share: float = 0.05, minimum: int = 100, maximum: int = 300,
                  seed: int = 0, schema: str = "sample") -> SampleSelection:
    """Choose the sample and write `ops.sample_patients` and `<schema>.zoho_*` into the warehouse
    (one writer: run it when no other process writes the file)."""
    warehouse = Path(warehouse) if warehouse else app_settings.warehouse_path()
    if plan is None:
        from clinic2zoho.reports.run_context import default_manifest

        plan = plan_from_manifest(manifest or default_manifest(warehouse))
    _ident(schema)
    con = duckdb.connect(str(warehouse))
    try:
        population = _population(con, plan)
        if not population:
            raise SampleError("no patients in the Contacts or Leads tables: nothing to sample")
        n = size if size is not None else sample_size(len(population), share, minimum, maximum)
        if n <= 0:
            raise SampleError(f"sample size must be positive, got {n}")
        chosen = _choose(population, min(n, len(population)), seed)
        tables = _write(con, plan, chosen, seed, schema)
    finally:
        con.close()
    sample_plan = LoadPlan(tuple(replace(s, table=f"{schema}.{s.table.rpartition('.')[2]}") for s in plan.specs))
    return SampleSelection(seed, len(population), [p.key for p in chosen], sample_plan, schema, tables,
                           _shares(population, chosen), len({p.stratum() for p in population}))


def _write(con: duckdb.DuckDBPyConnection, plan: LoadPlan, chosen: list[Patient], seed: int,
           schema: str) -> dict[str, int]:
    now = datetime.now(timezone.utc)
    con.execute("BEGIN")
    try:
        con.execute("CREATE SCHEMA IF NOT EXISTS ops")
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {_ident(schema)}")
        con.execute("""CREATE OR REPLACE TABLE ops.sample_patients (
            Clinic_Patient_Id VARCHAR PRIMARY KEY, zoho_module VARCHAR, seed BIGINT, status VARCHAR,
            insurance_plans INTEGER, appointments INTEGER, notes INTEGER, documents INTEGER, stratum VARCHAR,
            selected_at TIMESTAMPTZ)""")
        con.executemany("INSERT INTO ops.sample_patients VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            [p.key, p.module, seed, p.status, p.counts["insurance_plans"], p.counts["appointments"],
             p.counts["notes"], p.counts["documents"], " | ".join(p.stratum()), now] for p in chosen])
        sampled = "(SELECT Clinic_Patient_Id FROM ops.sample_patients)"
        tables: dict[str, int] = {}
        written: dict[str, str] = {}
        # patient tables and the records hanging off a patient first; then what they point at
        linked = [s for s in plan.specs if s.module in PATIENT_MODULES or _patient_links(s)]
        upstream = [s for s in plan.specs if s not in linked]
        for spec in linked:
            cols = [spec.external_id] if spec.module in PATIENT_MODULES else _patient_links(spec)
            where = " OR ".join(f"{_ident(c)} IN {sampled}" for c in cols)
            written[spec.module] = _copy(con, spec, schema, where)
        for spec in upstream:
            refs = [(s, c) for s in linked for c, m in s.lookups.items() if m == spec.module]
            if refs and spec.external_id:
                union = " UNION ".join(f"SELECT {_ident(c)} FROM {written[s.module]}" for s, c in refs)
                written[spec.module] = _copy(con, spec, schema, f"{_ident(spec.external_id)} IN ({union})")
            else:
                written[spec.module] = _copy(con, spec, schema, "true")
        for module, table in written.items():
            tables[module] = int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return tables


def _copy(con: duckdb.DuckDBPyConnection, spec: ModuleSpec, schema: str, where: str) -> str:
    name = spec.table.rpartition(".")[2]
    target = f"{_ident(schema)}.{_ident(name)}"
    con.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM {_table(spec.table)} WHERE {where}")
    return target
