"""The DAG files render the dbt group from the work folder's manifest (no `dbt ls` when a file is
parsed) only while it was parsed from the project as it is now, and that render is the one
`dbt ls` gives: the same seeds and models, the same tasks, the same load plan."""

from __future__ import annotations

import json
import shutil

import pytest

from clinic2zoho.orchestration.dbt_manifest import ManifestError, current_manifest, project_fingerprint, write_manifest
from tests.dags.scenario import DAGS_DIR, load_cutover_dag, load_dag_file
from tests.fixtures.dbt_project import copy_dbt_project

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dbt_manifest")]


@pytest.fixture(scope="module")
def parsed(tmp_path_factory):
    base = tmp_path_factory.mktemp("manifest")
    project = copy_dbt_project(base / "dbt_project", profiles=True)
    home = base / "work"
    home.mkdir()
    write_manifest(project, home)
    return project, home


def _cutover_dag(monkeypatch, project, home):
    monkeypatch.setenv("CLINIC2ZOHO_HOME", str(home))
    monkeypatch.setenv("CLINIC2ZOHO_DBT_PROJECT", str(project))
    return load_cutover_dag(monkeypatch)


def test_a_manifest_is_used_only_while_the_project_is_as_it_was_parsed(parsed, tmp_path):
    project, home = parsed
    assert current_manifest(project, home) == home / "dbt_manifest" / "target" / "manifest.json"
    assert current_manifest(project, tmp_path) is None  # another work folder has none
    edited = copy_dbt_project(tmp_path / "edited", profiles=True)
    before = project_fingerprint(edited)
    model = edited / "models" / "zoho" / "zoho_accounts.sql"
    model.write_text(model.read_text() + "\n-- a reviewer's edit\n")
    assert project_fingerprint(edited) != before
    # the parsed manifest stamped as the edited project's own: only its files' contents differ now
    stamped = tmp_path / "edited_home"
    shutil.copytree(home / "dbt_manifest", stamped / "dbt_manifest")
    stamp = stamped / "dbt_manifest" / "fingerprint.json"
    stamp.write_text(json.dumps({"project": str(edited), "fingerprint": before}))
    model.write_text(model.read_text().replace("\n-- a reviewer's edit\n", ""))
    assert current_manifest(edited, stamped) is not None  # as parsed: used
    model.write_text(model.read_text() + "\n-- a reviewer's edit\n")
    assert current_manifest(edited, stamped) is None  # edited since: not used


def test_the_manifest_render_equals_the_dbt_ls_render(parsed, tmp_path, monkeypatch):
    project, home = parsed
    from_manifest = _cutover_dag(monkeypatch, project, home)
    group = from_manifest.task_group_dict["dbt_mapping"]
    assert group.dbt_graph.load_method.value == "dbt_manifest"

    empty_home = tmp_path / "no_manifest"
    empty_home.mkdir()
    from_ls = _cutover_dag(monkeypatch, project, empty_home)
    assert from_ls.task_group_dict["dbt_mapping"].dbt_graph.load_method.value == "dbt_ls"

    assert sorted(from_manifest.task_ids) == sorted(from_ls.task_ids)
    assert len([t for t in from_manifest.task_ids if t.startswith("load_")]) >= 10
    for task_id in from_ls.task_ids:
        assert sorted(from_manifest.get_task(task_id).upstream_task_ids) == \
            sorted(from_ls.get_task(task_id).upstream_task_ids), task_id


def test_the_watcher_build_runs_first_and_the_tests_after_every_model(parsed, monkeypatch):
    """One dbt build is upstream of every task that shows a model's result (so `airflow dags test`
    and every executor run it first); the gate task waits for all of them; the build is not
    narrowed by the export's format (the other formats' empty staging views are built too) and runs
    the tests, as warnings, each only where every model it reads is built."""
    project, home = parsed
    dag = _cutover_dag(monkeypatch, project, home)
    producer = dag.get_task("dbt_mapping.dbt_producer_watcher")
    group = dag.task_group_dict["dbt_mapping"]
    members = {t.task_id for t in group.iter_tasks()}
    watchers = members - {producer.task_id, "dbt_mapping.dbt_project_test", "dbt_mapping.dbt_producer_watcher_done"}
    assert len(watchers) >= 30
    assert producer.upstream_task_ids == {"prepare_schema"}
    assert all(producer.task_id in dag.get_task(t).get_flat_relative_ids(upstream=True) for t in watchers)
    test_task = dag.get_task("dbt_mapping.dbt_project_test")
    assert watchers <= test_task.get_flat_relative_ids(upstream=True)
    assert producer.exclude is None
    # seeds, models and tests in the one build; the seeds are not rendered one task each
    assert "--resource-type" not in (producer.dbt_cmd_flags or []) and producer.indirect_selection == "cautious"
    assert producer.vars["tests_warn_only"] is True
    assert not any(t.endswith("_seed") for t in watchers)
    assert "mapping_ready" in test_task.downstream_task_ids


