"""What dbt builds once per process, built once in the fork server (dbt_process) so that every
command forked after it inherits it instead of building it again.

Three kinds, all listed from what a `dbt ls`, `run`, `build`, `show`, `run-operation` and a full
`dbt parse` of the project built: the JSON schemas dbt validates its inputs with (an lru_cache
per class), the (de)serializers of dbt's dataclasses, which mashumaro compiles on their first use,
and the modules a command imports only when it runs (up to 0.12 s of CPU per command). A class or
module a later dbt moved or renamed is only not warmed: dbt still builds what it needs."""

from __future__ import annotations

import importlib
import inspect

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

# the dataclasses whose serializers a command compiles (the saved parse, the manifest, nodes, run
# results, profile and relations)
SERIALIZED = {
    "dbt.adapters.contracts.connection": ("AdapterResponse", "QueryComment"),
    "dbt.adapters.contracts.relation": ("Path", "Policy"),
    "dbt.adapters.duckdb.credentials": ("DuckDBCredentials", "PluginConfig"),
    "dbt.adapters.duckdb.relation": ("DuckDBRelation",),
    "dbt.artifacts.resources.base": ("Docs", "FileHash"),
    "dbt.artifacts.resources.v1.components": ("ColumnConfig", "ColumnInfo", "Contract", "DependsOn",
                                              "FreshnessThreshold", "MacroDependsOn", "Quoting", "RefArgs", "Time"),
    "dbt.artifacts.resources.v1.config": ("ContractConfig", "TestConfig"),
    "dbt.artifacts.resources.v1.documentation": ("Documentation",),
    "dbt.artifacts.resources.v1.generic_test": ("GenericTest", "TestMetadata"),
    "dbt.artifacts.resources.v1.macro": ("Macro", "MacroArgument", "MacroConfig"),
    "dbt.artifacts.resources.v1.model": ("Model", "ModelConfig"),
    "dbt.artifacts.resources.v1.seed": ("Seed", "SeedConfig"),
    "dbt.artifacts.resources.v1.singular_test": ("SingularTest",),
    "dbt.artifacts.resources.v1.source_definition": ("ExternalTable", "SourceConfig", "SourceDefinition"),
    "dbt.artifacts.schemas.manifest.v12.manifest": ("ManifestMetadata", "WritableManifest"),
    "dbt.artifacts.schemas.results": ("TimingInfo",),
    "dbt.artifacts.schemas.run.v5.run": ("RunResultOutput", "RunResultsArtifact", "RunResultsMetadata"),
    "dbt.contracts.files": ("FilePath", "SchemaSourceFile", "SourceFile"),
    "dbt.contracts.graph.manifest": ("Manifest", "ManifestStateCheck"),
    "dbt.contracts.graph.nodes": ("Documentation", "Exposure", "GenericTestNode", "Group", "Macro", "Metric",
                                  "ModelNode", "SavedQuery", "SeedNode", "SemanticModel", "SingularTestNode",
                                  "SourceDefinition", "UnitTestDefinition", "UnitTestFileFixture"),
    "dbt.contracts.graph.unparsed": ("SourcePatch", "UnparsedColumn", "UnparsedModelUpdate", "UnparsedNodeUpdate",
                                     "UnparsedSourceDefinition", "UnparsedSourceTableDefinition"),
    "dbt.contracts.project": ("PackageConfig", "Project", "ProjectFlags"),
    "dbt.contracts.selection": ("SelectorFile",),
    "dbt.parser.manifest": ("ManifestLoaderInfo", "ParserInfo", "ProjectLoaderInfo"),
    "dbt.task.test": ("TestResultData",),
    "dbt_common.helper_types": ("WarnErrorOptionsV2",),
}


# the modules a command imports as it runs: its task, agate's helper (whose default type tester
# loads babel's locale data), and numpy, which DuckDB imports when the project's plugin registers
# its functions on each connection
IMPORTED = ("dbt.task.build", "dbt.task.list", "dbt.task.run_operation", "dbt.task.seed", "dbt.task.show",
            "dbt.task.docs.generate", "dbt_common.clients.agate_helper", "numpy")


def warm_up() -> dict[str, int]:
    """Build the schemas of VALIDATED and the serializers of SERIALIZED, import IMPORTED; returns
    how many of each."""
    return {"schemas": sum(cls.json_schema() is not None for cls in _classes(VALIDATED, "json_schema")),
            "serialized": sum(_compile_serializers(cls) for cls in _classes(SERIALIZED, "to_dict")),
            "imported": sum(_imported(name) for name in IMPORTED)}


def _imported(module_name: str) -> bool:
    try:
        importlib.import_module(module_name)
    except ImportError:
        return False
    return True


def _classes(named: dict[str, tuple[str, ...]], having: str) -> list[type]:
    found = []
    for module_name, names in named.items():
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        found += [cls for cls in (getattr(module, name, None) for name in names)
                  if inspect.isclass(cls) and hasattr(cls, having)]
    return found


def _compile_serializers(cls: type) -> bool:
    """mashumaro compiles a dataclass's from_dict/to_dict (and msgpack ones) on their first call;
    called once each on nothing (an empty dict, an instance without fields), they compile and then
    fail, which is all that is wanted of them here."""
    if inspect.isabstract(cls):
        return False
    empty = cls.__new__(cls)
    calls = [lambda: cls.from_dict({}), empty.to_dict]
    if hasattr(cls, "from_msgpack"):
        calls += [lambda: cls.from_msgpack(b"\x80"), empty.to_msgpack]
    for call in calls:
        try:
            call()
        except Exception:  # noqa: BLE001 - compiled; there was nothing to serialize
            pass
    return True
