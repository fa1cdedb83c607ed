"""One source row on its way to Zoho: what each load path (records, bulk, notes, attachments)
fills in, sends and journals of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Item:
    """One source row on its way to Zoho."""

    key: str
    row: dict
    operation: str = "insert"
    zoho_id: str | None = None
    before_image: dict | None = None
    parent_id: str | None = None
    payload: dict = field(default_factory=dict)
    last_code: str | None = None

    label: str | None = None
    parent_module: str | None = None
    file: Path | None = None  # attachments: the document's real path, checked inside the export folder
    url: str | None = None  # a document over the attachment limit: the web address attached as a link

    def intent(self) -> dict:
        return {"source_key": self.key, "operation": self.operation, "zoho_id": self.zoho_id,
                "before_image": self.before_image, "parent_id": self.parent_id, "label": self.label,
                "parent_module": self.parent_module}
