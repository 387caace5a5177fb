from pathlib import Path

import pytest

from sidecar.errors import InvalidRequest
from sidecar.pipeline.rules import (
    DocumentFacts,
    RuleBook,
    has_amount,
    has_date,
    has_iban,
    has_mrz,
    iban_is_valid,
    repair_mrz,
)

ROOT = Path(__file__).resolve().parents[2]

INVOICE = """ACME GmbH
INVOICE No. 2024-118   Date: 12.03.2024
Bill to: Example Ltd
Subtotal 1.200,00 EUR   VAT 228,00 EUR   Total 1.428,00 EUR
IBAN DE89 3704 0044 0532 0130 00
"""
MRZ = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10\n"


def test_presence_detectors() -> None:
    assert has_amount("Total 1,428.00 USD") and has_amount("€ 12") and not has_amount("page 3 of 4")
    assert has_date("12.03.2024") and has_date("2024-03-12") and has_date("12 March 2024") and not has_date("no date")
    assert iban_is_valid("DE89 3704 0044 0532 0130 00") and not iban_is_valid("DE89 3704 0044 0532 0130 01")
    assert has_iban(INVOICE) and not has_iban("DE00 1234 5678 9012 3456 78")
    assert has_mrz(MRZ) and not has_mrz(INVOICE)


def test_ocr_misread_mrz_fillers_are_mended() -> None:
    # A TD1 card's three 30-character lines as tesseract reads them: fillers as K, c and e, spaces inside.
    ocr = "IRGBRZU12345673<<<<<<<K KKK KKKK\n6608198F0808088GBR<<<<<<cccKcc2\nSAMPLE<<SUSANNA<<<<<<KK KK KKKKK"
    assert repair_mrz(ocr).splitlines() == [
        "IRGBRZU12345673" + "<" * 15,
        "6608198F0808088GBR" + "<" * 12 + "2",
        "SAMPLE<<SUSANNA" + "<" * 15,
    ]
    assert has_mrz(ocr) and not has_mrz(ocr.replace("<", "K"))
    # Ordinary text keeps its letters, even next to a `<`.
    for text in (INVOICE, "Dear Kim, we checked <each> item", "a < b and c << d"):
        assert repair_mrz(text) == text.rstrip("\n")


def test_shipped_rules_file_loads_and_accepts_a_real_looking_invoice() -> None:
    book = RuleBook.load(ROOT / "config" / "rules.toml")
    findings = book.evaluate("invoice", DocumentFacts(INVOICE, page_count=1, aspect=1.41))
    assert findings and all(f.passed for f in findings), findings
    bad = book.evaluate("invoice", DocumentFacts("CREDIT NOTE for invoice 12, total 10.00 EUR"))
    assert any(not f.passed and f.rule == "invoice.forbid" for f in bad)


@pytest.mark.parametrize(
    ("label", "text"),
    [
        ("letter", "Sehr geehrte Frau Weber,\nwir laden Sie ein ...\nMit freundlichen Grüßen"),
        ("letter", "Madame, Monsieur,\n... Veuillez agréer, Madame, Monsieur, nos salutations distinguées."),
        ("letter", "Estimado cliente: ... Atentamente,"),
        ("invoice", "FATTURA N. 118 del 12/03/2024  Totale 1.428,00 EUR"),
        ("receipt", "REWE Markt\nSUMME EUR 12,34\nBar 20,00"),
        ("bank_statement", "Kontoauszug Nr. 3 vom 01.03.2024  Saldo alt 1.200,00 EUR  01.02.2024"),
        ("payslip", "Entgeltabrechnung März 2024  Netto 2.345,67 EUR"),
        ("utility_bill", "Votre facture d'électricité  Montant à payer 84,20 €"),
        ("utility_bill", "Mobile plan, March: total due $29.99"),
        ("tax_form", "Einkommensteuererklärung 2023 – Anlage N"),
        ("identity_document", "BUNDESREPUBLIK DEUTSCHLAND PERSONALAUSWEIS"),
    ],
)
def test_shipped_rules_read_documents_in_several_languages(label: str, text: str) -> None:
    findings = RuleBook.load(ROOT / "config" / "rules.toml").evaluate(label, DocumentFacts(text, 1, 1.41))
    assert findings and all(f.passed for f in findings), findings


def test_missing_text_fails_text_rules() -> None:
    book = RuleBook.load(ROOT / "config" / "rules.toml")
    (finding,) = book.evaluate("invoice", DocumentFacts(None))
    assert not finding.passed and finding.rule == "invoice.text"


def test_page_aspect_and_metadata_checks() -> None:
    book = RuleBook.from_dict(
        {
            "labels": {
                "id": {
                    "max_pages": 2,
                    "min_aspect": 0.5,
                    "max_aspect": 0.8,
                    "metadata": [
                        {"key": "country", "one_of": ["DE", "FR"]},
                        {"key": "ref", "pattern": "[A-Z]{3}-\\d+", "required": False},
                    ],
                }
            }
        }
    )
    ok = book.evaluate("id", DocumentFacts(None, page_count=1, aspect=0.63, metadata={"country": "DE"}))
    assert all(f.passed for f in ok) and len(ok) == 4
    bad = book.evaluate("id", DocumentFacts(None, page_count=3, aspect=1.4, metadata={"country": "US", "ref": "x"}))
    assert [f.passed for f in bad] == [False, False, False, False]
    missing = book.evaluate("id", DocumentFacts(None, metadata={}))
    assert [f.rule for f in missing if not f.passed] == ["id.metadata.country"]


def test_rule_based_classification() -> None:
    book = RuleBook.load(ROOT / "config" / "rules.toml")
    result = book.classify(INVOICE)
    assert result is not None and result.label == "invoice" and 0 < result.confidence <= 1
    assert book.classify("Dear Sir, yours sincerely, kind regards") is not None
    assert book.classify("lorem ipsum") is None
    assert book.classify(None) is None


@pytest.mark.parametrize(
    "spec",
    [{"require": ["barcode"]}, {"require_any": ["("]}, {"unknown_key": 1}, {"require_all": "not a list"}],
)
def test_bad_rules_are_refused(spec: dict[str, object]) -> None:
    with pytest.raises(InvalidRequest):
        RuleBook.from_dict({"labels": {"invoice": spec}})
