"""Before any record moves: every field the org's layouts make mandatory is filled by the table
that loads the module. A field whose column is absent, or (a field the layout requires beyond
Zoho's system-mandatory ones) NULL in some rows, stops the load with the list per module; nothing
is invented here: a person supplies a confirmed rule or value in the mapping (`layout_mandatory:`
in dbt_project/mapping/<format>.yml, read by the zoho_* models through the seed
layout_mandatory_values), and the models are built again. A system-mandatory field (Last_Name)
present but empty in a row stays a per-row refusal (MANDATORY_NOT_FOUND, journaled as a reject
with its reason), as it was: the models' own tests guard those.

`layout_gaps(client, plan, source)` is the one check; the loader (CLI `load`, the DAGs' load
tasks, `migrate`, the delta) calls `require_layouts_filled` after claiming the org and before the
first write, and `clinic2zoho doctor` may list the gaps itself."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from clinic2zoho.loader import activity_links
from clinic2zoho.loader.plan import LoadPlan, ModuleSpec
from clinic2zoho.zoho.errors import ZohoTerminalError
from clinic2zoho.zoho.layouts import mandatory_fields

HOW_TO_FIX = ("supply a confirmed rule for each under `layout_mandatory:` in dbt_project/mapping/<format>.yml "
              "(module, field, value, confirmed_by, confirmed_at), run `clinic2zoho confirm --by NAME`, and build "
              "the models again (dbt build) so the tables carry it")


@dataclass(frozen=True)
class LayoutGap:
    """A layout-mandatory field the load would leave empty. `empty_rows`: rows holding NULL or ''
    (every row when the column is absent); `rows`: the table's rows (None: table not built)."""

    module: str
    field: str
    label: str
    table: str
    rows: int | None
    empty_rows: int | None
    column_absent: bool
    layouts: tuple[str, ...]

    def describe(self) -> str:
        if self.rows is None:
            where = f"table {self.table} not built"
        elif self.column_absent:
            where = f"no column in {self.table} ({self.rows} rows)"
        else:
            where = f"empty in {self.empty_rows} of {self.rows} rows of {self.table}"
        return f"{self.module}.{self.field} ({self.label}; layout {', '.join(self.layouts)}): {where}"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "layouts": list(self.layouts)}


class LayoutGapsFound(RuntimeError):
    """The load would leave layout-mandatory fields empty: nothing was sent."""

    def __init__(self, gaps: list[LayoutGap]):
        self.gaps = gaps
        by_module: dict[str, list[str]] = {}
        for gap in gaps:
            by_module.setdefault(gap.module, []).append(gap.describe())
        lines = [f"  {module}: " + "; ".join(items) for module, items in by_module.items()]
        super().__init__("the org's layouts make these fields mandatory and the mapping leaves them empty "
                         "(nothing was sent):\n" + "\n".join(lines) + "\n" + HOW_TO_FIX)


def _filled_by_loader(spec: ModuleSpec) -> set[str]:
    """Fields the loader sets from elsewhere than a same-named column: an activity's patient
    link (Who_Id / What_Id from the parent column) and the owner from the owner column."""
    filled: set[str] = set()
    if spec.parent_column and spec.kind == "record":
        filled |= {activity_links.WHO, activity_links.WHAT}
    if spec.owner_column:
        filled.add("Owner")
    return filled


def layout_gaps(client: Any, plan: LoadPlan, source: Any, modules: list[str] | None = None) -> list[LayoutGap]:
    """Per record module of `plan` (or of `modules`): the org's layout-mandatory fields that the
    table loading it leaves empty. `source` is a TableSource (or anything with `columns(spec)` and
    `empty_counts(spec, columns)`). One GET /settings/layouts per module."""
    gaps: list[LayoutGap] = []
    for spec in plan.specs:
        if spec.kind != "record" or (modules and spec.module not in modules):
            continue
        try:
            columns: set[str] | None = set(source.columns(spec))
        except Exception:  # the table is not built: every mandatory field is a gap to name
            columns = None
        if columns is not None and not source.count(spec):
            continue  # nothing to send (the module may not even exist in the org)
        try:
            required = [f for f in mandatory_fields(client, spec.module) if f.api_name not in _filled_by_loader(spec)]
        except ZohoTerminalError as exc:
            if exc.code == "INVALID_MODULE":
                continue  # not in the org yet: the module's own load says to prepare the schema
            raise
        if columns is None:
            gaps.extend(LayoutGap(spec.module, f.api_name, f.label, spec.table, None, None, True, f.layouts)
                        for f in required)
            continue
        present = [f.api_name for f in required if f.api_name in columns]
        counts = source.empty_counts(spec, present) if present else {"__rows__": source.count(spec)}
        rows = int(counts["__rows__"])
        for f in required:
            if f.api_name not in columns:
                gaps.append(LayoutGap(spec.module, f.api_name, f.label, spec.table, rows, rows, True, f.layouts))
            elif counts.get(f.api_name) and not f.system:
                gaps.append(LayoutGap(spec.module, f.api_name, f.label, spec.table, rows, int(counts[f.api_name]),
                                      False, f.layouts))
    return [g for g in gaps if g.rows is None or g.rows > 0 and (g.empty_rows or 0) > 0]


def require_layouts_filled(client: Any, plan: LoadPlan, source: Any, modules: list[str] | None = None) -> None:
    gaps = layout_gaps(client, plan, source, modules)
    if gaps:
        raise LayoutGapsFound(gaps)
