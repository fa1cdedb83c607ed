"""A record's related lists: its related records, notes (added 100 a call, read back from the parent
by title after an unanswered call) and attachments (files and links uploaded, read back by name
after an unanswered upload; downloaded; deleted)."""

from __future__ import annotations

import mimetypes
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from clinic2zoho.zoho.client_base import API, ClientBase, chunks
from clinic2zoho.zoho.errors import ZohoAuthError, ZohoTerminalError, ZohoTransientError
from clinic2zoho.zoho.facts import PER_PAGE, RECORDS_PER_CALL, write_credits
from clinic2zoho.zoho.models import RecordResult
from clinic2zoho.zoho.transport import Call


class RelatedCalls(ClientBase):
    def related_records(self, module: str, record_id: str, related_list: str,
                        fields: Sequence[str]) -> list[dict[str, Any]]:
        """A record's related list (`GET /{module}/{id}/{related_list}`): its Calls, Events or the
        records of a custom module looking it up, 200 per page."""
        return self._related_pages(f"{API}/{module}/{record_id}/{related_list}",
                                   f"{API}/{module}/{{id}}/{related_list}", related_list, {"fields": ",".join(fields)})

    def _related_pages(self, path: str, template: str, module: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Every row of one record's related list, page by page ([] when the record is gone)."""
        out: list[dict[str, Any]] = []
        page = 1
        while True:
            body = self._json(Call("GET", path, template, module=module,
                                   params={**params, "page": page, "per_page": PER_PAGE}, not_found_ok=True))
            if not isinstance(body, dict):
                return out
            out.extend(body.get("data") or [])
            if not (body.get("info") or {}).get("more_records"):
                return out
            page += 1

    # -- notes and attachments ----------------------------------------------------------------
    def notes(self, module: str, record_id: str) -> list[dict[str, Any]]:
        return self.related_records(module, record_id, "Notes",
                                    ["Note_Title", "Note_Content", "Parent_Id", "Created_Time"])

    def add_notes(self, notes: Iterable[Mapping[str, Any]]) -> list[RecordResult]:
        """Insert notes (each with Note_Title, Note_Content and Parent_Id {module: {api_name}, id}).
        After an unanswered call, notes are read back from their parent by Note_Title (the loader
        puts the clinic note id in the title) and only the missing ones are resent."""
        results: list[RecordResult] = []
        offset = 0
        for chunk in chunks(notes, RECORDS_PER_CALL):
            results.extend(self._add_notes_chunk(chunk, offset))
            offset += len(chunk)
        return results

    def _add_notes_chunk(self, chunk: list[Mapping[str, Any]], offset: int) -> list[RecordResult]:
        path = f"{API}/Notes"

        def send(pending: list[int]) -> Any:
            return self._json(Call("POST", path, path, module="Notes", record_count=len(pending),
                                   credits=write_credits(len(pending)),
                                   json={"data": [dict(chunk[i]) for i in pending]}, idempotent=False,
                                   per_record=True))

        def found(pending: list[int], _: ZohoTransientError) -> dict[int, str]:
            parents: dict[tuple[str, str], dict[str, str]] = {}  # (module, id) -> title -> note id
            done: dict[int, str] = {}
            for i in pending:
                note = chunk[i]
                parent = note.get("Parent_Id") or {}
                pmod = ((parent.get("module") or {}).get("api_name")) or note.get("$se_module")
                pid, title = parent.get("id"), note.get("Note_Title")
                if not (pmod and pid and title):
                    raise ZohoTransientError("notes outcome unknown and a note lacks parent or title; not resent",
                                             method="POST", path=path, outcome_unknown=True) from None
                key = (str(pmod), str(pid))
                if key not in parents:
                    parents[key] = {str(n.get("Note_Title")): str(n["id"]) for n in self.notes(*key)}
                if parents[key].get(str(title)):
                    done[i] = parents[key][str(title)]
            return done

        def result_of(index: int, item: Mapping[str, Any], _: bool) -> RecordResult:
            return RecordResult.from_zoho(index, item)

        return self._per_record_chunk(len(chunk), offset, send, found, result_of, action="insert",
                                      what="insert Notes", method="POST", path=path)

    def attachments(self, module: str, record_id: str) -> list[dict[str, Any]]:
        return self._related_pages(f"{API}/{module}/{record_id}/Attachments", f"{API}/{module}/{{id}}/Attachments",
                                   module, {"fields": "id,File_Name,Size,Created_Time,$type,$link_url"})

    def upload_attachment(self, module: str, record_id: str, path: Path | str, file_name: str | None = None,
                          opener: Callable[[], BinaryIO] | None = None) -> RecordResult:
        """Attach a file to a record (multipart, streamed from disk). A refusal (e.g. 413, too
        large) comes back as a failed RecordResult; after an unanswered upload the record's
        attachments are checked by file name before sending again. `opener` opens the file for
        each attempt (default: `path` opened for reading); its errors reach the caller as raised."""
        path = Path(path)
        name = file_name or path.name
        mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
        label = f"{API}/{module}/{{id}}/Attachments"
        open_file = opener or (lambda: path.open("rb"))

        def files() -> dict[str, Any]:
            return {"file": (name, open_file(), mime)}

        call = Call("POST", f"{API}/{module}/{record_id}/Attachments", label, module=module, record_count=1,
                    files=files, idempotent=False, per_record=True)
        return self._attach(call, module, record_id, name, label)

    def link_attachment(self, module: str, record_id: str, url: str, title: str) -> RecordResult:
        """Attach a link to a record (Zoho's upload by `attachmentUrl`, form data; `title` names it
        in the record's attachments, as a file's name would). A refusal comes back as a failed
        RecordResult; after an unanswered call the record's attachments are checked by title
        before sending again, as for an upload."""
        label = f"{API}/{module}/{{id}}/Attachments"
        call = Call("POST", f"{API}/{module}/{record_id}/Attachments", label, module=module, record_count=1,
                    params={"title": title}, files=lambda: {"attachmentUrl": (None, url)}, idempotent=False,
                    per_record=True)
        return self._attach(call, module, record_id, title, label)

    def _attach(self, call: Call, module: str, record_id: str, name: str, label: str) -> RecordResult:
        """One attachment call (file or link), read back by `name` after an unanswered try."""
        for round_ in range(self.config.max_attempts):
            try:
                answer = self._json(call)
            except ZohoTransientError as exc:
                if not exc.outcome_unknown:
                    raise
                found = next((a for a in self.attachments(module, record_id) if a.get("File_Name") == name), None)
                if found is not None:
                    return RecordResult(0, True, "SUCCESS", id=str(found["id"]), action="insert",
                                        message="found after an unanswered upload",
                                        details={"id": str(found["id"]), "read_back": True})
                self._sleep(self._transport.backoff(round_))
                continue
            except ZohoAuthError:
                raise
            except ZohoTerminalError as exc:
                return RecordResult(0, False, exc.code or f"HTTP_{exc.status}", message=exc.message,
                                    details={"status": exc.status})
            items = (answer or {}).get("data") if isinstance(answer, dict) else None
            if not items:
                raise ZohoTerminalError("attachment answer holds no result", method="POST", path=label)
            return RecordResult.from_zoho(0, items[0])
        raise ZohoTransientError("attachment upload still unanswered after retries", method="POST", path=label,
                                 outcome_unknown=True)

    def download_attachment(self, module: str, record_id: str, attachment_id: str) -> bytes | None:
        """The content of one attachment (None when the record has no such attachment)."""
        response = self._transport.send(Call(
            "GET", f"{API}/{module}/{record_id}/Attachments/{attachment_id}",
            f"{API}/{module}/{{id}}/Attachments/{{attachment_id}}", module=module, not_found_ok=True))
        return response.content if response.status_code == 200 else None

    def delete_attachment(self, module: str, record_id: str, attachment_id: str) -> RecordResult:
        label = f"{API}/{module}/{{id}}/Attachments/{{attachment_id}}"
        answer = self._json(Call("DELETE", f"{API}/{module}/{record_id}/Attachments/{attachment_id}", label,
                                 module=module, record_count=1, per_record=True))
        items = (answer or {}).get("data") if isinstance(answer, dict) else None
        if not items:
            raise ZohoTerminalError("delete answer holds no result", method="DELETE", path=label)
        return RecordResult.from_zoho(0, items[0])
