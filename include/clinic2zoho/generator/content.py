"""Rich-text note bodies (HTML, RTF, plain text) and document files as clinics export them."""

from __future__ import annotations

import functools
from pathlib import Path

from clinic2zoho.generator import pools

_N_C = len(pools.COMPLAINTS)
_N_A = len(pools.ASSESSMENTS)
_N_P = len(pools.PLANS)


@functools.lru_cache(maxsize=1024)
def _rtf_escape(text: str) -> str:
    """RTF keeps 7-bit text; anything else is written as a cp1252 hex escape (\\'e9)."""
    out = []
    for ch in text:
        if ch in "\\{}":
            out.append("\\" + ch)
        elif ord(ch) < 128:
            out.append(ch)
        else:
            out.append("".join(f"\\'{b:02x}" for b in ch.encode("cp1252")))
    return "".join(out)


def _html_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def note_body(fmt: str, k: int, systolic: int, diastolic: int, pulse: int, paragraphs: int = 1) -> str:
    """One note; `k` picks the sentences, `paragraphs` > 1 repeats the visit sections (long notes)."""
    sections = []
    for p in range(paragraphs):
        c = pools.COMPLAINTS[(k + p) % _N_C]
        a = pools.ASSESSMENTS[(k + 3 * p) % _N_A]
        plan = pools.PLANS[(k + 7 * p) % _N_P]
        sections.append((c, a, plan))
    vitals = f"BP {systolic}/{diastolic} mmHg, pulse {pulse} bpm"
    if fmt == "html":
        parts = [f"<p><b>Vitals:</b> {vitals}</p>"]
        for c, a, plan in sections:
            parts.append(
                f"<p><b>Subjective:</b> {_html_escape(c)}</p>"
                f"<p><b>Assessment:</b> <i>{_html_escape(a)}</i></p>"
                f"<ul><li>{_html_escape(plan)}</li><li>Patient verbalised understanding.</li></ul>"
            )
        return "<div class=\"note\">" + "".join(parts) + "</div>"
    if fmt == "rtf":
        parts = [r"{\rtf1\ansi\ansicpg1252\deff0{\fonttbl{\f0\fswiss Arial;}}\f0\fs20 ",
                 r"\b Vitals:\b0  " + vitals + r"\par "]
        for c, a, plan in sections:
            parts.append(
                r"\b Subjective:\b0  " + _rtf_escape(c) + r"\par "
                r"\b Assessment:\b0  \i " + _rtf_escape(a) + r"\i0\par "
                r"\b Plan:\b0  " + _rtf_escape(plan) + r"\par "
            )
        parts.append("}")
        return "".join(parts)
    parts = [f"Vitals: {vitals}"]
    for c, a, plan in sections:
        parts.append(f"S: {c}\nA: {a}\nP: {plan}")
    return "\n\n".join(parts)


def long_note_body(fmt: str, k: int, min_chars: int) -> str:
    """A note longer than `min_chars` (Zoho truncates notes at 32,000 characters)."""
    paragraphs = 40
    while True:
        body = note_body(fmt, k, 128, 82, 71, paragraphs=paragraphs)
        if len(body) > min_chars:
            return body
        paragraphs *= 2


_MAGIC = {
    "application/pdf": b"%PDF-1.4\n% clinic2zoho generated document\n",
    "image/jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
    "image/png": b"\x89PNG\r\n\x1a\n",
    "image/tiff": b"II*\x00",
}


def write_document(path: Path, mime_type: str, size_bytes: int, label: str) -> None:
    """A file of exactly `size_bytes`: a real header, then a sparse tail (no disk used for it)."""
    head = _MAGIC.get(mime_type, b"") + label.encode("ascii", "replace") + b"\n"
    with open(path, "wb") as fh:
        fh.write(head[:size_bytes])
        fh.truncate(size_bytes)
