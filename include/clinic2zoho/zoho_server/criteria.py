"""Zoho's search criteria: `((Last_Name:equals:Burns)and(Email:starts_with:b))`, ≤ 10 conditions,
values escaped with `\\` for `(`, `)` and `,`."""

from __future__ import annotations

from typing import Any, Callable

OPERATORS = {"equals", "not_equal", "starts_with", "ends_with", "in", "not_in", "greater_than", "greater_equal",
             "less_than", "less_equal", "between", "not_between"}
MAX_CONDITIONS = 10


class CriteriaError(ValueError):
    pass


Predicate = Callable[[dict[str, Any]], bool]


def parse(text: str) -> tuple[Predicate, list[str]]:
    """A predicate over stored records and the field names it reads."""
    parser = _Parser(text.strip())
    pred = parser.expr()
    if parser.pos != len(parser.text):
        raise CriteriaError(f"unexpected text at position {parser.pos}")
    if len(parser.fields) > MAX_CONDITIONS:
        raise CriteriaError(f"at most {MAX_CONDITIONS} criteria are allowed")
    return pred, parser.fields


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return value.get("id")
    return value


def _cmp_key(value: Any) -> Any:
    value = _plain(value)
    if isinstance(value, bool) or value is None:
        return str(value).lower()
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value).lower()


def condition(field: str, op: str, raw: str) -> Predicate:
    if op not in OPERATORS:
        raise CriteriaError(f"unknown operator {op!r}")
    # `raw` still holds its escapes (`\,` `\(` `\)` `\\`): a list operator splits on unescaped
    # commas only; any other operator takes the whole value, unescaped (Zoho's search-records page,
    # https://www.zoho.com/crm/developer/docs/api/v8/search-records.html: escape `(`, `)` and `,`).
    values = _split(raw) if op in ("in", "not_in", "between", "not_between") else ["".join(_split_chars(raw))]
    raw = values[0] if len(values) == 1 else raw
    if op in ("between", "not_between") and len(values) != 2:
        raise CriteriaError("between takes two values")
    keys = [_cmp_key(v) for v in values]

    def matches(rec: dict[str, Any]) -> bool:
        value = rec.get(field)
        if isinstance(value, list):
            return any(str(v).lower() in {str(k) for k in keys} for v in value) != (op in ("not_equal", "not_in"))
        if value is None or value == "":
            return op in ("not_equal", "not_in") and raw not in ("", "${EMPTY}") or raw == "${EMPTY}" and op == "equals"
        key = _cmp_key(value)
        if op == "equals":
            return key == keys[0]
        if op == "not_equal":
            return key != keys[0]
        if op == "in":
            return key in keys
        if op == "not_in":
            return key not in keys
        if op in ("starts_with", "ends_with"):
            text, probe = str(_plain(value)).lower(), str(values[0]).lower()
            return text.startswith(probe) if op == "starts_with" else text.endswith(probe)
        try:
            if op == "greater_than":
                return key > keys[0]
            if op == "greater_equal":
                return key >= keys[0]
            if op == "less_than":
                return key < keys[0]
            if op == "less_equal":
                return key <= keys[0]
            inside = keys[0] <= key <= keys[1]
            return inside if op == "between" else not inside
        except TypeError:
            return False

    return matches


def _split(raw: str) -> list[str]:
    out, cur, esc = [], [], False
    for ch in raw:
        if esc:
            cur.append(ch)
            esc = False
        elif ch == "\\":
            esc = True
        elif ch == ",":
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return out


def _split_chars(raw: str) -> list[str]:
    """The characters of `raw` with each escaping backslash dropped."""
    out, esc = [], False
    for ch in raw:
        if esc or ch != "\\":
            out.append(ch)
            esc = False
        else:
            esc = True
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.text, self.pos, self.fields = text, 0, []

    def expr(self) -> Predicate:
        parts = [self.term()]
        joins: list[str] = []
        while True:
            rest = self.text[self.pos:].lower()
            if rest.startswith("and("):
                joins.append("and")
                self.pos += 3
            elif rest.startswith("or("):
                joins.append("or")
                self.pos += 2
            else:
                break
            parts.append(self.term())
        if not joins:
            return parts[0]
        # `and` binds tighter than `or`
        groups: list[list[Predicate]] = [[parts[0]]]
        for join, part in zip(joins, parts[1:]):
            if join == "and":
                groups[-1].append(part)
            else:
                groups.append([part])
        return lambda rec: any(all(p(rec) for p in g) for g in groups)

    def term(self) -> Predicate:
        if self.pos >= len(self.text) or self.text[self.pos] != "(":
            raise CriteriaError(f"expected '(' at position {self.pos}")
        self.pos += 1
        if self.pos < len(self.text) and self.text[self.pos] == "(":
            pred = self.expr()
        else:
            pred = self.cond()
        if self.pos >= len(self.text) or self.text[self.pos] != ")":
            raise CriteriaError(f"expected ')' at position {self.pos}")
        self.pos += 1
        return pred

    def cond(self) -> Predicate:
        start = self.pos
        buf, esc = [], False
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if esc:
                buf.append("\\" + ch)  # kept escaped: condition() unescapes after splitting lists
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == ")":
                break
            else:
                buf.append(ch)
            self.pos += 1
        body = "".join(buf)
        pieces = body.split(":", 2)
        if len(pieces) != 3 or not pieces[0]:
            raise CriteriaError(f"condition at position {start} is not field:operator:value")
        field, op, value = pieces
        self.fields.append(field)
        return condition(field, op.strip().lower(), value)
