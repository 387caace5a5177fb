"""Keyword-lexicon features (sidecar.models.lexicon) against the shipped 2.4 lexicon and a small one."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sidecar.models.lexicon import GLOBAL_FEATURES, PER_GROUP, Lexicon, normalise

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "models" / "doc-classifier" / "2.4" / "lexicon.json"
SMALL = {
    "format": 1,
    "groups": {"invoice": ["invoice", "Rechnung", "facture n"], "invoice:fields": ["vat", "due date", "fällig"]},
    "mrz_patterns": [r"<<[A-Z<]{2,}"],
    "head_chars": 30,
}


def _value(lex: Lexicon, row: np.ndarray, name: str) -> float:
    return float(row[lex.feature_names.index(name)])


def test_normalise_folds_accents_umlauts_and_punctuation() -> None:
    assert normalise("Grüße, Échéance: FÄLLIG!") == "gruesse echeance faellig"
    assert normalise("Facture n° 12 — d'identité") == "facture n 12 d identite"
    assert normalise("  ") == ""


def test_counts_distinct_terms_and_the_title_area() -> None:
    lex = Lexicon(SMALL)
    assert lex.dim == 2 * len(PER_GROUP) + len(GLOBAL_FEATURES) == len(lex.feature_names)
    text = "RECHNUNG Nr. 7\n" + "filler " * 10 + "Invoice invoice VAT 19 %, due date: 01.02.2025 (fällig)"
    row = lex.features(text)
    assert _value(lex, row, "invoice/log_count") == pytest.approx(np.log1p(3))  # rechnung, invoice x2
    assert _value(lex, row, "invoice/log_distinct") == pytest.approx(np.log1p(2))
    assert _value(lex, row, "invoice/in_head") == 1.0  # "Rechnung" opens the page
    assert _value(lex, row, "invoice:fields/log_distinct") == pytest.approx(np.log1p(3))  # phrase "due date"
    assert _value(lex, row, "invoice:fields/in_head") == 0.0  # only after the first 30 characters
    assert 0 < _value(lex, row, "numeric_share") < 1
    # whole words only: "invoices" and "prevat" are not terms
    assert _value(lex, lex.features("invoices prevat"), "invoice/log_count") == 0.0


def test_no_text_is_a_zero_row_and_mrz_is_seen() -> None:
    lex = Lexicon(SMALL)
    assert not lex.features(None).any() and not lex.features("").any() and not lex.features(" .,; ").any()
    row = lex.features("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<")
    assert _value(lex, row, "has_mrz") == 1.0 and _value(lex, row, "log_mrz") > 0


def test_mrz_repair_counts_ocr_misread_zones_only_when_the_lexicon_asks() -> None:
    ocr = "IRGBRZU12345673<<<<<<<K KKK KKK\nSAMPLE<<SUSANNA<<<<<<KK KK KKK"
    spec = {**SMALL, "mrz_patterns": [r"[A-Z0-9<]{2}[A-Z<]{3}[A-Z0-9<]{20,39}"]}
    assert _value(Lexicon(spec), Lexicon(spec).features(ocr), "log_mrz") == 0.0  # what older models were trained on
    mended = Lexicon({**spec, "mrz_repair": True})
    assert _value(mended, mended.features(ocr), "log_mrz") == pytest.approx(np.log1p(2))


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="format"):
        Lexicon({**SMALL, "format": 2})


def test_the_shipped_lexicon_separates_types_by_their_names() -> None:
    lex = Lexicon.load(SHIPPED)
    assert json.loads(SHIPPED.read_text())["groups"]["out_of_scope"]  # the pool of every out-of-scope name
    samples = {
        "invoice": "Fattura n. 42 del 03/05/2025 — Partita IVA 01234567890, imponibile 100,00",
        "payslip": "Lohnabrechnung März 2025  Bruttobezüge 4.200,00  Lohnsteuer 612,00  Auszahlungsbetrag",
        "tax_form": "Form W-8BEN Certificate of Foreign Status  Department of the Treasury  OMB No. 1545-1621",
        "letter": "Sehr geehrte Damen und Herren, ... Mit freundlichen Grüßen",
        "other:purchase_order": "PURCHASE ORDER  PO Number 4500012345  Supplier: ACME  Ship via: UPS",
    }
    for group, text in samples.items():
        row = lex.features(text)
        names = [g for g in lex.groups if not g.endswith(":fields") and g != "out_of_scope"]
        counts = {g: _value(lex, row, f"{g}/log_count") for g in names}
        assert max(counts, key=counts.__getitem__) == group, (group, counts)
    assert _value(lex, lex.features("Curriculum Vitae — Work experience"), "out_of_scope/log_count") > 0
