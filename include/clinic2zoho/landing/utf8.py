"""Is a file that is not valid UTF-8 throughout a UTF-8 file with a few bad bytes, or a cp1252 one?

Rule: a file with at least one well-formed multi-byte UTF-8 sequence is UTF-8 - its rows holding
invalid bytes are rejected (DuckDB's reader rejects them row by row) - and only a file with none is
read as cp1252. Decoding a UTF-8 file as cp1252 would garble every accented value ("María" ->
"MarÃ­a") without a single reject; rejecting a few rows of a cp1252 file is loud instead."""

from __future__ import annotations

import re
from pathlib import Path

CHUNK_BYTES = 4 << 20  # how much of a file landing reads at a time (one value for every reader)

# Well-formed UTF-8 multi-byte sequences exactly (Unicode Table 3-7: no overlong forms, no
# surrogates). The precise ranges matter: cp1252 text such as "é”" (E9 94) or "à€" (E0 80) fits a
# loose "lead byte + continuation bytes" pattern but not these.
_MULTIBYTE = re.compile(
    rb"[\xC2-\xDF][\x80-\xBF]"
    rb"|\xE0[\xA0-\xBF][\x80-\xBF]|[\xE1-\xEC\xEE\xEF][\x80-\xBF]{2}|\xED[\x80-\x9F][\x80-\xBF]"
    rb"|\xF0[\x90-\xBF][\x80-\xBF]{2}|[\xF1-\xF3][\x80-\xBF]{3}|\xF4[\x80-\x8F][\x80-\xBF]{2}")


def has_multibyte(data: bytes) -> bool:
    return _MULTIBYTE.search(data) is not None


def file_has_multibyte(path: Path, start: int = 0) -> bool:
    """Whether a well-formed multi-byte sequence occurs from byte `start` on (streamed, chunk by
    chunk; a sequence cut by a chunk boundary is found in the next chunk's overlap)."""
    tail = b""
    with path.open("rb") as handle:
        handle.seek(start)
        while chunk := handle.read(CHUNK_BYTES):
            data = tail + chunk
            if has_multibyte(data):
                return True
            tail = data[-3:]
    return False
