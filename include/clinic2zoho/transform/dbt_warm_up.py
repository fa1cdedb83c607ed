"""What dbt builds once per process, built once in the fork server (dbt_process) so that every
command forked after it inherits it instead of building it again.

Two kinds, both measured in a `dbt ls`, `dbt run`, `dbt build` and a full `dbt parse` of the
project: the JSON schemas dbt validates its inputs with (an lru_cache per class), and the
(de)serializers of dbt's dataclasses, which mashumaro compiles on their first use. A forked
`dbt ls` of one model that starts from a saved parse took a median of 1.66-1.75 s without either,
1.31-1.35 s with the schemas, 1.12-1.13 s with both (two rounds of 12). A class a later dbt moved or renamed is only not warmed: dbt still builds what it
needs when it needs it."""

from __future__ import annotations

import importlib
import inspect
from types import ModuleType

# the classes dbt validates what it reads with: project, profile, and on a full parse each kind of
# node and config
VALIDATED = {
    "dbt.contracts.project": ("Project", "ProjectFlags", "Configuration", "PackageConfig", "ProfileConfig"),
    "dbt.adapters.duckdb.credentials": ("DuckDBCredentials",),
    "dbt.contracts.selection": ("SelectorFile",),
    "dbt.contracts.graph.nodes": ("ModelNode", "SeedNode", "GenericTestNode", "SingularTestNode"),
    "dbt.contracts.graph.unparsed": ("UnparsedSourceDefinition", "UnparsedModelUpdate", "UnparsedNodeUpdate"),
    "dbt.artifacts.resources.v1.model": ("ModelConfig",),
    "dbt.artifacts.resources.v1.seed": ("SeedConfig",),
    "dbt.artifacts.resources.v1.config": ("TestConfig",),
    "dbt.artifacts.resources.v1.source_definition": ("SourceConfig",),
    "dbt.artifacts.resources.v1.components": ("Contract",),
    "dbt.task.test": ("TestResultData",),
}

# the modules defining the dataclasses a command reads or writes (the saved parse, the manifest,
# nodes, run results, profile and relations): each dataclass defined there gets its serializers
SERIALIZED_IN = (
    "dbt.adapters.contracts.connection", "dbt.adapters.contracts.relation", "dbt.adapters.duckdb.credentials",
    "dbt.adapters.duckdb.relation", "dbt.artifacts.resources.base", "dbt.artifacts.resources.v1.components",
    "dbt.artifacts.resources.v1.config", "dbt.artifacts.resources.v1.documentation",
    "dbt.artifacts.resources.v1.generic_test", "dbt.artifacts.resources.v1.macro", "dbt.artifacts.resources.v1.model",
    "dbt.artifacts.resources.v1.seed", "dbt.artifacts.resources.v1.singular_test",
    "dbt.artifacts.resources.v1.source_definition", "dbt.artifacts.schemas.manifest.v12.manifest",
    "dbt.artifacts.schemas.results", "dbt.artifacts.schemas.run.v5.run", "dbt.contracts.files",
    "dbt.contracts.graph.manifest", "dbt.contracts.graph.nodes", "dbt.contracts.graph.unparsed",
    "dbt.contracts.project", "dbt.contracts.selection", "dbt.parser.manifest", "dbt.task.test",
    "dbt_common.helper_types",
)


def warm_up() -> dict[str, int]:
    """Build the schemas of VALIDATED and the serializers of the dataclasses in SERIALIZED_IN;
    returns how many of each."""
    return {"schemas": _build_schemas(), "serialized": sum(_compile_serializers(m) for m in _modules(SERIALIZED_IN))}


def _modules(names) -> list[ModuleType]:
    found = []
    for name in names:
        try:
            found.append(importlib.import_module(name))
        except ImportError:
            continue
    return found


def _build_schemas() -> int:
    built = 0
    for module in _modules(VALIDATED):
        for name in VALIDATED[module.__name__]:
            cls = getattr(module, name, None)
            if cls is not None and hasattr(cls, "json_schema"):
                cls.json_schema()
                built += 1
    return built


def _compile_serializers(module: ModuleType) -> int:
    """mashumaro compiles a dataclass's from_dict/to_dict (and msgpack ones) on their first call;
    called once each on nothing (an empty dict, an instance without fields), they compile and then
    fail, which is all that is wanted of them here."""
    from mashumaro.mixins.dict import DataClassDictMixin

    compiled = 0
    for cls in vars(module).values():
        if not (inspect.isclass(cls) and cls.__module__ == module.__name__ and issubclass(cls, DataClassDictMixin)
                and not inspect.isabstract(cls)):
            continue
        empty = cls.__new__(cls)
        calls = [lambda: cls.from_dict({}), empty.to_dict]
        if hasattr(cls, "from_msgpack"):
            calls += [lambda: cls.from_msgpack(b"\x80"), empty.to_msgpack]
        for call in calls:
            try:
                call()
            except Exception:  # noqa: BLE001 - compiled; nothing to serialize
                pass
        compiled += 1
    return compiled
