"""What Zoho already holds, read by key: COQL where it costs fewer calls, search or a module scan
where COQL is refused.

A COQL query takes 50 values in `in` (Zoho's COQL limitations page; the newest v7 page says 100,
the v8 page does not settle it: the stricter 50, facts.COQL_IN_VALUES) and costs 1 credit with
LIMIT up to 200 (facts.coql_credits): 100 keys cost 2 calls where searches of 10 criteria cost 10.
COQL needs the scope ZohoCRM.coql.READ and does not read every module or field type (Zoho's COQL
pages: no multi-select lookups, subforms or file fields; Notes only for administrators); when Zoho
refuses the query (INVALID_QUERY, SYNTAX_ERROR, LIMIT_EXCEEDED, OAUTH_SCOPE_MISMATCH, ...), the read
falls back to search for that module and the client remembers the refusal."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from typing import Any

from clinic2zoho.zoho import criteria as crit
from clinic2zoho.zoho import facts, reads
from clinic2zoho.zoho.errors import ZohoTerminalError

log = logging.getLogger(__name__)

KEY_PAGE = facts.COQL_CREDIT_STEPS[0][0]  # rows a by-key query asks for: the largest LIMIT at 1 credit (50 match)
# Zoho's codes for a query it will not run: the read goes another way.
COQL_REFUSED = frozenset({"INVALID_QUERY", "SYNTAX_ERROR", "LIMIT_EXCEEDED", "OAUTH_SCOPE_MISMATCH", "NO_PERMISSION",
                          "INVALID_URL_PATTERN", "NOT_SUPPORTED", "FEATURE_NOT_SUPPORTED", "INVALID_MODULE"})
# Field types COQL cannot select (Zoho's COQL limitations): a scan reads them instead.
NOT_SELECTABLE = frozenset({"subform", "multiselectlookup", "fileupload", "imageupload", "participants",
                            "multi_module_lookup"})


def _refused(client: Any) -> set[str]:
    found = getattr(client, "_coql_refused", None)
    if found is None:
        found = set()
        try:
            client._coql_refused = found
        except AttributeError:
            pass
    return found


def _coql_rows(client: Any, module: str, field: str, chunk: list[str], select: Sequence[str]) -> list[dict[str, Any]]:
    columns = ", ".join(dict.fromkeys([field, *select]))
    query = f"select {columns} from {module} where {field} in ({', '.join(reads.quote(v) for v in chunk)})"
    return list(reads.coql(client, query, page_size=KEY_PAGE))


def find_by_keys(client: Any, module: str, field: str, keys: Iterable[Any],
                 select: Sequence[str] = ()) -> dict[str, dict[str, Any]]:
    """Records of `module` whose `field` holds one of `keys`, keyed by that value (each with `id`,
    `field` and `select`): COQL, 50 keys a call; search, 10 a call, when COQL is refused."""
    wanted = list(dict.fromkeys(str(k) for k in keys if k not in (None, "")))
    found: dict[str, dict[str, Any]] = {}
    refused = _refused(client)
    step = facts.COQL_IN_VALUES
    start = 0
    while start < len(wanted):
        if module in refused:
            for group_start in range(start, len(wanted), facts.SEARCH_CRITERIA):
                group = wanted[group_start:group_start + facts.SEARCH_CRITERIA]
                for rec in client.search(module, crit.any_equals(field, group), fields=["id", field, *select]):
                    if rec.get(field) not in (None, ""):
                        found.setdefault(str(rec[field]), rec)
            break
        chunk = wanted[start:start + step]
        try:
            rows = _coql_rows(client, module, field, chunk, select)
        except ZohoTerminalError as exc:
            if exc.code not in COQL_REFUSED:
                raise
            log.info("zoho: COQL refused on %s (%s); reading by search instead", module, exc.code)
            refused.add(module)
            continue  # the same chunk, by search
        for row in rows:
            if row.get(field) not in (None, ""):
                found.setdefault(str(row[field]), row)
        start += step
    return found


def coql_selectable(fields_meta: Iterable[dict[str, Any]], columns: Sequence[str]) -> bool:
    """Every column is a field COQL can select (and there are at most 50)."""
    types = {f.get("api_name"): str(f.get("data_type") or "") for f in fields_meta}
    return len(set(columns)) <= facts.COQL_SELECT_FIELDS and all(types.get(c) not in NOT_SELECTABLE for c in columns)


def by_keys_is_cheaper(client: Any, module: str, key_count: int) -> bool:
    """Reading `key_count` keys by COQL costs fewer calls than scanning the module (its record
    count, GET /{module}/actions/count, decides; one call more). False when COQL was refused on
    the module or the count cannot be read."""
    if module in _refused(client) or key_count <= 0:
        return False
    try:
        total = reads.record_count(client, module)
    except ZohoTerminalError:
        return False
    return math.ceil(key_count / facts.COQL_IN_VALUES) < max(1, math.ceil(total / facts.PER_PAGE))
