"""The DAG params' schemas are checked against draft 7's metaschema once per process, their values
at every resolve; a schema that fails the check is refused every time, as jsonschema refuses it."""

from __future__ import annotations

import uuid

import jsonschema
import pytest
from airflow.sdk.exceptions import ParamValidationError
from jsonschema import validators

from clinic2zoho_airflow.params import DRAFT_07, check_each_schema_once, param


@pytest.fixture
def metaschema_checks(monkeypatch) -> list[object]:
    """Each check of a schema against its draft's metaschema, as jsonschema's `check_schema`
    starts one (by finding the metaschema's validator)."""
    seen: list[object] = []
    find = validators.validator_for

    def counted(schema, *args, **kwargs):
        if schema is validators.Draft7Validator.META_SCHEMA:
            seen.append(schema)
        return find(schema, *args, **kwargs)

    monkeypatch.setattr(validators, "validator_for", counted)
    return seen


def test_a_params_schema_is_checked_once_and_its_value_at_every_resolve(metaschema_checks):
    # a schema this process has not seen: the description makes it new
    limited = param(5, type="integer", minimum=1, maximum=10, description=f"limit {uuid.uuid4()}")
    assert limited.resolve() == 5 and limited.resolve(7) == 7
    assert len(metaschema_checks) == 1
    with pytest.raises(ParamValidationError):
        limited.resolve(11)  # the value is still checked against the schema
    with pytest.raises(ParamValidationError):
        limited.resolve("seven")
    assert len(metaschema_checks) == 1


def test_a_schema_that_fails_the_metaschema_is_refused_every_time(metaschema_checks):
    broken = {"$schema": DRAFT_07, "type": "no-such-type", "description": str(uuid.uuid4())}
    for _ in range(2):
        with pytest.raises(jsonschema.SchemaError):
            jsonschema.validate(1, broken)
    assert len(metaschema_checks) == 2


def test_the_values_accepted_are_jsonschemas_own(metaschema_checks):
    """Against jsonschema's own validator (no check of the schema, a fresh instance each time):
    the same values pass and fail."""
    schema = {"$schema": DRAFT_07, "type": ["null", "string"], "minLength": 1, "description": str(uuid.uuid4())}
    own = validators.Draft7Validator(schema)
    for value in (None, "x", "", 3, ["x"]):
        for _ in range(2):
            try:
                jsonschema.validate(value, schema)
                passed = True
            except jsonschema.ValidationError:
                passed = False
            assert passed == own.is_valid(value), value
    assert len(metaschema_checks) == 1


def test_installing_it_again_changes_nothing(monkeypatch):
    installed = validators.Draft7Validator.check_schema
    # put back after the test whatever this call leaves (were it not installed, it would install it)
    monkeypatch.setattr(validators.Draft7Validator, "check_schema", installed)
    check_each_schema_once()
    assert validators.Draft7Validator.check_schema.__func__ is installed.__func__


def test_a_check_with_another_format_checker_is_made_every_time(metaschema_checks):
    schema = {"$schema": DRAFT_07, "type": "string", "description": str(uuid.uuid4())}
    for _ in range(2):
        validators.Draft7Validator.check_schema(schema, format_checker=None)
    validators.Draft7Validator.check_schema(schema)  # the default checker's verdict: not remembered yet
    validators.Draft7Validator.check_schema(schema)
    assert len(metaschema_checks) == 3
