"""The `random:<seed>` vendor layout: drawn by its seed from pools of words the proposer was never
tuned on (none of its synonyms is a header word of mapping/header_words.py), written with a truth
the source-map scorer reads."""

from __future__ import annotations

import json

from clinic2zoho.generator import generate_export
from clinic2zoho.generator.layouts import random_layout, write_layout
from clinic2zoho.generator.vendor_vocabulary import RANDOM_SYNONYMS
from clinic2zoho.mapping.header_words import COLUMN_WORDS, expanded, normal
from clinic2zoho.mapping.source_accuracy import score_source_map, vendor_values
from clinic2zoho.mapping.source_propose import propose_source_map


def test_the_random_pool_holds_no_header_word():
    known = {normal(w) for words in COLUMN_WORDS.values() for w in words}
    known |= {normal(k.split(".")[-1]) for k in COLUMN_WORDS}
    clashes = [(c, w) for c, words in RANDOM_SYNONYMS.items() for w in words
               if normal(w) in known or expanded(normal(w)) in known]
    assert not clashes


def test_a_seed_draws_the_same_layout_and_another_seed_another(tmp_path):
    assert random_layout(3).headers == random_layout(3).headers
    assert random_layout(3).description == random_layout(3).description
    assert len({random_layout(s).description + repr(random_layout(s).headers) for s in range(1, 6)}) == 5
    generate_export(tmp_path / "gen", 60, seed=2, with_files=False)
    export = write_layout(tmp_path / "gen" / "export", "random:3", tmp_path / "r3")
    truth = json.loads((tmp_path / "r3" / "truth.json").read_text(encoding="utf-8"))
    assert truth["layout"] == "random:3" and not (export / "manifest.json").exists()
    score = score_source_map(propose_source_map(export), truth, vendor_values(export, truth))
    assert score.files_right == len(score.files) and len(score.columns) > 90
