"""COQL, Zoho's query API: `POST /crm/v8/coql {"select_query": "select ... from M where ... limit n"}`.

Sources: Zoho's OAS `coql.json` (request `select_query`; errors SYNTAX_ERROR, INVALID_QUERY with the
messages "invalid query formed", "column given seems to be invalid", "value given seems to be
invalid for the column", "data type not supported"; LIMIT_EXCEEDED; DUPLICATE_DATA), and Zoho's pages
https://www.zoho.com/crm/developer/docs/api/v8/COQL-Overview.html (clauses, LIMIT default 200, at most
2,000 a call, credits 1 / 2 / 3 for LIMIT 1-200 / 201-1000 / 1001-2000, records sorted by id when no
ORDER BY, keywords case-insensitive) and .../v8/COQL-Limitations.html (100,000 records reachable by
LIMIT/OFFSET, at most 25 criteria and 50 columns, `in` up to 50 values, 10 ORDER BY fields, a
duplicate ORDER BY field is DUPLICATE_DATA, more than two criteria must be bracketed in pairs
`((A and B) and C)`, multi-line fields not allowed in criteria). Kaizen #171 (Zoho's COQL FAQ): a
quote inside a value is doubled (`'O''Brien'`).

A small tokenizer and recursive-descent parser; nothing is evaluated as code."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

MAX_LIMIT = 2_000
DEFAULT_LIMIT = 200
MAX_REACH = 100_000  # LIMIT + OFFSET (v8 COQL-Limitations)
MAX_CRITERIA = 25
MAX_COLUMNS = 50
MAX_IN_VALUES = 50
MAX_ORDER_BY = 10
NOT_IN_CRITERIA = frozenset({"textarea", "subform", "participants", "multiselectlookup"})
KEYWORDS = frozenset({"select", "from", "where", "and", "or", "not", "in", "like", "is", "null", "between",
                      "order", "by", "asc", "desc", "limit", "offset", "true", "false"})
TOKEN_RE = re.compile(r"""
    (?P<ws>\s+)
  | (?P<str>'(?:[^']|'')*'|"(?:[^"]|"")*")
  | (?P<num>-?\d+(?:\.\d+)?(?![A-Za-z_]))
  | (?P<op><=|>=|!=|<>|=|<|>)
  | (?P<punct>[(),*])
  | (?P<word>[A-Za-z_$][A-Za-z0-9_$]*(?:\.[A-Za-z_$][A-Za-z0-9_$]*)?)
