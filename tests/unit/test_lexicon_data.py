"""Training's word lists are data (training/doctriage_train/data/*.toml): the keyword lexicon they
give is the one doc-classifier 2.4 ships, byte for byte."""

from __future__ import annotations

from pathlib import Path

from doctriage_train import lexicon, vocab

ROOT = Path(__file__).resolve().parents[2]


def test_the_lexicon_data_gives_the_shipped_lexicon(tmp_path: Path) -> None:
    lexicon.write(tmp_path / "lexicon.json")
    assert (tmp_path / "lexicon.json").read_bytes() == (ROOT / "models/doc-classifier/2.4/lexicon.json").read_bytes()


def test_every_group_has_names_and_every_phrase_every_language() -> None:
    assert all(g.names for g in (*lexicon.TARGET.values(), *lexicon.OUT_OF_SCOPE.values()))
    tables = (vocab.TITLES, vocab.FIELDS, vocab.OTHER_TITLES, vocab.EXTRA, vocab.OTHER_EXTRA)
    phrases = [p for t in tables for rows in t.values() for p in rows] + vocab.LETTER_OPENINGS + vocab.LETTER_GREETINGS
    assert phrases and all(tuple(p) == vocab.LANGS for p in phrases)
