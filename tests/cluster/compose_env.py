"""Compose's variable interpolation, for checking the compose files without Docker: `${VAR}`,
`${VAR:-default}` / `${VAR-default}` and `${VAR:?message}` / `${VAR?message}`, applied to the
string values of the parsed YAML as `docker compose config` does."""

from __future__ import annotations

import re
from typing import Any

REFERENCE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


class MissingVariable(ValueError):
    def __init__(self, name: str, message: str):
        super().__init__(f"required variable {name} is missing a value: {message}")
        self.name = name


def references(value: Any) -> list[re.Match]:
    """Every `${...}` in the string values of a parsed compose document."""
    if isinstance(value, str):
        return list(REFERENCE.finditer(value.replace("$$", "")))
    if isinstance(value, dict):
        return [m for v in value.values() for m in references(v)]
    if isinstance(value, list):
        return [m for v in value for m in references(v)]
    return []


def interpolate(value: Any, env: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def substitute(m: re.Match) -> str:
        name, op, arg = m["name"], m["op"], m["arg"]
        current = env.get(name)
        unset_or_empty = current is None or (op or "").startswith(":") and current == ""
        if op in (":?", "?") and unset_or_empty:
            raise MissingVariable(name, arg)
        if op in (":-", "-") and unset_or_empty:
            return arg
        return current or ""

    return REFERENCE.sub(substitute, value).replace("$$", "$")


def read_env_file(text: str) -> dict[str, str]:
    """`KEY='value'` / `KEY=value` lines of a .env file; comments and blank lines skipped."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, _, value = line.partition("=")
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values
