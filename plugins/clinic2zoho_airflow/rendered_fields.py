"""One pydantic adapter for the rendered template fields every task sends to Airflow.

Airflow's task runner (task SDK 1.3, `task_runner._serialize_rendered_fields`) checks each
rendered template field with a new `TypeAdapter(JsonValue)`, before the task runs and again
after it: building that adapter costs about 0.7 ms, checking a value with it about a
microsecond. A Cosmos task of the dbt group has 13 template fields, so each of the group's
watching tasks spent some 18 ms building adapters, a second in each DAG run's dbt group.
`share_json_value_adapter` makes the task runner's `TypeAdapter(JsonValue)` return one adapter
built once; every other adapter it builds is built as before. The values accepted, and the
JSON sent, are the same: it is the same adapter of the same type."""

from __future__ import annotations

from typing import Any

from pydantic import JsonValue, TypeAdapter

_JSON_VALUE_ADAPTER: TypeAdapter[Any] | None = None


def json_value_or_new_adapter(type_: Any, *args: Any, **kwargs: Any) -> TypeAdapter[Any]:
    """`TypeAdapter(type_, ...)`, but the one shared adapter for a bare `JsonValue`."""
    global _JSON_VALUE_ADAPTER
    if type_ is not JsonValue or args or kwargs:
        return TypeAdapter(type_, *args, **kwargs)
    if _JSON_VALUE_ADAPTER is None:
        _JSON_VALUE_ADAPTER = TypeAdapter(JsonValue)
    return _JSON_VALUE_ADAPTER


def share_json_value_adapter() -> bool:
    """Point the task runner's `TypeAdapter` at `json_value_or_new_adapter` (idempotent). False,
    and nothing changed, when the task runner no longer builds its adapters through a
    module-level `TypeAdapter` (an Airflow version that fixed this itself)."""
    from airflow.sdk.execution_time import task_runner

    current = getattr(task_runner, "TypeAdapter", None)
    if current is json_value_or_new_adapter:
        return True
    if current is not TypeAdapter:
        return False
    task_runner.TypeAdapter = json_value_or_new_adapter
    return True
