"""The keyword lexicon of doc-classifier 2.4's text input: document-type vocabulary by group.

Hashed tokens and a sentence embedding trained on synthetic pages learn the generator's words; a real
invoice full of product names then reads as "unfamiliar", which on synthetic data means `other`. The
lexicon gives the model features that carry over: for each group, how many of its terms a page holds
(and whether one is in the title area). The model learns what a *group* means from the synthetic
pages, so a term the generator never prints (Italian "fattura", a W-8BEN, a "pay stub") counts like
the ones it does.

Every group has `names` (what the document type is called: titles, strong evidence) and `fields`
(its usual vocabulary: weak evidence, shared with other types). The out-of-scope genres (`other`)
also pool their names into one group, `out_of_scope`, so that document types never generated (held
out of training: CVs, boarding passes, recipes) still push towards `other`. Generic words that
real documents of every type carry ("signature", "method", "order no") stay out of the names.

The terms are data, in data/lexicon.toml (where they come from, how to write them); this module
reads them and gives the groups their feature order. Terms are matched on the normalised text
(sidecar.models.lexicon.normalise) as whole words; a term is a phrase of such words. `make models`
writes this into the model's lexicon.json.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import NamedTuple

DATA = Path(__file__).parent / "data" / "lexicon.toml"


class Group(NamedTuple):
    names: tuple[str, ...]
    fields: tuple[str, ...]


def _tables(path: Path = DATA) -> tuple[dict[str, Group], dict[str, Group]]:
    """(document types, out-of-scope genres) as the data file lists them, in its order."""
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    unknown = set(raw) - {"target", "other"}
    if unknown:
        raise ValueError(f"{path}: unknown tables {sorted(unknown)}")

    def group(where: str, spec: dict[str, list[str]]) -> Group:
        if set(spec) != {"names", "fields"}:
            raise ValueError(f"{path}: [{where}] needs exactly `names` and `fields`")
        return Group(names=tuple(spec["names"]), fields=tuple(spec["fields"]))

    target = {label: group(f"target.{label}", spec) for label, spec in raw["target"].items()}
    other = {label: group(f"other.{label}", spec) for label, spec in raw["other"].items()}
    return target, other


TARGET, OUT_OF_SCOPE = _tables()

# Machine-readable zones of passports and ID cards (matched on the raw text, upper case).
MRZ_PATTERNS: tuple[str, ...] = (
    r"[A-Z0-9<]{2}[A-Z<]{3}[A-Z0-9<]{20,39}",  # a full MRZ line: code, issuing state, fields
    r"<<[A-Z<]{2,}",  # name field separators
    r"\b(?:P|I|ID|IR|AC|V)<[A-Z]{3}",  # P<UTO, ID<D, I<FRA ...
)


def groups() -> dict[str, tuple[str, ...]]:
    """Every group in feature order: per target class its names, then its fields; per out-of-scope
    genre the same; last the pool of every out-of-scope name."""
    out: dict[str, tuple[str, ...]] = {}
    for prefix, table in (("", TARGET), ("other:", OUT_OF_SCOPE)):
        for label, group in table.items():
            out[f"{prefix}{label}"] = group.names
            out[f"{prefix}{label}:fields"] = group.fields
    out["out_of_scope"] = tuple(dict.fromkeys(t for g in OUT_OF_SCOPE.values() for t in g.names))
    return out


def as_json() -> dict[str, object]:
    """What lexicon.json holds (read by sidecar.models.lexicon.Lexicon)."""
    return {
        "format": 1,
        "source": "training/doctriage_train/lexicon.py",
        "groups": {k: list(v) for k, v in groups().items()},
        "mrz_patterns": list(MRZ_PATTERNS),
        "mrz_repair": True,
        "head_chars": 400,
    }


def write(path: Path) -> None:
    """`path` (a model's lexicon.json) as `make models` writes it."""
    path.write_text(json.dumps(as_json(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
