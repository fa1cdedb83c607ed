"""What the DAGs render of the dbt project, from the environment: the export's format keeps the
other formats' staging models out of the task list, and a wrong format is named."""

from __future__ import annotations

import json

import pytest

from clinic2zoho.formats import FORMATS
from clinic2zoho.orchestration.dbt_render import RenderConfigError, dbt_render_from_env
from clinic2zoho.settings import DBT_PROJECT_DIR
from clinic2zoho.transform.dbt_process import run_dbt_command
from clinic2zoho.transform.dbt_runner import TELEMETRY_ENV


def test_unset_renders_every_format(monkeypatch):
    monkeypatch.delenv("CLINIC2ZOHO_SOURCE_FORMAT", raising=False)
    monkeypatch.setenv("CLINIC2ZOHO_DBT_SELECT", "  +zoho_events   tag:x ")
    render = dbt_render_from_env()
    assert render.source_format is None and render.other_format_tags == []
    assert render.select == ["+zoho_events", "tag:x"]


def test_a_format_leaves_out_the_other_two(monkeypatch):
    monkeypatch.setenv("CLINIC2ZOHO_SOURCE_FORMAT", "Synthea")
    render = dbt_render_from_env()
    assert render.source_format == "synthea"
    assert sorted(render.other_format_tags) == ["tag:format_fhir", "tag:format_generic"]  # order means nothing


def test_an_unknown_format_is_named(monkeypatch):
    monkeypatch.setenv("CLINIC2ZOHO_SOURCE_FORMAT", "hl7")
    with pytest.raises(RenderConfigError, match=r"CLINIC2ZOHO_SOURCE_FORMAT='hl7'.*generic"):
        dbt_render_from_env()


@pytest.fixture(scope="module")
def format_tagged_models(tmp_path_factory) -> dict[str, list[str]]:
    """Each format tag's models as dbt selects them: one `dbt ls` of the three tags (about 5 s of
    parse each), every model listed with its tags."""
    tmp = tmp_path_factory.mktemp("dbt_ls")
    env = {**TELEMETRY_ENV, "CLINIC2ZOHO_WAREHOUSE": str(tmp / "w.duckdb"), "PATH": "/usr/bin:/bin"}
    code, out = run_dbt_command(
        ["ls", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
         "--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs"), "--resource-type", "model",
         "--select", *(f"tag:format_{fmt}" for fmt in FORMATS), "--output", "json", "--output-keys", "name tags",
         "--quiet"], env, tmp)
    assert code == 0, out
    models = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return {fmt: sorted(m["name"] for m in models if f"format_{fmt}" in m["tags"]) for fmt in FORMATS}


@pytest.mark.parametrize("fmt", ["generic", "synthea", "fhir"])
def test_each_format_tag_selects_exactly_that_formats_staging_models(fmt, format_tagged_models):
    """The tags in dbt_project.yml match the folders: dbt selects, for a format's tag, its staging
    models and nothing else (no intermediate, zoho or other format's model)."""
    on_disk = sorted(p.stem for p in (DBT_PROJECT_DIR / "models" / "staging" / fmt).glob("*.sql"))
    assert format_tagged_models[fmt] == on_disk and on_disk
