"""Synthetic documents: many layouts per class, multilingual fake content, deterministic by seed.

A layout id fixes the structure (page size, fonts, block order, table style, logo, language); the
instance seed fixes the content. `generate(label, layout_id, instance)` returns a born-digital PDF
(with text layer) or, for photo/blank/noise kinds of `other`, a grey image.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from doctriage_train.layouts.blocks import choose_text, faker_for, language, page_size
from doctriage_train.layouts.finance import bank_statement, invoice_like, payslip, receipt, utility_bill
from doctriage_train.layouts.other import other_page, raster_page
from doctriage_train.layouts.personal import identity_document, letter, tax_form
from doctriage_train.render import Doc, Style
from doctriage_train.vocab import EXTRA, FAKER_LOCALES, FIELDS, TITLES

# Genres of `other`. UNSEEN ones never enter training or validation: they measure the OOD path.
OTHER_GENRES = (
    "credit_note",
    "delivery_note",
    "quotation",
    "purchase_order",
    "order_confirmation",
    "price_list",
    "visa",
    "menu",
    "form",
    "certificate",
    "minutes",
    "contract",
    "article",
    "slides",
    "photo",
    "blank",
    "noise",
    "timetable",
)
UNSEEN_GENRES = ("resume", "boarding_pass", "recipe")


@dataclass(frozen=True)
class Generated:
    pdf: bytes | None
    image: npt.NDArray[np.uint8] | None
    text: str
    genre: str


def seed_of(*parts: object) -> int:
    return zlib.crc32("/".join(map(str, parts)).encode())


def generate(label: str, layout_id: int, instance: int, genre: str | None = None) -> Generated:
    """One document of `label` in layout `layout_id` (structure) with content `instance`."""
    lr = random.Random(seed_of("layout", label, layout_id))
    r = random.Random(seed_of("instance", label, layout_id, instance))
    lang = language(lr)
    locale = lr.choice(FAKER_LOCALES[lang])
    style = Style.draw(lr, lang, locale)
    f = faker_for(locale, seed_of("faker", label, layout_id, instance))
    if label == "other":
        genre = genre or lr.choice(OTHER_GENRES)
        if genre in ("photo", "blank", "noise"):
            hw = lr.choice([(800, 600), (600, 800), (700, 700), (842, 595)])
            return Generated(None, raster_page(genre, r, hw), "", genre)
    size = page_size(lr)
    if lr.random() < 0.1:
        size = (size[1], size[0])  # landscape
    d: Doc
    if label == "receipt":
        d = receipt(lr, r, f, style)
    elif label == "identity_document":
        d = identity_document(lr, r, f, style)
    else:
        d = Doc(style, size)
        if label == "invoice":
            invoice_like(
                d,
                lr,
                r,
                f,
                choose_text(TITLES["invoice"], lr, lang),
                FIELDS["invoice"],
                totals=True,
                extra=EXTRA["invoice"],
            )
        elif label == "bank_statement":
            bank_statement(d, lr, r, f)
        elif label == "payslip":
            payslip(d, lr, r, f)
        elif label == "utility_bill":
            utility_bill(d, lr, r, f)
        elif label == "tax_form":
            tax_form(d, lr, r, f)
        elif label == "letter":
            letter(d, lr, r, f)
        else:
            other_page(genre or "article", d, lr, r, f)
    return Generated(d.output(), None, "", genre or label)
