"""The fork server of dbt_process: imports dbt once, then forks one child per command.

Requests come one JSON line at a time on stdin (args, env, cwd, output pipe, umask); for each the
server answers `{"pid": ...}` when the child started and `{"returncode": ...}` when it ended. It
ends when its stdin closes (the process that started it ended)."""

from __future__ import annotations

import json
import os
import sys

# what every dbt command imports first: dbt's command line, the adapter and the project's plugin
import dbt.adapters.duckdb  # noqa: F401
import dbt.cli.main  # noqa: F401

import clinic2zoho.transform.duckdb_plugin  # noqa: F401

# The classes whose JSON schema dbt builds to validate what it reads (project, profile, and on a
# full parse each kind of node and config), measured in a `dbt parse` and a `dbt build`. dbt
# builds each once per process (an lru_cache): built here, every forked command inherits them
# instead of building them again, about 0.2 s of each command and 0.7 s of a full parse.
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


def build_validation_schemas() -> int:
    """Build the schemas of VALIDATED; returns how many were built. A class a later dbt moved or
    renamed is only not built ahead: dbt still builds it when it needs it."""
    import importlib

    built = 0
    for module_name, names in VALIDATED.items():
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        for name in names:
            cls = getattr(module, name, None)
            if cls is not None and hasattr(cls, "json_schema"):
                cls.json_schema()
                built += 1
    return built


def serve() -> None:
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            # the child ends as a dbt process ends, not with os._exit: DuckDB writes its last
            # changes into the warehouse file (a checkpoint) when its database object is finalised
            sys.exit(_run(request))
        _answer({"pid": pid})
        _, status = os.waitpid(pid, 0)
        _answer({"returncode": os.waitstatus_to_exitcode(status)})


def _run(request: dict) -> int:
    """In the child: the command's output pipe (the caller's) on stdout and stderr, no stdin, its folder, umask
    and environment; then dbt's command line. Returns dbt's exit code."""
    code = 1
    try:
        fd = os.open(request["output"], os.O_WRONLY)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        os.close(null)
        os.umask(request["umask"])
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = ["dbt", *request["args"]]
        try:
            dbt.cli.main.cli()
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    except BaseException:  # noqa: BLE001 - the child reports every failure as its exit code
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    return code


def _answer(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    build_validation_schemas()
    serve()
