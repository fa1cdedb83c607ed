"""YAML read through libyaml's parser (clinic2zoho.yaml_docs) gives the documents PyYAML's own safe
loader gives, for every YAML file the project reads, and refuses bad YAML as it does."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from clinic2zoho import yaml_docs

ROOT = Path(__file__).resolve().parents[1]
READ = [*sorted((ROOT / "dbt_project").rglob("*.yml")), ROOT / "include" / "clinic2zoho" / "mapping" / "target_model.yml"]


def test_libyaml_is_used_where_pyyaml_has_it():
    assert yaml_docs.SafeLoader is (yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader)


@pytest.mark.parametrize("path", READ, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_projects_yaml_reads_as_pyyaml_reads_it(path):
    text = path.read_text(encoding="utf-8")
    assert yaml_docs.safe_load(text) == yaml.safe_load(text)


@pytest.mark.parametrize("text", ["a: [1, 2", "key: value\n  bad: indent", "!!python/object:os.system {}"])
def test_bad_or_unsafe_yaml_is_refused_as_pyyaml_refuses_it(text):
    with pytest.raises(yaml.YAMLError):
        yaml.safe_load(text)
    with pytest.raises(yaml.YAMLError):
        yaml_docs.safe_load(text)
