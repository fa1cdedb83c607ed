"""The task runner checks every rendered template field against pydantic's `JsonValue`: with the
plugin loaded it does so with one adapter built once, where Airflow builds a new one per field,
before and after each task; what it accepts and sends is unchanged."""

from __future__ import annotations

import pytest
from airflow.sdk import BaseOperator
from airflow.sdk.execution_time import task_runner
from pydantic import JsonValue, TypeAdapter, ValidationError

import clinic2zoho_airflow.plugin  # noqa: F401  (loading the plugin shares the adapter)
from clinic2zoho_airflow.rendered_fields import json_value_or_new_adapter, share_json_value_adapter


class ManyFields(BaseOperator):
    """A task with template fields of every JSON shape, as a Cosmos dbt task has (13 fields)."""

    template_fields = ("select", "env", "vars", "flags", "model", "threshold", "nothing")

    def __init__(self, **kwargs):
        super().__init__(task_id="many_fields", **kwargs)
        self.select = ["model.clinic2zoho.zoho_contacts", "+zoho_leads"]
        self.env = {"DO_NOT_TRACK": "1", "CLINIC2ZOHO_WAREHOUSE": "work/warehouse.duckdb"}
        self.vars = {"clinic_timezone": "America/New_York", "tests_warn_only": True, "nested": [1, 2.5, None]}
        self.flags = ("--indirect-selection", "cautious")
        self.model = "model.clinic2zoho.zoho_contacts"
        self.threshold = 0.05
        self.nothing = None


@pytest.fixture
def adapters_built(monkeypatch):
    """How many pydantic adapters of `JsonValue` are built while the test runs."""
    built = []
    init = TypeAdapter.__init__

    def counting(self, type_, *args, **kwargs):
        if type_ is JsonValue:
            built.append(type_)
        init(self, type_, *args, **kwargs)

    monkeypatch.setattr(TypeAdapter, "__init__", counting)
    return built


def test_the_plugin_points_the_task_runner_at_the_shared_adapter():
    assert task_runner.TypeAdapter is json_value_or_new_adapter
    assert share_json_value_adapter() is True  # applying it again changes nothing
    assert task_runner.TypeAdapter is json_value_or_new_adapter


def test_a_task_before_and_after_it_runs_builds_no_adapter_per_field(adapters_built, monkeypatch):
    task = ManyFields()
    json_value_or_new_adapter(JsonValue)  # the shared one exists once any task has run
    adapters_built.clear()
    for _ in ("before the task runs", "after"):
        task_runner._serialize_rendered_fields(task)
    assert adapters_built == []

    monkeypatch.setattr(task_runner, "TypeAdapter", TypeAdapter)  # Airflow as installed
    for _ in ("before the task runs", "after"):
        task_runner._serialize_rendered_fields(task)
    assert len(adapters_built) == 2 * len(task.template_fields)  # one per field, twice


def test_the_fields_sent_are_what_a_new_adapter_makes_of_them(monkeypatch):
    task = ManyFields()
    shared = task_runner._serialize_rendered_fields(task)
    monkeypatch.setattr(task_runner, "TypeAdapter", TypeAdapter)
    assert shared == task_runner._serialize_rendered_fields(task)
    assert shared["vars"] == {"clinic_timezone": "America/New_York", "tests_warn_only": True, "nested": [1, 2.5, None]}
    assert shared["flags"] == ["--indirect-selection", "cautious"]


def test_the_shared_adapter_refuses_what_a_new_one_refuses():
    not_json = {"when": object()}
    with pytest.raises(ValidationError):
        TypeAdapter(JsonValue).validate_python(not_json)
    with pytest.raises(ValidationError):
        json_value_or_new_adapter(JsonValue).validate_python(not_json)


def test_every_other_adapter_is_built_as_before():
    assert json_value_or_new_adapter(JsonValue) is json_value_or_new_adapter(JsonValue)
    as_int = json_value_or_new_adapter(int)
    assert as_int is not json_value_or_new_adapter(int) and as_int.validate_python("3") == 3
    configured = json_value_or_new_adapter(JsonValue, config=None)  # any argument: a new one, as asked
    assert configured is not json_value_or_new_adapter(JsonValue)


def test_a_task_runner_that_builds_its_adapters_otherwise_is_left_alone(monkeypatch):
    def its_own(type_):
        return TypeAdapter(type_)

    monkeypatch.setattr(task_runner, "TypeAdapter", its_own)
    assert share_json_value_adapter() is False
    assert task_runner.TypeAdapter is its_own
