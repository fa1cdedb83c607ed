"""Cell values the entity writers share: the pools of day and time text (days counted from the
generator's epoch), datetimes, phone numbers, e-mail-safe names, a typo, a random pick of rows."""

from __future__ import annotations

import functools
import unicodedata

import numpy as np

from clinic2zoho.generator import pools

EPOCH_DAY0 = np.datetime64("1920-01-01", "D")
_DAYS = np.arange(EPOCH_DAY0, np.datetime64("2028-01-01", "D"))
DATE_POOL: list[str] = np.datetime_as_string(_DAYS, unit="D").tolist()
EXPORT_DAY = int((np.datetime64(pools.EXPORT_DATE, "D") - EPOCH_DAY0).astype(int))
LEGACY_DAY = int((np.datetime64("2018-01-01", "D") - EPOCH_DAY0).astype(int))
CRM_START_DAY = int((np.datetime64("2012-01-01", "D") - EPOCH_DAY0).astype(int))
TIME_POOL: list[str] = [f"{m // 60:02d}:{m % 60:02d}" for m in range(24 * 60)]


@functools.lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """An email-safe form of a name: accents stripped, lower case, letters only."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in ascii_text.lower() if ch.isalpha())


def typo(text: str, rng: np.random.Generator) -> str:
    """One keyboard slip: a dropped, doubled, swapped or replaced letter."""
    if len(text) < 3:
        return text + text[-1]
    i = int(rng.integers(1, len(text) - 1))
    op = int(rng.integers(0, 4))
    if op == 0:
        return text[:i] + text[i + 1:]
    if op == 1:
        return text[:i] + text[i] + text[i:]
    if op == 2:
        return text[:i - 1] + text[i] + text[i - 1] + text[i + 1:]
    letter = "aeiou"[int(rng.integers(0, 5))]
    return text[:i] + (letter if letter != text[i] else "y") + text[i + 1:]


def phone(area: int, exchange: int, line: int, style: int) -> str:
    a = pools.AREA_CODES[area]
    return (f"({a}) {exchange}-{line:04d}", f"{a}-{exchange}-{line:04d}",
            f"+1 {a} {exchange} {line:04d}", f"{a}{exchange}{line:04d}")[style]


def pick(rng: np.random.Generator, candidates: np.ndarray, k: int) -> np.ndarray:
    k = min(k, len(candidates))
    if k <= 0:
        return np.array([], dtype=np.int64)
    return np.sort(rng.choice(candidates, size=k, replace=False))


def datetimes(days: np.ndarray, minutes: np.ndarray) -> list[str]:
    dates = DATE_POOL
    times = TIME_POOL
    return [f"{dates[d]} {times[m]}:00" for d, m in zip(days.tolist(), minutes.tolist())]
