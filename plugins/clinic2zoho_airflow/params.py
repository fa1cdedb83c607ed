"""DAG params written in JSON Schema draft 7.

Airflow checks a param's value with `jsonschema.validate` each time it resolves the param, and
that first checks the param's schema against the metaschema of its draft: without `$schema`,
draft 2020-12, whose metaschema (eight vocabularies, dynamic references) costs 0.22 ms to check a
one-keyword schema where draft 7's costs 0.06 ms. A run resolves every param several times per
task (serialising an operator compares its params with the DAG's), so the cutover's 13 params
on its ~100 tasks spent about 3 s of an `airflow dags test` there. The params use only keywords
draft 7 has (type, enum, minimum, maximum, minLength); the values accepted are the same.

Even draft 7's check was most of a param's resolve: a task resolves each of the cutover's 14
params four times or more (validating them for its context, and comparing and printing them when
Airflow serialises it), about 4.5 ms a task. A schema is data: one that passed the check passes
it again, so a process checks each distinct passing schema once (`check_each_schema_once`); a
schema that fails is checked, and refused, every time, and each value is still validated at
every resolve."""

from __future__ import annotations

import json
from typing import Any

from airflow.sdk import Param
from jsonschema.validators import Draft7Validator

DRAFT_07 = "http://json-schema.org/draft-07/schema#"
_passed: set[str] = set()  # the draft 7 schemas this process found valid, as canonical JSON


def check_each_schema_once() -> None:
    """Make draft 7's schema check (jsonschema's `check_schema`, run by `jsonschema.validate`
    before each validation) remember the schemas that passed it in this process (idempotent)."""
    check = Draft7Validator.check_schema
    if getattr(check, "remembers_passed_schemas", False):
        return
    original = check.__func__

    def check_schema(cls: type, schema: Any, *args: Any, **kwargs: Any) -> None:
        # checked every time, as before: with another format checker (its verdict is not the
        # default one's), or a schema that is not JSON
        key = None if args or kwargs else _canonical(schema)
        if key is None:
            return original(cls, schema, *args, **kwargs)
        if key not in _passed:
            original(cls, schema)  # raises SchemaError for a schema that fails
            _passed.add(key)

    check_schema.remembers_passed_schemas = True  # type: ignore[attr-defined]
    Draft7Validator.check_schema = classmethod(check_schema)  # type: ignore[method-assign]


def _canonical(schema: Any) -> str | None:
    try:
        return json.dumps(schema, sort_keys=True)
    except (TypeError, ValueError):
        return None


check_each_schema_once()


def param(*default: Any, description: str | None = None, **schema: Any) -> Param:
    """`airflow.sdk.Param` with its schema declared as draft 7 (no `default`: a required param)."""
    return Param(*default, description=description, **{"$schema": DRAFT_07, **schema})
