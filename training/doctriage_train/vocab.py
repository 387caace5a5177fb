"""Multilingual words the generator puts on pages (en, de, fr, es): titles, field labels and sentences
per class. The words are data, in data/vocab.toml (one [en, de, fr, es] row per phrase); here they
become one {language: phrase} dict per phrase, in the file's order."""

from __future__ import annotations

import tomllib
from pathlib import Path

LANGS = ("en", "de", "fr", "es")
FAKER_LOCALES = {"en": ("en_US", "en_GB"), "de": ("de_DE",), "fr": ("fr_FR",), "es": ("es_ES",)}
DATA = Path(__file__).parent / "data" / "vocab.toml"

Phrase = dict[str, str]


def _phrases(where: str, rows: list[list[str]]) -> list[Phrase]:
    for row in rows:
        if len(row) != len(LANGS):
            raise ValueError(f"{DATA}: {where}: {row!r} is not one phrase per language {LANGS}")
    return [dict(zip(LANGS, row, strict=True)) for row in rows]


def _by_class(raw: dict[str, list[list[str]]], table: str) -> dict[str, list[Phrase]]:
    return {name: _phrases(f"{table}.{name}", rows) for name, rows in raw.items()}


_RAW = tomllib.loads(DATA.read_text(encoding="utf-8"))
TITLES = _by_class(_RAW["titles"], "titles")
FIELDS = _by_class(_RAW["fields"], "fields")
OTHER_TITLES = _by_class(_RAW["other_titles"], "other_titles")
EXTRA = _by_class(_RAW["extra"], "extra")  # the words types share (layouts.blocks.extras)
OTHER_EXTRA = _by_class(_RAW["other_extra"], "other_extra")
LETTER_OPENINGS = _phrases("letters.openings", _RAW["letters"]["openings"])
LETTER_GREETINGS = _phrases("letters.greetings", _RAW["letters"]["greetings"])
