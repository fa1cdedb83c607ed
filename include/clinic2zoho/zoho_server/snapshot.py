"""A snapshot of the org (GET /__admin/snapshot): its records without timestamps, its attachments
by content hash, its modules and fields, and a hash of each half, so a test can tell that a run
changed no data, or no schema."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .schema import TIMESTAMP_FIELDS
from .store import Store

SCHEMA_MODULE_KEYS = ("id", "api_name", "singular_label", "plural_label", "generated_type")
SCHEMA_FIELD_KEYS = ("id", "api_name", "field_label", "data_type", "length", "custom_field", "system_mandatory", "unique",
                     "external", "lookup", "pick_list_values", "subform_fields")


def canonical_hash(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()


def snapshot(store: Store) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for module, recs in store.records.items():
        if not recs:  # a module without records holds no data (its existence is schema)
            continue
        data[module] = {rid: {k: v for k, v in rec.items() if k not in TIMESTAMP_FIELDS} for rid, rec in recs.items()}
    attachments = {}
    for aid, module, rid, meta, content in store.conn.execute(
            "SELECT id, module, record_id, meta, content FROM attachments ORDER BY id"):
        m = json.loads(meta)
        attachments[aid] = {"module": module, "record_id": rid, "File_Name": m["File_Name"], "Size": m["Size"],
                            "sha256": hashlib.sha256(content).hexdigest() if content is not None else None,
                            "link_url": m.get("$link_url")}
    data["__attachments__"] = attachments
    schema = {api: {"module": {k: mod[k] for k in SCHEMA_MODULE_KEYS},
                    "fields": [{k: f.get(k) for k in SCHEMA_FIELD_KEYS} for f in store.fields[api]]}
              for api, mod in store.modules.items()}
    return {"data_hash": canonical_hash(data), "schema_hash": canonical_hash(schema), "data": data, "schema": schema}
