"""The Workflow Rebuild Reference: workflows are not migrated; each one is listed with its trigger,
its actions and the Zoho construct to rebuild it with, from dbt's `workflow_rebuild_reference`
model. Written to `reports/workflow_rebuild.md` and `.html`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from clinic2zoho import settings as app_settings
from clinic2zoho.reports import html
from clinic2zoho.reports.run_context import ReportError

MODEL = "audit.workflow_rebuild_reference"


@dataclass
class WorkflowRebuild:
    workflows: list[dict]
    markdown_path: Path
    html_path: Path

    @property
    def unknown_constructs(self) -> int:
        return sum(int(w.get("unknown_constructs") or 0) for w in self.workflows)


def read_reference(warehouse: Path) -> list[dict]:
    if not warehouse.is_file():
        raise ReportError(f"{warehouse}: warehouse not found")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        try:
            cur = con.execute(f"SELECT * FROM {MODEL} ORDER BY is_active DESC, workflow_name, workflow_id")
        except duckdb.CatalogException:
            raise ReportError(f"{warehouse}: {MODEL} not found (run dbt build first)") from None
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]


def _md(value: object) -> str:
    return str(value if value is not None else "").replace("|", "\\|").replace("\n", " ")


def render_markdown(rows: list[dict]) -> str:
    active = sum(1 for r in rows if r.get("is_active"))
    unknown = sum(int(r.get("unknown_constructs") or 0) for r in rows)
    out = ["# Workflow Rebuild Reference", "",
           f"Workflows are not migrated: {len(rows)} workflow(s) ({active} active) to rebuild in Zoho CRM."
           + (f" {unknown} trigger(s)/action(s) have no known Zoho construct and must be rebuilt by hand." if unknown
              else ""), "",
           "| workflow | active | trigger | Zoho trigger | actions | Zoho constructs |",
           "| --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        trigger = f"{r.get('trigger_type')} on {r.get('trigger_entity')}"
        out.append(f"| {_md(r.get('workflow_name'))} ({_md(r.get('workflow_id'))}) | {'yes' if r.get('is_active') else 'no'}"
                   f" | {_md(trigger)} | {_md(r.get('zoho_trigger_construct'))} | {_md(r.get('actions'))}"
                   f" | {_md(r.get('action_constructs'))} |")
    for r in rows:
        out += ["", f"## {_md(r.get('workflow_name'))} ({_md(r.get('workflow_id'))})", "",
                f"- Active: {'yes' if r.get('is_active') else 'no'}",
                f"- Trigger: {_md(r.get('trigger_type'))} on {_md(r.get('trigger_entity'))}"
                + (f", when {_md(r.get('trigger_condition'))}" if r.get("trigger_condition") else ""),
                f"- Rebuild the trigger with: {_md(r.get('zoho_trigger_construct'))}",
                f"- Actions: {_md(r.get('action_constructs'))}",
                f"- Steps: {_md(r.get('rebuild_steps'))}"]
    return "\n".join(out) + "\n"


def render_html(rows: list[dict]) -> str:
    active = sum(1 for r in rows if r.get("is_active"))
    unknown = sum(int(r.get("unknown_constructs") or 0) for r in rows)
    summary = (f"<p>Workflows are not migrated: {len(rows)} workflow(s) ({active} active) to rebuild in Zoho CRM."
               + (f' <span class="warn">{unknown} trigger(s)/action(s) have no known Zoho construct: rebuild them'
                  " by hand.</span>" if unknown else "") + "</p>")
    table = html.table(
        ["workflow", "id", "active", "trigger", "condition", "Zoho trigger", "actions → Zoho constructs", "steps"],
        [[r.get("workflow_name"), r.get("workflow_id"), "yes" if r.get("is_active") else "no",
          f"{r.get('trigger_type')} on {r.get('trigger_entity')}", r.get("trigger_condition"),
          r.get("zoho_trigger_construct"), r.get("action_constructs"), r.get("rebuild_steps")] for r in rows],
        ["warn" if int(r.get("unknown_constructs") or 0) else "" for r in rows])
    return html.page("Workflow Rebuild Reference", summary, [("Workflows", table)])


def write_workflow_rebuild(warehouse: Path | None = None, reports_dir: Path | None = None) -> WorkflowRebuild:
    warehouse = Path(warehouse) if warehouse else app_settings.warehouse_path()
    rows = read_reference(warehouse)
    out = reports_dir or app_settings.reports_dir()
    out.mkdir(parents=True, exist_ok=True)
    md, page = out / "workflow_rebuild.md", out / "workflow_rebuild.html"
    md.write_text(render_markdown(rows), encoding="utf-8")
    page.write_text(render_html(rows), encoding="utf-8")
    return WorkflowRebuild(rows, md, page)
