"""`POST /crm/v8/coql`: a parsed COQL query (coql.py) checked against the module's fields and run
over the stored records. Sources as in coql.py (coql.json; Zoho's v8 COQL-Overview and
COQL-Limitations pages); points they leave open are marked *unverified*."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable

from . import coql, scopes
from .coql import CoqlError, Condition
from .http import ApiError, jresp

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from .app import ZohoServer

NUMERIC = frozenset({"integer", "bigint", "double", "decimal", "currency", "percent", "autonumber_int"})
USER_TYPES = frozenset({"ownerlookup", "userlookup"})
USER_KEYS = {"id": "id", "email": "email", "full_name": "full_name", "name": "full_name", "first_name": "first_name",
             "last_name": "last_name"}
TEXTUAL = frozenset({"text", "email", "phone", "website", "picklist", "multiselectpicklist", "autonumber"})


def invalid_column(name: str, clause: str) -> CoqlError:
    return CoqlError("INVALID_QUERY", "column given seems to be invalid", {"column_name": name, "clause": clause})


def invalid_value(name: str, op: str, dtype: str) -> CoqlError:
    return CoqlError("INVALID_QUERY", "value given seems to be invalid for the column",
                     {"column_name": name, "operator": op, "data_type": dtype})


def _instant(text: Any) -> float | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


class Columns:
    """Column names of one module resolved to getters over a stored record and their data types."""

    def __init__(self, server: "ZohoServer", module: str) -> None:
        self.store = server.store
        self.module = module
        self.specs = server.store.specs[module]

    def spec_name(self, name: str) -> str | None:
        if name in self.specs:
            return name
        return next((s for s in self.specs if s.lower() == name.lower()), None)

    def resolve(self, column: str, clause: str) -> tuple[str, Callable[[dict[str, Any]], Any]]:
        """(data type, getter) of `column`: a field, `id`, or `lookup.field` (`Owner.id`,
        `Account_Name.id`, `Account_Name.Account_Name`: a lookup's target read through it)."""
        base, _, sub = column.partition(".")
        if base.lower() == "id" and not sub:
            return "id", lambda rec: rec.get("id")
        name = self.spec_name(base)
        if name is None:
            raise invalid_column(column, clause)
        spec = self.specs[name]
        if not sub:
            return spec.data_type, lambda rec: rec.get(name)
        if spec.data_type in USER_TYPES:
            key = USER_KEYS.get(sub.lower())
            if key is None:
                raise invalid_column(column, clause)
            users = self.store.users_by_id

            def user_get(rec: dict[str, Any]) -> Any:
                ref = rec.get(name)
                if not isinstance(ref, dict):
                    return None
                return ref.get("id") if key == "id" else (users.get(ref.get("id"), {}) or {}).get(key)
            return ("id" if key == "id" else "text"), user_get
        if spec.data_type in ("lookup", "multimodulelookup"):
            if sub.lower() == "id":
                return "id", lambda rec: (rec.get(name) or {}).get("id") if isinstance(rec.get(name), dict) else None
            target = spec.lookup_module
            if spec.data_type != "lookup" or not target:
                raise invalid_column(column, clause)
            target_specs = self.store.specs.get(target, {})
            target_name = sub if sub in target_specs else next((s for s in target_specs if s.lower() == sub.lower()), None)
            if target_name is None:
                raise invalid_column(column, clause)
            table = self.store.records.get(target, {})

            def lookup_get(rec: dict[str, Any]) -> Any:
                ref = rec.get(name)
                row = table.get(ref.get("id")) if isinstance(ref, dict) else None
                return row.get(target_name) if row else None
            return target_specs[target_name].data_type, lookup_get
        raise invalid_column(column, clause)


def comparable(dtype: str, value: Any) -> Any:
    """A stored value in the form criteria compare: numbers as numbers, datetimes as instants,
    lookups by id, booleans as booleans, the rest as text."""
    if value is None or value == "":
        return None
    if isinstance(value, dict):
        return str(value.get("id")) if value.get("id") is not None else None
    if isinstance(value, list):
        return value
    if dtype in NUMERIC:
        try:
            return float(value)
        except (TypeError, ValueError):
            return None
    if dtype == "datetime":
        return _instant(value)
    if dtype == "boolean":
        return bool(value)
    return str(value)


def criterion_value(cond: Condition, dtype: str, raw: Any) -> Any:
    """A literal of the query in the compared form; a literal of the wrong kind for the column is
    INVALID_QUERY (coql.json's "value given seems to be invalid for the column")."""
    bad = invalid_value(cond.column, cond.op, dtype)
    if dtype in NUMERIC:
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            raise bad
        return float(raw)
    if dtype == "boolean":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.lower() in ("true", "false"):
            return raw.lower() == "true"
        raise bad
    if dtype == "datetime":
        instant = _instant(raw)
        if instant is None or not (raw.endswith("Z") or raw[-6] in "+-"):
            raise bad
        return instant
    if dtype == "date":
        if not isinstance(raw, str) or len(raw) != 10:
            raise bad
        return raw
    if dtype in ("id", "lookup", "ownerlookup", "userlookup", "multimodulelookup"):
        if isinstance(raw, bool) or not isinstance(raw, (str, int)) or not str(raw).isdigit():
            raise bad
        return str(raw)
    if not isinstance(raw, str):
        raise bad  # *unverified*: a number against a text column is refused (quote it)
    return raw


def plan(server: "ZohoServer", text: str) -> tuple[str, list[tuple[str, Callable[[dict[str, Any]], Any], str]],
                                                  Callable[[dict[str, Any]], bool], list, coql.Query]:
    settings = server.store.settings
    query, criteria = coql.parse(text, bool(settings["coql_where_required"]))
    if len(query.columns) > coql.MAX_COLUMNS:
        raise CoqlError("LIMIT_EXCEEDED", "limit exceeded", {"clause": "select", "limit": coql.MAX_COLUMNS})
    if criteria > coql.MAX_CRITERIA:
        raise CoqlError("LIMIT_EXCEEDED", "limit exceeded", {"clause": "where", "limit": coql.MAX_CRITERIA})
    if query.limit < 1 or query.limit > coql.MAX_LIMIT:
        raise CoqlError("LIMIT_EXCEEDED", "limit exceeded", {"by": "limit", "limit": coql.MAX_LIMIT})
    if query.offset + query.limit > coql.MAX_REACH:
        raise CoqlError("LIMIT_EXCEEDED", "limit exceeded", {"by": "offset", "limit": coql.MAX_REACH})
    if len(query.order_by) > coql.MAX_ORDER_BY:
        raise CoqlError("LIMIT_EXCEEDED", "limit exceeded", {"clause": "order by", "limit": coql.MAX_ORDER_BY})
    seen: set[str] = set()
    for col, _ in query.order_by:
        if col.lower() in seen:
            raise CoqlError("DUPLICATE_DATA", "duplicate data", {"clause": "order by", "column_name": col})
        seen.add(col.lower())
    module = next((m for m in server.store.modules if m.lower() == query.module.lower()), None)
    if module is None:
        # *unverified*: the code Zoho answers for an unknown module in FROM
        raise CoqlError("INVALID_QUERY", "invalid query formed", {"module": query.module, "reason": "invalid module"})
    cols = Columns(server, module)
    selected = []
    for name in query.columns:
        dtype, getter = cols.resolve(name, "select")
        selected.append((name, getter, dtype))
    case_sensitive = bool(settings["coql_case_sensitive"])
    compiled: list[tuple[Condition, Callable[[dict[str, Any]], Any]]] = []
    for cond in coql.conditions(query.where):
        dtype, getter = cols.resolve(cond.column, "where")
        if dtype in coql.NOT_IN_CRITERIA:
            raise CoqlError("INVALID_QUERY", "data type not supported", {"column_name": cond.column, "data_type": dtype})
        if cond.op in ("like", "not like") and dtype not in TEXTUAL:
            raise CoqlError("INVALID_QUERY", "invalid query formed", {"column_name": cond.column, "operator": cond.op,
                                                                       "data_type": dtype})
        if cond.op not in ("like", "not like"):
            cond.values = [criterion_value(cond, dtype, v) for v in cond.values]
        compiled.append((cond, lambda rec, g=getter, d=dtype: comparable(d, g(rec))))
    getters = {cond.column: g for cond, g in compiled}

    def keep(rec: dict[str, Any]) -> bool:
        return coql.matches(query.where, _Reader(rec, getters), case_sensitive)

    order = [(*cols.resolve(c, "order by"), desc) for c, desc in query.order_by]
    return module, selected, keep, order, query


class _Reader:
    """The getter coql.matches calls, bound to one record: a column's compared value."""

    def __init__(self, rec: dict[str, Any], getters: dict[str, Callable[[dict[str, Any]], Any]]) -> None:
        self.rec, self.getters = rec, getters

    def __call__(self, column: str) -> Any:
        return self.getters[column](self.rec)


def run(server: "ZohoServer", text: str) -> tuple[list[dict[str, Any]], bool, int]:
    """(rows of the page, more_records, credits)."""
    module, selected, keep, order, query = plan(server, text)
    rows = [r for r in server.store.records[module].values() if keep(r)]
    rows.sort(key=lambda r: int(r["id"]))  # Zoho's default: ascending id
    for dtype, getter, desc in reversed(order):
        rows.sort(key=lambda r, g=getter, d=dtype: coql.sort_key(comparable(d, g(r))), reverse=desc)
    page = rows[query.offset:query.offset + query.limit]
    out = []
    for rec in page:
        item: dict[str, Any] = {}
        for name, getter, _dtype in selected:
            value = getter(rec)
            item[name] = {"id": value["id"]} if isinstance(value, dict) and "id" in value else value
        item["id"] = rec["id"]
        out.append(item)
    more = query.offset + query.limit < len(rows)
    return out, more, coql.credits_for(query.limit)


async def coql_endpoint(server: "ZohoServer", request: "Request") -> "Response":

    body = await server.body_json(request)
    text = body.get("select_query") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text.strip():
        raise ApiError(400, "MANDATORY_NOT_FOUND", "required field not found", {"api_name": "select_query"})
    try:
        parsed, _ = coql.parse(text, bool(server.store.settings["coql_where_required"]))
        cost = coql.credits_for(parsed.limit) if 1 <= parsed.limit <= coql.MAX_LIMIT else 1
    except CoqlError:
        parsed, cost = None, 1
    if parsed is not None:  # COQL page: ZohoCRM.coql.READ (checked on the path) and the module's READ
        server.require_scopes([scopes.module_scope(parsed.module, "READ", server.is_custom_module)])
    await server.guard(request, "coql", cost)
    server.commit()
    try:
        rows, more, _ = run(server, text)
    except CoqlError as err:
        raise ApiError(400, err.code, err.message, err.details) from None
    if not rows:
        return jresp(None, 204, headers=server.credit_headers())
    return jresp({"data": rows, "info": {"count": len(rows), "more_records": more}}, headers=server.credit_headers())
