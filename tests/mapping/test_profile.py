"""Column profiles of landed tables (mapping.profile), checked against tables whose counts, types and
value lists are known by construction: export headers that clash with SQL words or hold quotes,
empty strings, whole-record columns, light profiles and empty tables."""

from __future__ import annotations

import duckdb
import pytest

from clinic2zoho.mapping.profile import profile_table

ODD_HEADER = 'it\'s "x"'


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("create schema raw")
    # six patients: `status` active x4, inactive x2; `email` four addresses, one blank, one missing;
    # `v`, `col` and `it's "x"` are headers an export may carry; `resource` holds whole records
    quoted = '"' + ODD_HEADER.replace('"', '""') + '"'
    con.execute("""create table raw.generic__patients as select * from (values
        ('P1', 'active',   'a@clinic.org', '12', 'x',  '2024-01-02', 'one',   '7'),
        ('P2', 'active',   'b@clinic.org', '7',  'y',  '2024-02-03', 'two',   '8'),
        ('P3', 'active',   ' ',            '-3', 'x',  '2024-03-04', 'three', '9'),
        ('P4', 'inactive', null,           '40', 'x',  '2024-04-05', null,    '10'),
        ('P5', 'active',   'c@clinic.org', '5',  null, '2024-05-06', 'five',  '11'),
        ('P6', 'inactive', 'd@clinic.org', '6',  'y',  '2024-06-07', 'six',   '12')
        ) t(patient_id, status, email, v, col, """ + quoted + """, notes, resource)""")
    con.execute("create table raw.generic__claims (claim_id varchar, amount varchar)")
    return con


def test_each_column_is_counted_typed_and_its_values_listed(con):
    profile = profile_table(con, "generic__patients", "generic")
    assert profile.rows == 6
    got = {c.name: (c.non_null, c.distinct, c.max_length, c.inferred_type) for c in profile.columns}
    assert got == {
        "patient_id": (6, 6, 2, "text"),
        "status": (6, 2, 8, "text"),
        "email": (4, 4, 12, "email"),  # the blank one counts as missing
        "v": (6, 6, 2, "integer"),
        "col": (5, 2, 1, "text"),
        ODD_HEADER: (6, 6, 10, "date"),
        "notes": (5, 5, 5, "text"),
        "resource": (6, 6, 2, "text"),  # a whole record is never typed, whatever it holds
    }
    status = profile.column("status")
    assert status.values == [("active", 4), ("inactive", 2)] and status.is_categorical
    assert profile.column("col").values == [("x", 3), ("y", 2)]


def test_a_light_profile_counts_without_typing_or_listing(con):
    profile = profile_table(con, "generic__patients", "generic", light=True)
    got = {c.name: (c.non_null, c.inferred_type, c.values) for c in profile.columns}
    assert got["email"] == (4, "text", []) and got["v"] == (6, "text", []) and got["status"] == (6, "text", [])


def test_an_empty_table_has_empty_columns(con):
    profile = profile_table(con, "generic__claims", "generic")
    assert profile.rows == 0
    assert [(c.name, c.non_null, c.inferred_type) for c in profile.columns] == [("claim_id", 0, "empty"),
                                                                                ("amount", 0, "empty")]


def test_a_proposal_reads_columns_whose_names_its_queries_use_as_aliases(con):
    """The proposer's value queries name their own columns v and n; an export's `v` column is read
    as a column of its own, not taken for them."""
    from clinic2zoho.mapping.catalogue import load_catalogue
    from clinic2zoho.mapping.propose import Proposer

    mapping = Proposer(con, "generic", load_catalogue(None)).propose()
    [patients] = [e for e in mapping["entities"] if e["entity"] == "patients"]
    assert {"v", "col", ODD_HEADER, "status"} <= {f["column"] for f in patients["fields"]}
