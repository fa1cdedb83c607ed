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


def test_a_text_read_again_gives_an_equal_document_of_its_own():
    text = (ROOT / "dbt_project" / "mapping" / "generic.yml").read_text(encoding="utf-8")
    first, again = yaml_docs.safe_load(text), yaml_docs.safe_load(text)
    assert again == first == yaml.safe_load(text) and again is not first
    again["entities"][0]["fields"].clear()  # a caller changing its document changes no later one
    assert yaml_docs.safe_load(text) == first


def test_an_edited_text_is_parsed_afresh():
    assert yaml_docs.safe_load("format: generic\nentities: []\n") == {"format": "generic", "entities": []}
    assert yaml_docs.safe_load("format: fhir\nentities: []\n") == {"format": "fhir", "entities": []}
    with pytest.raises(yaml.YAMLError):  # an error is never kept as a document
        yaml_docs.safe_load("format: [fhir\n")
    with pytest.raises(yaml.YAMLError):
        yaml_docs.safe_load("format: [fhir\n")
