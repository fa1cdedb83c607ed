"""Control totals over a sample migrated into the local Zoho server through the real pipeline:
billed, paid and balance per payer and month, visits per month and outcome, computed from the
landed clinic model and read back from the org, agree; an amount changed in Zoho after the load
is caught and fails validation."""

from __future__ import annotations

import json
from decimal import Decimal

import duckdb
import pytest

from clinic2zoho.reports import control_totals, validate_run
from clinic2zoho.reports.duplicates import OrgLists
from clinic2zoho.reports.run_context import RunContext
from tests.reports.scenario import reports_scenario  # noqa: F401  (session fixture)

pytestmark = pytest.mark.xdist_group("reports")


def _totals(s, client):
    ctx = RunContext.open(s.run_id, s.warehouse, s.journal, s.manifest)
    return control_totals.compute(ctx, OrgLists(client))


def test_source_and_zoho_totals_agree_after_a_clean_load(reports_scenario):
    s = reports_scenario
    with s.client() as client:
        totals = _totals(s, client)
    assert totals.differences == [] and totals.problems() == []
    # every loaded claim and visit is summed on both sides
    with duckdb.connect(str(s.warehouse), read_only=True) as con:
        done = dict(con.execute("SELECT module, count(*) FROM ops.load_journal WHERE run_id = ? AND status = 'done'"
                                " GROUP BY 1", [s.run_id]).fetchall())
        billed = con.execute(
            "SELECT sum(c.amount_billed) FROM intermediate.int_claims c JOIN ops.load_journal j"
            " ON j.source_key = c.claim_id AND j.module = 'Billing_History' AND j.run_id = ? AND j.status = 'done'",
            [s.run_id]).fetchone()[0]
    for module in ("Billing_History", "Events", "Tasks"):
        assert done[module] > 0
        assert totals.records[module] == {"source": done[module], "zoho": done[module]}
    assert sum(t.zoho for t in totals.totals if t.measure == "billed") == Decimal(billed).quantize(Decimal("0.01"))
    assert sum(t.zoho for t in totals.totals if t.measure == "visits") == done["Events"] + done["Tasks"]
    payers = {t.group[0] for t in totals.totals if t.measure == "billed"}
    outcomes = {t.group[1] for t in totals.totals if t.measure == "visits"}
    assert len(payers) > 1 and len(outcomes) > 1  # grouped, not one grand total


def test_an_amount_changed_in_zoho_is_caught_and_fails_validation(reports_scenario, tmp_path):
    s = reports_scenario
    with duckdb.connect(str(s.warehouse), read_only=True) as con:
        claim, zoho_id, payer, month, amount = con.execute(
            "SELECT c.claim_id, j.zoho_id, c.payer_name, strftime(c.service_date, '%Y-%m'), c.amount_billed"
            " FROM intermediate.int_claims c JOIN ops.load_journal j ON j.source_key = c.claim_id"
            " AND j.module = 'Billing_History' AND j.run_id = ? AND j.status = 'done'"
            " WHERE c.payer_name IS NOT NULL AND c.amount_billed > 0 ORDER BY c.claim_id LIMIT 1",
            [s.run_id]).fetchone()
    with s.client() as client:
        client.update("Billing_History", [{"id": zoho_id, "Amount": float(amount) + 100}])
        try:
            totals = _totals(s, client)
            result = validate_run(s.run_id, client, warehouse=s.warehouse, journal_root=s.journal,
                                  manifest=s.manifest, reports_dir=tmp_path, seed=1)
        finally:
            client.update("Billing_History", [{"id": zoho_id, "Amount": float(amount)}])
    assert [(t.measure, t.group, t.difference) for t in totals.differences] == [
        ("billed", (payer, month), Decimal("100.00"))]
    assert not result.ok
    problem = next(p for p in result.problems if p.startswith("control totals"))
    assert f"billed {payer} {month}" in problem and claim not in problem
    report = json.loads((tmp_path / "reconciliation.json").read_text())
    assert report["summary"]["control_totals"]["differ"] == 1
    page = (tmp_path / "reconciliation.html").read_text()
    assert "Control totals" in page
    with s.client() as client:
        assert _totals(s, client).differences == []  # put back: the shared scenario stays clean
