"""How well a vendor's header or file name reads as a clinic column or entity, for the source-map
proposal (source_propose.py): the header is compared with the column's words (header_words.py:
English, abbreviations, German, Spanish), as written, abbreviations expanded, and without a
leading word naming its own entity."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from rapidfuzz import fuzz

from clinic2zoho.mapping.header_words import KEY_WORDS, column_words, entity_words, expanded, normal
from clinic2zoho.mapping.source_map import KEYS

_IDENTIFIER_WORDS = {"id", "ref", "reference", "no", "nr", "number", "num", "key", "code", "identifier"}


@lru_cache(maxsize=None)
def _stripped(form: str, entity: str) -> str:
    """The header without a leading word naming its own entity (`patient first name` → `first name`)."""
    own = {w for w in entity_words(entity) if " " not in w} | {"patient"} & set(entity_words(entity))
    tokens = form.split()
    while len(tokens) > 1 and tokens[0] in own:
        tokens = tokens[1:]
    return " ".join(tokens)


@lru_cache(maxsize=None)
def names_an_identifier(header: str) -> bool:
    """The header's last word says it holds an identifier (`clientRef`, `Person.Key`, `sessionNo`)."""
    words = normal(header).split()
    return bool(words) and words[-1] in _IDENTIFIER_WORDS


def name_score(header: str, entity: str, column: str) -> tuple[float, str]:
    """(similarity 0..1 of the header to the clinic column's words, the word it matched)."""
    h = normal(header)
    forms = {h: 1.0}
    forms.setdefault(expanded(h), 0.98)
    for form in list(forms):
        forms.setdefault(_stripped(form, entity), 0.95)
    words = column_words(entity, "full_name" if column == "full_name" else column)
    if column == KEYS.get(entity):
        words = words + KEY_WORDS
    best, best_word = 0.0, ""
    for form, weight in forms.items():
        if not form:
            continue
        compact = form.replace(" ", "")
        tokens = set(form.split())
        for word in words:
            if form == word:
                score = 1.0
            else:
                score = max(fuzz.ratio(form, word), fuzz.ratio(compact, word.replace(" ", ""))) / 100.0
                if len(compact) <= 6:  # one letter apart is another word when words are short (state, stadt)
                    score *= 0.9
                if " " in word and set(word.split()) <= tokens:  # `home phone number` holds `phone number`
                    score = max(score, 0.9)
            if score * weight > best:
                best, best_word = score * weight, word
    return best, best_word


def entity_name_score(relative: str, entity: str) -> tuple[float, str]:
    """(similarity 0..1 of a file's name, export words and digits left out, to the entity's words,
    the word it matched)."""
    stem = normal(Path(relative).stem)
    forms = {stem, expanded(stem)}
    tokens = " ".join(t for t in stem.split() if not t.isdigit() and t not in {"export", "list", "data", "report"})
    forms |= {tokens, expanded(tokens)}
    best, best_word = 0.0, ""
    for form in forms:
        if not form:
            continue
        for word in entity_words(entity):
            score = max(fuzz.ratio(form, word), fuzz.ratio(form.replace(" ", ""), word.replace(" ", ""))) / 100.0
            if word in form.split() or (" " in word and word in form):
                score = max(score, 0.9)
            if score > best:
                best, best_word = score, word
    return best, best_word