def test_the_command_parses_a_work_folder_once_and_then_finds_it_current(parsed, tmp_path, capsys):
    from clinic2zoho import cli

    project, home = parsed
    assert cli.main(["dbt-manifest", "--work", str(home), "--dbt-project", str(project)]) == 0
    assert "the manifest is current" in capsys.readouterr().out
    broken = copy_dbt_project(tmp_path / "broken", profiles=True)
    (broken / "models" / "zoho" / "zoho_accounts.sql").write_text("select * from {{ ref('no_such_model') }}\n")
    assert cli.main(["dbt-manifest", "--work", str(tmp_path / "work"), "--dbt-project", str(broken)]) == 1
    assert "no_such_model" in capsys.readouterr().out  # dbt's own words name what is wrong
    assert current_manifest(broken, tmp_path / "work") is None


def test_a_new_work_folder_parses_from_where_another_left_and_still_reads_an_edit(parsed, tmp_path):
    """The second work folder of a project (another export, a folder purged and begun again) starts
    its `dbt parse` from the one the first left (dbt_parse_cache): dbt then parses only the files
    changed since, here one model a reviewer edited, and says nothing of a full parse."""
    from clinic2zoho.orchestration.dbt_manifest import ManifestParse

    project, home = parsed
    model = project / "models" / "zoho" / "zoho_accounts.sql"
    original = model.read_text()
    model.write_text(original + "\n-- a reviewer's edit\n")
    try:
        parse = ManifestParse(project, tmp_path / "second")
        assert (parse.target / "partial_parse.msgpack").is_file()  # the first folder's parse, to start from
        manifest = json.loads(parse.forked().read_text())
    finally:
        model.write_text(original)
    log = (parse.target / "logs" / "dbt.log").read_text()
    assert "Unable to do partial parsing" not in log, log[-2000:]
    assert "a reviewer's edit" in manifest["nodes"]["model.clinic2zoho.zoho_accounts"]["raw_code"]
    assert not list((tmp_path / "second").rglob("*.duckdb"))  # the parse never opened a warehouse


def test_only_the_tasks_that_write_the_warehouse_take_its_pool(parsed, monkeypatch):
    """The build writes the warehouse: one slot. The watching tasks and the gate task only read the
    build's results, so they may follow it while it runs; the cache of dbt's parse is one folder
    for every DAG building this project (the cutover starts from the sample's parse)."""
    from cosmos.operators.local import AbstractDbtLocalBase
    from cosmos.operators.watcher import DbtConsumerWatcherSensor

    from clinic2zoho.cluster.pools import WAREHOUSE_POOL

    project, home = parsed
    dag = _cutover_dag(monkeypatch, project, home)
    dbt_tasks = [t for t in dag.tasks if t.task_id.startswith("dbt_mapping.")]
    watchers = [t for t in dbt_tasks if isinstance(t, DbtConsumerWatcherSensor)]
    writers = {t.task_id for t in dbt_tasks if t.pool == WAREHOUSE_POOL}
    assert writers == {"dbt_mapping.dbt_producer_watcher"}
    assert len(watchers) > 40 and all(t.pool != WAREHOUSE_POOL for t in watchers)
    caches = {t.cache_dir for t in dbt_tasks if getattr(t, "cache_dir", None) is not None}
    assert len(caches) == 1
    # and one set of vars: a watching task's fallback `dbt run` starts from the build's saved parse,
    # which dbt accepts only under the same vars
    assert {json.dumps(t.vars, sort_keys=True) for t in dbt_tasks if isinstance(t, AbstractDbtLocalBase)} == \
        {json.dumps(dag.get_task("dbt_mapping.dbt_producer_watcher").vars, sort_keys=True)}
    sample = load_dag_file(monkeypatch, DAGS_DIR / "clinic_sample_migration.py", "clinic_sample_pool_test")
    assert {t.cache_dir for t in sample.tasks if getattr(t, "cache_dir", None) is not None} == caches


def test_a_project_dbt_cannot_parse_is_named_with_dbts_words_and_leaves_no_manifest(tmp_path):
    project = tmp_path / "broken"
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text("name: broken\nversion: '1.0'\nconfig-version: 2\nprofile: broken\n")
    (project / "profiles.yml").write_text(
        "broken:\n  target: local\n  outputs:\n    local:\n      type: duckdb\n      path: broken.duckdb\n")
    (project / "models" / "unclosed.sql").write_text("select {{ 1 + }} as answer\n")
    home = tmp_path / "work"
    with pytest.raises(ManifestError) as raised:
        write_manifest(project, home)
    assert "`dbt parse` of broken failed (exit 2)" in str(raised.value)
    assert "unclosed.sql" in str(raised.value)  # dbt's own error names the model's file
    assert current_manifest(project, home) is None
