"""Documents over Zoho's attachment limit: attached as a link (Zoho's upload by `attachmentUrl`)
to where the clinic keeps the file, titled with the file's name, so the record shows it among its
attachments like an uploaded one.

The address comes from the model's `url_column` (dbt builds it from var `document_url_base` and
the document's path in the export). Only a web address (http or https) is linked: a `file:` path
names the migration machine, not a place the clinic's staff can open. A document over the limit
with no such address is a reject naming what to set, never dropped."""

from __future__ import annotations

from urllib.parse import quote, urlsplit, urlunsplit

LINK = "link"  # journal path of a document attached as a link (uploads: "upload")
NO_URL = "DOCUMENT_URL_MISSING"


def web_url(value: object) -> str | None:
    """The http(s) address to link, its path percent-encoded (a file name may hold spaces); None
    when there is none or it is not a web address."""
    if value in (None, ""):
        return None
    parts = urlsplit(str(value).strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return urlunsplit((parts.scheme, parts.netloc, quote(parts.path, safe="/%"), parts.query, parts.fragment))


def no_url(key: str, size: int, limit: int, column: str | None) -> dict:
    """The reject of a document over the limit that has no web address to link (no path in it:
    a file name may hold a patient's name)."""
    return {"source_key": key, "code": NO_URL, "field": column,
            "message": f"document {key}: {size} bytes, over the attachment limit ({limit} bytes), and no web"
                       " address to link it by: set the dbt var document_url_base to where the clinic"
                       " publishes its documents, then rebuild and resume"}
