"""Rewrite a DuckDB file keeping only some tables, with some of their columns emptied.

DROP TABLE and UPDATE leave the old values in the file's free blocks until DuckDB reuses them:
the kept rows are copied into a new file, which then replaces the old one (and its WAL)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import duckdb


class FileInUse(RuntimeError):
    pass


@dataclass
class Rewrite:
    path: Path
    kept: dict[str, int] = field(default_factory=dict)  # "schema.table" -> rows
    emptied: dict[str, tuple[str, ...]] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)  # tables and views


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def rewrite(path: Path, keep: dict[str, tuple[str, ...]]) -> Rewrite:
    """`keep`: "schema.table" -> the columns to empty. Tables keep their own DDL (keys and checks:
    a journal segment stays writable, e.g. by a later rollback of the records a run created)."""
    fresh = path.with_name(path.name + ".purging")
    fresh.unlink(missing_ok=True)
    result = Rewrite(path)
    con = duckdb.connect(str(fresh))
    try:
        try:
            con.execute(f"ATTACH '{str(path).replace(chr(39), chr(39) * 2)}' AS old (READ_ONLY)")
        except duckdb.IOException as exc:
            raise FileInUse(f"{path} is in use by another process (Airflow, a load, a server): stop it "
                            f"and purge again ({str(exc).splitlines()[0][:200]})") from None
        tables = con.execute("SELECT schema_name, table_name, sql FROM duckdb_tables()"
                             " WHERE database_name = 'old' ORDER BY 1, 2").fetchall()
        views = con.execute("SELECT schema_name || '.' || view_name FROM duckdb_views()"
                            " WHERE database_name = 'old' AND NOT internal ORDER BY 1").fetchall()
        result.dropped += [v[0] for v in views]
        for schema, table, ddl in tables:
            name = f"{schema}.{table}"
            if name not in keep:
                result.dropped.append(name)
                continue
            columns = con.execute("SELECT column_name, is_nullable FROM duckdb_columns() WHERE database_name = 'old'"
                                  " AND schema_name = ? AND table_name = ? ORDER BY column_index",
                                  [schema, table]).fetchall()
            if schema != "main":
                con.execute(f"CREATE SCHEMA IF NOT EXISTS {_q(schema)}")
            con.execute(ddl)
            emptied = tuple(c for c, _ in columns if c in keep[name])
            select = ", ".join((("NULL" if nullable else "''") + f" AS {_q(c)}") if c in emptied else _q(c)
                               for c, nullable in columns)
            con.execute(f"INSERT INTO {_q(schema)}.{_q(table)} BY NAME SELECT {select} "
                        f"FROM old.{_q(schema)}.{_q(table)}")
            result.kept[name] = con.execute(f"SELECT count(*) FROM {_q(schema)}.{_q(table)}").fetchone()[0]
            if emptied:
                result.emptied[name] = emptied
        con.execute("DETACH old")
        con.execute("CHECKPOINT")
    except BaseException:
        con.close()
        fresh.unlink(missing_ok=True)
        raise
    con.close()
    os.replace(fresh, path)
    path.with_name(path.name + ".wal").unlink(missing_ok=True)
    return result
