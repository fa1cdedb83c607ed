"""Metadata: modules and fields read, custom modules and fields created (read back after an
unanswered call, never created twice), pick-list values added and removed, custom fields deleted."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from clinic2zoho.zoho.client_base import API, ClientBase
from clinic2zoho.zoho.errors import ZohoTerminalError, ZohoTransientError
from clinic2zoho.zoho.facts import CUSTOM_MODULE_CREDITS
from clinic2zoho.zoho.models import RecordResult
from clinic2zoho.zoho.transport import Call


class MetadataCalls(ClientBase):
    """Reads the org's profiles (OrgCalls.profiles) for a new module."""

    def modules(self) -> list[dict[str, Any]]:
        body = self._json(Call("GET", f"{API}/settings/modules", f"{API}/settings/modules")) or {}
        return body.get("modules") or []

    def fields(self, module: str) -> list[dict[str, Any]]:
        body = self._json(
            Call("GET", f"{API}/settings/fields", f"{API}/settings/fields", module=module, params={"module": module},
                 not_found_ok=True)
        ) or {}
        return body.get("fields") or []

    def field(self, module: str, api_name: str) -> dict[str, Any] | None:
        return next((f for f in self.fields(module) if f.get("api_name") == api_name), None)

    def create_module(
        self, singular_label: str, plural_label: str, api_name: str | None = None, profiles: list[dict] | None = None
    ) -> dict[str, Any]:
        """Create a custom module and return it as GET /settings/modules lists it. Zoho's v8
        "Create Custom Module" makes `profiles` mandatory: without `profiles`, every profile of
        the org gets the module (the providers who own its records must see them)."""
        spec: dict[str, Any] = {"singular_label": singular_label, "plural_label": plural_label}
        if api_name:
            spec["api_name"] = api_name
        if profiles is None:
            profiles = [{"id": str(p["id"])} for p in self.profiles() if p.get("id")]
        spec["profiles"] = profiles

        def find() -> dict[str, Any] | None:
            for m in self.modules():
                if (api_name and m.get("api_name") == api_name) or (
                    not api_name and m.get("plural_label") == plural_label
                ):
                    return m
            return None

        call = Call("POST", f"{API}/settings/modules", f"{API}/settings/modules", json={"modules": [spec]},
                    credits=CUSTOM_MODULE_CREDITS, idempotent=False, per_record=True)
        body = self._create_once(call, find)
        if isinstance(body, dict):
            self._raise_item_error(call, (body.get("modules") or [{}])[0])
        found = find()
        if found is None:
            raise ZohoTerminalError("module created but not listed", method="POST", path=call.label)
        return found

    def create_field(self, module: str, field_spec: dict[str, Any]) -> dict[str, Any]:
        """Create a custom field from Zoho's field JSON; return the field with its api_name
        (Zoho's create answer holds only the id, so the field is read back)."""
        label = field_spec.get("field_label")

        def find(field_id: str | None = None) -> dict[str, Any] | None:
            for f in self.fields(module):
                if (field_id and str(f.get("id")) == field_id) or (not field_id and label and f.get("field_label") == label):
                    return f
            return None

        call = Call("POST", f"{API}/settings/fields", f"{API}/settings/fields", module=module,
                    params={"module": module}, json={"fields": [field_spec]}, idempotent=False, per_record=True)
        body = self._create_once(call, find)
        field_id = None
        if isinstance(body, dict):
            item = (body.get("fields") or [{}])[0]
            self._raise_item_error(call, item)
            field_id = str((item.get("details") or {}).get("id") or "") or None
        found = find(field_id)
        if found is None:
            raise ZohoTerminalError("field created but not listed", method="POST", path=call.label)
        return found

    def add_picklist_values(self, module: str, field_api_name: str, values: Iterable[str]) -> dict[str, Any]:
        """Add the values a pick list lacks (those present are left alone); return the field."""
        wanted = list(dict.fromkeys(str(v) for v in values))

        def missing(field: dict[str, Any]) -> list[dict[str, Any]]:
            present = {_value(v) for v in field.get("pick_list_values") or []}
            return [{"display_value": v, "actual_value": v} for v in wanted if v not in present]

        return self._patch_picklist(module, field_api_name, missing, "pick-list values still missing after retries")

    def remove_picklist_values(self, module: str, field: str, values: Iterable[str]) -> dict[str, Any]:
        """Remove values from a pick list (PATCH /settings/fields/{id} with `{"id", "_delete": true}`
        per value, the `_delete` key of fields.json's pick_list_values); values not in the list are
        left alone, so a rerun after an unanswered call sends only what is still there. `field` is
        the api_name or id. Returns the field as it is afterwards."""
        unwanted = set(dict.fromkeys(str(v) for v in values))

        def present(found: dict[str, Any]) -> list[dict[str, Any]]:
            return [{"id": str(v["id"]), "_delete": True} for v in found.get("pick_list_values") or []
                    if _value(v) in unwanted and v.get("id")]

        return self._patch_picklist(module, field, present, "pick-list values still present after retries")

    def _patch_picklist(self, module: str, field: str, changes: Callable[[dict[str, Any]], list[dict[str, Any]]],
                        gave_up: str) -> dict[str, Any]:
        """Read the field, send the pick-list changes it still needs, until none is left: after an
        unanswered PATCH the field is read again, so only what did not land is sent again."""
        label = f"{API}/settings/fields/{{id}}"
        for round_ in range(self.config.max_attempts):
            found = self._find_field(module, field)
            if found is None:
                raise ZohoTerminalError(f"{module} has no field {field}", code="INVALID_FIELD")
            pending = changes(found)
            if not pending:
                return found
            if round_:
                self._sleep(self._transport.backoff(round_ - 1))
            call = Call("PATCH", f"{API}/settings/fields/{found['id']}", label, module=module,
                        params={"module": module}, idempotent=False, per_record=True,
                        json={"fields": [{"pick_list_values": pending}]})
            try:
                body = self._json(call)
            except ZohoTransientError as exc:
                if not exc.outcome_unknown:
                    raise
                continue
            if isinstance(body, dict):
                self._raise_item_error(call, (body.get("fields") or [{}])[0])
        raise ZohoTransientError(gave_up, method="PATCH", path=label)

    def delete_field(self, module: str, field_api_name_or_id: str) -> RecordResult:
        """Delete a custom field (DELETE /settings/fields/{id}?module=X; Zoho takes the id, so an
        api_name is looked up first). Zoho deletes the field's values on every record with it.
        A field already absent raises ZohoTerminalError code INVALID_FIELD; after an unanswered
        call the field is read back: gone means deleted."""
        found = self._find_field(module, field_api_name_or_id)
        if found is None:
            raise ZohoTerminalError(f"{module} has no field {field_api_name_or_id}", code="INVALID_FIELD")
        fid, api_name = str(found["id"]), str(found.get("api_name"))
        label = f"{API}/settings/fields/{{id}}"
        for round_ in range(self.config.max_attempts):
            call = Call("DELETE", f"{API}/settings/fields/{fid}", label, module=module, params={"module": module},
                        idempotent=False)
            try:
                body = self._json(call)
            except ZohoTransientError as exc:
                if not exc.outcome_unknown:
                    raise
                if self._find_field(module, fid) is None:
                    return RecordResult(0, True, "SUCCESS", id=fid, action="delete", api_name=api_name,
                                        message="gone after an unanswered delete", details={"id": fid, "read_back": True})
                self._sleep(self._transport.backoff(round_))
                continue
            item = ((body or {}).get("fields") or [{}])[0] if isinstance(body, dict) else {}
            self._raise_item_error(call, item)
            result = RecordResult.from_zoho(0, item)
            return RecordResult(**{**result.__dict__, "id": result.id or fid, "action": "delete", "api_name": api_name})
        raise ZohoTransientError("field delete still unanswered after retries", method="DELETE", path=label,
                                 outcome_unknown=True)

    def _find_field(self, module: str, field: str) -> dict[str, Any] | None:
        return next((f for f in self.fields(module) if field in (f.get("api_name"), str(f.get("id")))), None)


def _value(item: dict[str, Any]) -> str:
    """A pick-list value as the project names it: its actual value, else its display value."""
    return str(item.get("actual_value") or item.get("display_value"))
