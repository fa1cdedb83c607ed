"""Plain text from the rich-text formats clinical notes come in (Zoho notes are plain text)."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

from striprtf.striprtf import rtf_to_text as _striprtf

_BLOCK_TAGS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table"}
_BLANK_RUNS = re.compile(r"\n{3,}")
_SPACE_RUNS = re.compile(r"[ \t\r\f\v]+")


class _TextCollector(HTMLParser):
    """Keeps the text of an HTML fragment; block elements become line breaks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style"}:
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"}:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _tidy(text: str) -> str:
    lines = [_SPACE_RUNS.sub(" ", line.replace("\xa0", " ")).strip() for line in text.split("\n")]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()


def html_to_text(value: str | None) -> str | None:
    if value is None:
        return None
    collector = _TextCollector()
    collector.feed(value)
    collector.close()
    return _tidy(html.unescape("".join(collector.parts)))


def rtf_to_text(value: str | None) -> str | None:
    if value is None:
        return None
    return _tidy(_striprtf(value, errors="ignore"))


def note_to_text(content: str | None, content_format: str | None) -> str | None:
    """The note's plain text, by its declared format (html, rtf, anything else = text)."""
    fmt = (content_format or "text").lower()
    if fmt == "html":
        return html_to_text(content)
    if fmt == "rtf":
        return rtf_to_text(content)
    return None if content is None else content.replace("\r\n", "\n").strip()
