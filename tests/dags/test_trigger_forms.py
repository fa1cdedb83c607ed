"""What the Airflow UI shows of each DAG: a description in the DAG list, the module docstring as its
doc, and a trigger form whose only required fields are the ones a run cannot do without.

The form's rule is Airflow's (airflow-core/src/airflow/ui/src/components/FlexibleForm, isRequired;
the same in the 3.3.2 bundle in .venv): a param whose schema has a type without "null" is
required, and an empty value ("", null) in a required field keeps the Trigger button disabled.
The params are read back from the DAG's serialized form, as the API server holds them, and each DAG
is triggered through Airflow's REST API (in-process) with only its required params filled."""

from __future__ import annotations

import ast

import pytest

from tests.conftest import ROOT

pytest.importorskip("airflow")
pytestmark = pytest.mark.xdist_group("dag_trigger_forms")  # one worker parses the DAGs once

# The params a run cannot do without (filled by the person triggering); every other one has a
# value or may stay empty.
REQUIRED = {
    "clinic_cutover": {"source"},
    "clinic_sample_migration": {"source"},
    "clinic_rollback": {"run_id"},
    "clinic_delta": set(),
    "cluster_smoke": set(),
}
# The issue's list of params the form wrongly required; each must now be optional.
WERE_REQUIRED = {"edition", "zoho_users_file", "provider_email_overrides_file", "patient_merges_file",
                 "clinic_timezone"}


@pytest.fixture(scope="module")
def bag(tmp_path_factory):
    """Every DAG file parsed as the DAG processor does, in a work folder with the project's dbt
    manifest (as a deployment or `clinic2zoho migrate` has it: no `dbt ls` at parse)."""
    from airflow.dag_processing.dagbag import DagBag

    from clinic2zoho.mapping.files import dbt_project_dir
    from clinic2zoho.orchestration.dbt_manifest import write_manifest

    home = tmp_path_factory.mktemp("forms-work")
    write_manifest(dbt_project_dir(), home)
    mp = pytest.MonkeyPatch()
    mp.setenv("CLINIC2ZOHO_HOME", str(home))
    try:
        parsed = DagBag(str(ROOT / "dags"))
    finally:
        mp.undo()
    assert parsed.import_errors == {}
    return parsed


@pytest.fixture(scope="module")
def parsed(bag):
    """Each DAG and its serialized form."""
    from airflow.serialization.serialized_objects import DagSerialization

    return {dag_id: (dag, DagSerialization.from_dict(DagSerialization.to_dict(dag)))
            for dag_id, dag in bag.dags.items()}


@pytest.fixture(scope="module")
def api(bag):
    """Airflow's REST API over this session's metadata DB, the DAGs synced to it as the DAG
    processor does; the simple auth manager in all-admins mode hands out a token."""
    from airflow.api_fastapi.app import create_app
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import sync_bag_to_db
    from fastapi.testclient import TestClient

    mp = pytest.MonkeyPatch()
    mp.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS", "True")
    try:
        DagBundlesManager().sync_bundles_to_db()
        sync_bag_to_db(bag, "dags-folder", None)
        client = TestClient(create_app())
        token = client.get("/auth/token").json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        yield client
    finally:
        mp.undo()


def _ui_required(param: dict) -> bool:
    kind = param["schema"].get("type")
    return bool(kind) and (not isinstance(kind, list) or "null" not in kind)


def test_every_dag_file_is_parsed(parsed):
    assert set(parsed) == set(REQUIRED)


@pytest.mark.parametrize("dag_id", sorted(REQUIRED))
def test_the_dag_list_shows_a_description_and_the_dag_its_module_docstring(parsed, dag_id):
    dag, serialized = parsed[dag_id]
    source = ast.get_docstring(ast.parse((ROOT / "dags" / f"{dag_id}.py").read_text()), clean=False)
    assert serialized.description and len(serialized.description) <= 120
    assert serialized.doc_md == source


@pytest.mark.parametrize("dag_id", sorted(REQUIRED))
def test_the_trigger_form_requires_only_what_a_run_cannot_do_without(parsed, dag_id):
    _, serialized = parsed[dag_id]
    params = {key: serialized.params.get_param(key).dump() for key in serialized.params}
    assert [key for key, p in params.items() if not p["description"]] == []  # help text for every field
    blocking = {key for key, p in params.items() if _ui_required(p) and p["value"] in (None, "")}
    assert blocking == REQUIRED[dag_id]
    assert not WERE_REQUIRED & {key for key, p in params.items() if _ui_required(p)}
    # Triggered with only the required ones filled, the API server's validation accepts the run,
    # and the optional ones arrive empty (their tasks apply the defaults their help names).
    resolved = serialized.params.deep_merge({key: "x" for key in REQUIRED[dag_id]}).validate()
    for key in WERE_REQUIRED & set(params):
        assert resolved[key] is None
        assert "empty" in params[key]["description"]  # says what an empty value means


@pytest.mark.parametrize("dag_id", sorted(REQUIRED))
def test_the_rest_api_triggers_each_dag_with_only_its_required_params(api, dag_id):
    """POST /api/v2/dags/{dag_id}/dagRuns, as the form's Trigger button does; a run missing a
    required param is refused there (400), not left to fail in its first task."""
    url = f"/api/v2/dags/{dag_id}/dagRuns"
    for missing in REQUIRED[dag_id]:
        refused = api.post(url, json={"logical_date": None,
                                      "conf": {k: "x" for k in REQUIRED[dag_id] - {missing}}})
        assert refused.status_code == 400 and missing in refused.json()["detail"]
    answer = api.post(url, json={"logical_date": None, "conf": {k: "x" for k in REQUIRED[dag_id]}})
    assert answer.status_code == 200, answer.text
    run = answer.json()
    try:
        assert run["state"] == "queued" and run["conf"] == {k: "x" for k in REQUIRED[dag_id]}
    finally:  # no run left queued in the session's DB for the DAG tests after this one
        assert api.delete(f"{url}/{run['dag_run_id']}").status_code == 204


@pytest.mark.parametrize("dag_id", sorted(REQUIRED))
def test_every_param_is_read_back_as_a_draft_7_schema(parsed, dag_id):
    """Draft 7 (clinic2zoho_airflow.params: its metaschema is cheaper to check at every resolve),
    as the API server and the task runner hold the params."""
    from clinic2zoho_airflow.params import DRAFT_07

    _, serialized = parsed[dag_id]
    assert {key: serialized.params.get_param(key).schema.get("$schema") for key in serialized.params} == \
        dict.fromkeys(serialized.params, DRAFT_07)


@pytest.mark.parametrize("field, value", [("spot_share", 2), ("delta_window_hours", 12), ("format", "hl7"),
                                          ("per_minute_credits", "many"), ("source", "")])
def test_a_value_outside_its_params_schema_is_refused(api, field, value):
    """The schemas still bound what they bound (maximum, minimum, enum, type, minLength)."""
    conf = {"source": "x", field: value}
    refused = api.post("/api/v2/dags/clinic_cutover/dagRuns", json={"logical_date": None, "conf": conf})
    assert refused.status_code == 400 and field in refused.json()["detail"], refused.text
