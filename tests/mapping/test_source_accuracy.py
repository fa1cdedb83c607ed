"""The source-map scorer against a hand-written layout truth and proposed map."""

from __future__ import annotations

import copy

import pytest

from clinic2zoho.mapping import source_map
from clinic2zoho.mapping.source_accuracy import boolean_text, score_source_map, truth_column, vendor_values

TRUTH = {"files": [
    {"file": "Pat.csv", "entity": "patients", "key": "PT_ID",
     "columns": {"PT_ID": "patient_id", "PT_NAME": ["first_name", "last_name"], "DOB": "birth_date",
                 "SEX": "sex", "EMAIL_OPT_OUT": "email_opt_out", "CHART": None},
     "parse": {"PT_NAME": {"parse": "name", "format": "last_first"}, "DOB": {"parse": "date", "format": "DMY"},
               "EMAIL_OPT_OUT": {"parse": "boolean"}},
     "values": {"SEX": {"männlich": "M", "weiblich": "F"}, "EMAIL_OPT_OUT": {"ja": "true", "nein": "false"}}},
    {"file": "Staff.csv", "entity": "providers", "key": "ID",
     "columns": {"ID": "provider_id", "ACTIVE_YN": "status"},
     "parse": {"ACTIVE_YN": {"parse": "boolean"}}, "values": {"ACTIVE_YN": {"Y": "active", "N": "inactive"}}},
]}

RIGHT = source_map.new_source_map("x", {
    "patients": {"file": "Pat.csv", "key": "PT_ID", "confidence": 0.9, "columns": [
        {"source": "PT_ID", "column": "patient_id", "confidence": 0.98},
        {"source": "PT_NAME", "column": ["first_name", "last_name"], "parse": "name", "format": "last_first",
         "confidence": 0.9},
        {"source": "DOB", "column": "birth_date", "parse": "date", "format": "DMY", "confidence": 0.6},
        {"source": "SEX", "column": "sex", "values": {"männlich": "M", "weiblich": "F"}, "confidence": 0.9},
        # the boolean rule reads ja/nein itself: no value map needed
        {"source": "EMAIL_OPT_OUT", "column": "email_opt_out", "parse": "boolean", "confidence": 0.9},
        # an extra counts right when null, whatever parse was guessed for it
        {"source": "CHART", "column": None, "parse": "boolean", "confidence": 0.5}]},
    "providers": {"file": "Staff.csv", "key": "ID", "confidence": 0.8, "columns": [
        {"source": "ID", "column": "provider_id", "confidence": 0.9},
        # staging applies the value map after the parse rule: keyed by its output
        {"source": "ACTIVE_YN", "column": "status", "parse": "boolean",
         "values": {"true": "active", "false": "inactive"}, "confidence": 0.8}]},
})


def _column(doc: dict, entity: str, header: str) -> dict:
    return next(c for c in doc["entities"][entity]["columns"] if c["source"] == header)


def test_a_map_equal_to_the_truth_scores_every_file_and_column_right():
    score = score_source_map(RIGHT, TRUTH)
    assert (score.files_right, len(score.files), score.keys_right) == (2, 2, 2)
    assert (score.columns_right, len(score.columns)) == (8, 8)
    assert score.column_share == 1.0 and score.misses() == []


@pytest.mark.parametrize("entity, header, change, miss", [
    ("patients", "DOB", {"format": "MDY"}, "another format"),
    ("patients", "DOB", {"parse": None, "format": None}, "another parse rule"),
    ("patients", "PT_NAME", {"format": "first_last"}, "another format"),
    ("patients", "SEX", {"values": {"männlich": "M"}}, "value map misreads 1 of 2"),
    ("patients", "SEX", {"column": "status"}, "another clinic column"),
    ("patients", "SEX", {"column": None, "values": None}, "left unmapped"),
    ("patients", "CHART", {"column": "email", "parse": None}, "an extra column mapped to a clinic column"),
    ("providers", "ACTIVE_YN", {"values": None}, "value map misreads 2 of 2"),
    ("providers", "ACTIVE_YN", {"parse": None, "values": {"Y": "active", "N": "inactive"}}, "another parse rule"),
])
def test_each_wrong_choice_is_one_miss_saying_why(entity, header, change, miss):
    doc = copy.deepcopy(RIGHT)
    col = _column(doc, entity, header)
    for k, v in change.items():
        if v is None:
            col.pop(k, None)
        else:
            col[k] = v
    score = score_source_map(doc, TRUTH)
    assert score.columns_right == 7
    [got] = score.misses()
    assert (got.file, got.header) == (TRUTH["files"][0 if entity == "patients" else 1]["file"], header)
    assert got.miss.startswith(miss)


