"""What every check of the Data Quality Report shares: how a name is quoted in DuckDB SQL and how
many rows a finding lists."""

from __future__ import annotations

MAX_ITEMS = 1000  # rows listed per finding in the JSON report; counts are always complete
MAX_EXAMPLES = 20


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
