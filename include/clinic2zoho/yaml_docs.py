"""YAML documents read with libyaml's parser when PyYAML has it: the same documents as
`yaml.safe_load`, some ten times faster (the Zoho design file: 0.10 s -> 0.01 s; the models'
YAML files: 0.18 s -> 0.03 s), read again by every proposal, schema plan and diff.

A process also keeps the last documents it parsed, by their text: the three mapping files (90 KB
each) are read again by every proposal, confirmation, seed write and schema plan, and a copy from
the pickle of a parsed document costs far less than parsing it again (2.5 ms against 68 ms for the
three). Keyed by the text itself, an edited file is always parsed afresh."""

from __future__ import annotations

import hashlib
import pickle
import threading
from collections import OrderedDict
from typing import Any

import yaml

SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_KEPT = 64  # documents: the project reads a few dozen YAML files
_parsed: OrderedDict[bytes, bytes] = OrderedDict()  # digest of the text -> the document, pickled
_lock = threading.Lock()


def safe_load(text: str) -> Any:
    """`yaml.safe_load(text)`; raises yaml.YAMLError as it does. Every call returns a document of
    its own (a caller may change it)."""
    key = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=20).digest()
    with _lock:
        kept = _parsed.get(key)
        if kept is not None:
            _parsed.move_to_end(key)
    if kept is None:
        document = yaml.load(text, Loader=SafeLoader)
        kept = pickle.dumps(document, protocol=pickle.HIGHEST_PROTOCOL)
        with _lock:
            _parsed[key] = kept
            while len(_parsed) > _KEPT:
                _parsed.popitem(last=False)
        return document
    return pickle.loads(kept)