def test_a_file_assigned_to_another_entity_misses_the_file_and_all_its_columns():
    doc = copy.deepcopy(RIGHT)
    doc["entities"]["clinics"] = doc["entities"].pop("providers")
    doc["entities"]["clinics"]["columns"] = [{"source": "ID", "column": "clinic_id", "confidence": 0.9},
                                             {"source": "ACTIVE_YN", "column": None, "confidence": 0.5}]
    score = score_source_map(doc, TRUTH)
    assert score.files_right == 1 and score.keys_right == 1
    wrong = next(f for f in score.files if not f.right)
    assert (wrong.file, wrong.entity, wrong.proposed) == ("Staff.csv", "providers", "clinics")
    assert {(c.header, c.miss) for c in score.misses()} == {("ID", "file assigned to another entity"),
                                                           ("ACTIVE_YN", "file assigned to another entity")}


def test_an_unassigned_file_and_an_absent_header_are_misses():
    doc = copy.deepcopy(RIGHT)
    del doc["entities"]["providers"]
    doc["entities"]["patients"]["columns"] = [c for c in doc["entities"]["patients"]["columns"]
                                              if c["source"] != "CHART"]
    doc["entities"]["patients"]["key"] = "DOB"
    score = score_source_map(doc, TRUTH)
    assert [(f.file, f.proposed, f.confidence) for f in score.files if not f.right] == [("Staff.csv", None, 0.0)]
    assert score.files_right == 1 and score.keys_right == 0
    assert score.columns_right == 5
    assert next(c for c in score.misses() if c.header == "CHART").proposed == "<absent>"


def test_the_truths_answer_is_a_column_entry_staging_reads_as_the_truth_says():
    patients, providers = TRUTH["files"]
    assert truth_column(patients, "PT_NAME") == {"source": "PT_NAME", "column": ["first_name", "last_name"],
                                                 "parse": "name", "format": "last_first"}
    assert truth_column(patients, "EMAIL_OPT_OUT") == {"source": "EMAIL_OPT_OUT", "column": "email_opt_out",
                                                       "parse": "boolean"}
    assert truth_column(providers, "ACTIVE_YN")["values"] == {"true": "active", "false": "inactive"}
    assert truth_column(patients, "CHART") == {"source": "CHART", "column": None}
    # every answer scores right and the whole map passes the source map's own checks
    doc = source_map.new_source_map("x", {f["entity"]: {"file": f["file"], "key": f["key"], "columns": [
        {**truth_column(f, h), "confidence": 1.0} for h in f["columns"]]} for f in TRUTH["files"]})
    source_map.check(doc, "x.yml")
    assert score_source_map(doc, TRUTH).column_share == 1.0


def test_boolean_text_reads_what_the_parse_rule_reads():
    assert [boolean_text(v) for v in ("Y", "nein", " T ", "Ja", "maybe")] == ["true", "false", "true", "true",
                                                                            "maybe"]


def test_value_maps_are_scored_on_the_vendor_values_the_export_holds(tmp_path):
    # a layout's map may name codes a file never writes: with `seen`, only the written ones count
    (tmp_path / "Pat.csv").write_text("PT_ID;SEX\n1;männlich\n2; männlich \n", encoding="cp1252")
    (tmp_path / "Staff.csv").write_text("ID,ACTIVE_YN\n1,Y\n", encoding="utf-8")
    truth = copy.deepcopy(TRUTH)
    truth["files"][0].update(delimiter=";", encoding="cp1252")
    seen = vendor_values(tmp_path, truth)
    assert seen[("Pat.csv", "SEX")] == {"männlich"} and seen[("Staff.csv", "ACTIVE_YN")] == {"Y"}
    assert ("Pat.csv", "PT_ID") not in seen  # no value map in the truth: not read
    doc = copy.deepcopy(RIGHT)
    _column(doc, "patients", "SEX")["values"] = {"männlich": "M"}
    assert score_source_map(doc, truth).columns_right == 7
    seen[("Pat.csv", "EMAIL_OPT_OUT")] = set()
    assert score_source_map(doc, truth, seen).columns_right == 8
    _column(doc, "patients", "SEX")["values"] = {"weiblich": "F"}
    assert score_source_map(doc, truth, seen).misses()[0].miss == "value map misreads 1 of 1 vendor values"
