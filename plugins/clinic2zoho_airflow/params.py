"""DAG params written in JSON Schema draft 7.

Airflow checks a param's value with `jsonschema.validate` each time it resolves the param, and
that first checks the param's schema against the metaschema of its draft: without `$schema`,
draft 2020-12, whose metaschema (eight vocabularies, dynamic references) costs 0.22 ms to check a
one-keyword schema where draft 7's costs 0.06 ms. A run resolves every param several times per
task (serialising an operator compares its params with the DAG's), so the cutover's 13 params
on its ~100 tasks spent about 3 s of an `airflow dags test` there. The params use only keywords
draft 7 has (type, enum, minimum, maximum, minLength); the values accepted are the same."""

from __future__ import annotations

from typing import Any

from airflow.sdk import Param

DRAFT_07 = "http://json-schema.org/draft-07/schema#"


def param(*default: Any, description: str | None = None, **schema: Any) -> Param:
    """`airflow.sdk.Param` with its schema declared as draft 7 (no `default`: a required param)."""
    return Param(*default, description=description, **{"$schema": DRAFT_07, **schema})
