"""No import circle between the package's modules: read from the source (every import, those inside
functions too; only `if TYPE_CHECKING:` imports, which never run, are left out)."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

INCLUDE = Path(__file__).resolve().parents[1] / "include"
PACKAGE = INCLUDE / "clinic2zoho"


def _modules() -> dict[str, tuple[Path, bool]]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(INCLUDE).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return found


def _type_checking_only(tree: ast.AST) -> set[int]:
    skipped = set()
    for node in ast.walk(tree):
        test = getattr(node, "test", None) if isinstance(node, ast.If) else None
        if isinstance(test, ast.Name | ast.Attribute) and getattr(test, "id", getattr(test, "attr", "")) == "TYPE_CHECKING":
            skipped |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    return skipped


def import_graph() -> dict[str, set[str]]:
    """module -> the package's modules it imports. `from pkg import sub` is an edge to pkg.sub (a
    submodule), `from pkg import name` to pkg."""
    modules = _modules()
    graph = {}
    for name, (path, is_package) in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skipped = _type_checking_only(tree)
        base = name.split(".") if is_package else name.split(".")[:-1]
        targets = set()
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            if isinstance(node, ast.Import):
                targets |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                origin = node.module or ""
                if node.level:
                    origin = ".".join(base[:len(base) - node.level + 1] + ([node.module] if node.module else []))
                targets |= {f"{origin}.{a.name}" if f"{origin}.{a.name}" in modules else origin for a in node.names}
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def test_the_graph_is_read():
    graph = import_graph()
    # imports the package is known to hold, one per kind: absolute, relative, inside a function
    assert "clinic2zoho.zoho.facts" in graph["clinic2zoho.zoho.client_records"]
    assert "clinic2zoho.zoho_server.http" in graph["clinic2zoho.zoho_server.bulk"]
    assert "clinic2zoho.zoho_server.app" in graph["clinic2zoho.zoho_server.command"]
    # a TYPE_CHECKING import is not an edge
    assert "clinic2zoho.zoho_server.app" not in graph["clinic2zoho.zoho_server.bulk"]


def test_no_import_cycle_between_modules():
    try:
        TopologicalSorter(import_graph()).prepare()
    except CycleError as exc:
        raise AssertionError(f"import cycle: {' -> '.join(exc.args[1])}") from None


def _reached(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for target in graph[todo.pop()] - seen:
            seen.add(target)
            todo.append(target)
    return seen


def test_the_client_and_the_local_server_share_no_code():
    """The server's copy of Zoho's figures checks the client's (zoho/facts.py) only while neither side
    reads the other's; only the bridge that starts a work folder's orgs (work_orgs) knows both."""
    graph = import_graph()
    server_side = _reached(graph, "clinic2zoho.zoho_server.app") | _reached(graph, "clinic2zoho.zoho_server.command")
    assert not {m for m in server_side if m == "clinic2zoho.zoho" or m.startswith("clinic2zoho.zoho.")}
    client_side = _reached(graph, "clinic2zoho.zoho")
    assert not {m for m in client_side if m.startswith("clinic2zoho.zoho_server")}