""", re.VERBOSE)


class CoqlError(Exception):
    def __init__(self, code: str, message: str, details: dict[str, Any]) -> None:
        super().__init__(code)
        self.code, self.message, self.details = code, message, details


def syntax(token: "Token | None", text: str) -> CoqlError:
    near = token.text if token else "end of query"
    column = token.pos + 1 if token else len(text) + 1
    return CoqlError("SYNTAX_ERROR", "invalid query formed", {"line": 1, "column": column, "near": near})


def credits_for(limit: int) -> int:
    """Credits by LIMIT (v8 COQL-Overview)."""
    return 1 if limit <= 200 else 2 if limit <= 1_000 else 3


@dataclass
class Token:
    kind: str  # str, num, op, punct, word
    text: str
    pos: int
    value: Any = None

    def kw(self, *words: str) -> bool:
        return self.kind == "word" and self.text.lower() in words


def tokenize(text: str) -> list[Token]:
    out: list[Token] = []
    pos = 0
    while pos < len(text):
        m = TOKEN_RE.match(text, pos)
        if not m:
            raise syntax(Token("?", text[pos:pos + 10], pos), text)
        kind = m.lastgroup or ""
        raw = m.group(0)
        if kind == "str":
            quote = raw[0]
            out.append(Token("str", raw, pos, raw[1:-1].replace(quote * 2, quote)))
        elif kind == "num":
            out.append(Token("num", raw, pos, float(raw) if "." in raw else int(raw)))
        elif kind != "ws":
            out.append(Token(kind, raw, pos))
        pos = m.end()
    return out


# ---- the parsed query ---------------------------------------------------------------------------------
@dataclass
class Condition:
    column: str
    op: str  # =, !=, <, >, <=, >=, in, not in, like, not like, is null, is not null, between, not between
    values: list[Any]


@dataclass
class Join:
    op: str  # and / or
    left: "Condition | Join"
    right: "Condition | Join"


@dataclass
class Query:
    columns: list[str]
    module: str
    where: "Condition | Join | None"
    order_by: list[tuple[str, bool]]  # (column, descending)
    limit: int
    offset: int


class Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.criteria = 0

    def peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> Token:
        tok = self.peek()
        if tok is None:
            raise syntax(None, self.text)
        self.i += 1
        return tok

    def expect_kw(self, *words: str) -> Token:
        tok = self.take()
        if not tok.kw(*words):
            raise syntax(tok, self.text)
        return tok

    def at_kw(self, *words: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.kw(*words)

    def at_punct(self, ch: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.kind == "punct" and tok.text == ch

    def column(self) -> str:
        tok = self.take()
        if tok.kind == "str" and re.fullmatch(r"[A-Za-z_$][A-Za-z0-9_$]*(?:\.[A-Za-z_$][A-Za-z0-9_$]*)?", tok.value or ""):
            return tok.value  # a reserved word used as a column is quoted (Kaizen #171)
        if tok.kind != "word" or tok.text.lower() in KEYWORDS:
            raise syntax(tok, self.text)
        return tok.text

    def parse(self, where_required: bool) -> Query:
        self.expect_kw("select")
        columns = [self.column()]
        while self.at_punct(","):
            self.take()
            columns.append(self.column())
        if not self.at_kw("from"):
            raise CoqlError("SYNTAX_ERROR", "missing clause", {"clause": "from"})
        self.take()
        module_tok = self.take()
        if module_tok.kind != "word" or "." in module_tok.text or module_tok.text.lower() in KEYWORDS:
            raise syntax(module_tok, self.text)
        where = None
        if self.at_kw("where"):
            self.take()
            where = self.expr()
        elif where_required:
            # *unverified*: earlier Zoho versions required WHERE; setting `coql_where_required`
            raise CoqlError("SYNTAX_ERROR", "missing clause", {"clause": "where"})
        order_by: list[tuple[str, bool]] = []
        if self.at_kw("order"):
            self.take()
            self.expect_kw("by")
            while True:
                col = self.column()
                desc = False
                if self.at_kw("asc", "desc"):
                    desc = self.take().text.lower() == "desc"
                order_by.append((col, desc))
                if not self.at_punct(","):
                    break
                self.take()
        limit, offset = DEFAULT_LIMIT, 0
        if self.at_kw("limit"):
            self.take()
            first = self.integer()
            if self.at_punct(","):  # LIMIT offset, count
                self.take()
                offset, limit = first, self.integer()
            else:
                limit = first
                if self.at_kw("offset"):
                    self.take()
                    offset = self.integer()
        if self.peek() is not None:
            raise syntax(self.peek(), self.text)
        return Query(columns, module_tok.text, where, order_by, limit, offset)

    def integer(self) -> int:
        tok = self.take()
        if tok.kind != "num" or not isinstance(tok.value, int) or tok.value < 0:
            raise syntax(tok, self.text)
        return tok.value

    def expr(self) -> Condition | Join:
        """At most one `and`/`or` per bracket level: `A and B and C` is refused, `(A and B) and C`
        is not (COQL-Limitations: criteria enclosed in pairs)."""
        left = self.term()
        if self.at_kw("and", "or"):
            op = self.take().text.lower()
            right = self.term()
            if self.at_kw("and", "or"):
                raise syntax(self.peek(), self.text)
            return Join(op, left, right)
        return left

    def term(self) -> Condition | Join:
        if self.at_punct("("):
            self.take()
            inner = self.expr()
            tok = self.take()
            if not (tok.kind == "punct" and tok.text == ")"):
                raise syntax(tok, self.text)
            return inner
        return self.condition()

    def condition(self) -> Condition:
        self.criteria += 1
        col = self.column()
        tok = self.take()
        if tok.kind == "op":
            op = {"<>": "!="}.get(tok.text, tok.text)
            return Condition(col, op, [self.value()])
        negate = False
        if tok.kw("not"):
            negate = True
            tok = self.take()
        if tok.kw("in"):
            if not self.at_punct("("):
                raise syntax(self.peek(), self.text)
            self.take()
            values = [self.value()]
            while self.at_punct(","):
                self.take()
                values.append(self.value())
            close = self.take()
            if not (close.kind == "punct" and close.text == ")"):
                raise syntax(close, self.text)
            if len(values) > MAX_IN_VALUES:
                raise CoqlError("LIMIT_EXCEEDED", "limit exceeded", {"operator": "in", "limit": MAX_IN_VALUES})
            return Condition(col, "not in" if negate else "in", values)
        if tok.kw("like"):
            value = self.value()
            if not isinstance(value, str):
                raise syntax(self.tokens[self.i - 1], self.text)
            return Condition(col, "not like" if negate else "like", [value])
        if tok.kw("between"):
            low = self.value()
            self.expect_kw("and")
            return Condition(col, "not between" if negate else "between", [low, self.value()])
        if tok.kw("is") and not negate:
            if self.at_kw("not"):
                self.take()
                self.expect_kw("null")
                return Condition(col, "is not null", [])
            self.expect_kw("null")
            return Condition(col, "is null", [])
        raise syntax(tok, self.text)

    def value(self) -> Any:
        tok = self.take()
        if tok.kind in ("str", "num"):
            return tok.value
        if tok.kw("true", "false"):
            return tok.text.lower() == "true"
        if tok.kind == "word" and tok.text.lower() not in KEYWORDS:
            return tok.text  # Zoho's own samples leave a pick-list value unquoted
        raise syntax(tok, self.text)


def parse(text: str, where_required: bool = True) -> tuple[Query, int]:
    """The query and its number of criteria; CoqlError on syntax or limits."""
    parser = Parser(text)
    query = parser.parse(where_required)
    return query, parser.criteria


# ---- evaluation -------------------------------------------------------------------------------------------
def conditions(node: Condition | Join | None) -> list[Condition]:
    if node is None:
        return []
    if isinstance(node, Condition):
        return [node]
    return conditions(node.left) + conditions(node.right)


def like_predicate(pattern: str, case_sensitive: bool) -> Callable[[str], bool]:
    """`%` any run, `_` one character (SQL LIKE: Zoho uses it for starts_with, ends_with, contains)."""
    regex = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    compiled = re.compile(f"^{regex}$", re.DOTALL if case_sensitive else re.DOTALL | re.IGNORECASE)
    return lambda text: bool(compiled.match(text))


def sort_key(value: Any) -> tuple[int, Any]:
    if value is None or value == "":
        return (0, "")
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, (int, float)):
        return (1, value)
    return (2, str(value))


def matches(node: Condition | Join | None, get: Callable[[str], Any], case_sensitive: bool) -> bool:
    if node is None:
        return True
    if isinstance(node, Join):
        left = matches(node.left, get, case_sensitive)
        if node.op == "and":
            return left and matches(node.right, get, case_sensitive)
        return left or matches(node.right, get, case_sensitive)
    value = get(node.column)
    empty = value is None or value == "" or value == []
    op = node.op
    if op == "is null":
        return empty
    if op == "is not null":
        return not empty
    if empty:
        return False  # SQL: a comparison with NULL is not true (not even != / not in)

    def norm(v: Any) -> Any:
        if isinstance(v, str) and not case_sensitive:
            return v.lower()
        return v

    if isinstance(value, list):  # multi-select pick list: any chosen value matches
        return any(matches(Condition(node.column, op, node.values), lambda _c, v=v: v, case_sensitive) for v in value) \
            if op not in ("!=", "not in", "not like", "not between") else \
            all(matches(Condition(node.column, op, node.values), lambda _c, v=v: v, case_sensitive) for v in value)
    probe = norm(value)
    wanted = [norm(v) for v in node.values]
    try:
        if op == "=":
            return probe == wanted[0]
        if op == "!=":
            return probe != wanted[0]
        if op == "in":
            return probe in wanted
        if op == "not in":
            return probe not in wanted
        if op in ("like", "not like"):
            hit = like_predicate(str(node.values[0]), case_sensitive)(str(value))
            return hit if op == "like" else not hit
        if op in ("between", "not between"):
            inside = wanted[0] <= probe <= wanted[1]
            return inside if op == "between" else not inside
        return {"<": probe < wanted[0], ">": probe > wanted[0], "<=": probe <= wanted[0], ">=": probe >= wanted[0]}[op]
    except TypeError:
        return False
