"""YAML documents read with libyaml's parser when PyYAML has it: the same documents as
`yaml.safe_load`, some ten times faster (the Zoho design file: 0.10 s -> 0.01 s; the models'
YAML files: 0.18 s -> 0.03 s), read again by every proposal, schema plan and diff.

A process also keeps the last documents it parsed, by their text: the three mapping files (63-90 KB
each) are read again by every proposal, confirmation, seed write and schema plan, and a copy from
the pickle of a parsed document costs far less than parsing it again (1.7 ms against 70 ms for the
three). Keyed by the text itself, an edited file is always parsed afresh."""

from __future__ import annotations

import functools
import pickle
from typing import Any

import yaml

SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> Any:
    """`yaml.safe_load(text)`; raises yaml.YAMLError as it does. Every call returns a document of
    its own (a caller may change it)."""
    return pickle.loads(_pickled(text))


@functools.lru_cache(maxsize=64)  # the project reads a few dozen YAML files
def _pickled(text: str) -> bytes:
    return pickle.dumps(yaml.load(text, Loader=SafeLoader), protocol=pickle.HIGHEST_PROTOCOL)
