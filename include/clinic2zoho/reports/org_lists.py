"""The org's lists validation reads (records per module, the org-wide notes, the attachments of a
parent), each read page by page once and shared by its checks, with the credits and calls they
cost (the duplicate pass's go into the reconciliation).

A module several checks read (its external ids for the duplicate pass, its lookups and owner for
integrity, the summed fields for the control totals) is read once with every field they need
(`wide_reads`): a list call costs one credit and returns 200 records whatever fields it names, so
each check's own read of the same pages would only cost more calls."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from clinic2zoho.zoho.facts import FIELDS_PER_LIST

ID = "id"  # every listed record carries it, whatever the fields asked for
NOTE_FIELDS = ("Note_Title", "Parent_Id")  # what the org-wide list of notes is read with


def wide_reads(*needs: Mapping[str, Sequence[str]]) -> dict[str, tuple[str, ...]]:
    """module -> the fields of its one read: the fields each check needs, in the order given, as
    long as they fit one list call (FIELDS_PER_LIST); a check whose fields would not fit any more
    reads the module on its own."""
    merged: dict[str, dict[str, None]] = {}
    for need in needs:
        for module, fields in need.items():
            wider = {**merged.get(module, {}), **dict.fromkeys(f for f in fields if f != ID)}
            if len(wider) <= FIELDS_PER_LIST:
                merged[module] = wider
    return {module: tuple(fields) for module, fields in merged.items() if fields}


@dataclass
class OrgLists:
    """The org's lists validation reads, each read once, with the credits and calls they cost.
    `wide`: module -> the fields its one read carries (wide_reads); a read asking for some of them
    is served from it."""

    client: Any
    credits: int = 0
    calls: int = 0
    read: dict[str, int] = field(default_factory=dict)  # what was read: records per module, notes, lists
    wide: dict[str, tuple[str, ...]] = field(default_factory=dict)
    _records: dict[tuple, list[dict]] = field(default_factory=dict, repr=False)
    _attachments: dict[tuple[str, str], list[dict]] = field(default_factory=dict, repr=False)

    def _measured(self, fn):
        stats = getattr(self.client, "stats", None)
        before = dict(stats) if stats is not None else {}
        out = fn()
        after = dict(stats) if stats is not None else {}
        self.credits += after.get("credits", 0) - before.get("credits", 0)
        self.calls += sum(v - before.get(k, 0) for k, v in after.items() if k != "credits")
        return out

    def records(self, module: str, fields: list[str]) -> list[dict]:
        wide = self.wide.get(module)
        if wide and set(fields) - {ID} <= set(wide):
            fields = list(wide)
        key = (module, tuple(fields))
        if key not in self._records:
            self._records[key] = self._measured(lambda: list(self.client.iter_records(module, fields)))
            self.read[module] = len(self._records[key])
        return self._records[key]

    def notes(self) -> list[dict]:
        """The org-wide list of notes (GET /Notes), with their titles and parents."""
        return self.records("Notes", list(NOTE_FIELDS))

    def attachments(self, parent_module: str, parent_id: str) -> list[dict]:
        key = (parent_module, parent_id)
        if key not in self._attachments:
            self._attachments[key] = self._measured(lambda: self.client.attachments(parent_module, parent_id))
            self.read["attachment lists"] = len(self._attachments)
            self.read["Attachments"] = self.read.get("Attachments", 0) + len(self._attachments[key])
        return self._attachments[key]

    def cost(self) -> dict:
        return {"credits": self.credits, "calls": self.calls, "read": dict(self.read)}
