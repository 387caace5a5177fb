"""Synthetic documents: many layouts per class, multilingual fake content, deterministic by seed.

A layout id fixes the structure (page size, fonts, block order, table style, logo, language); the
instance seed fixes the content. `generate(label, layout_id, instance)` returns a born-digital PDF
(with text layer) or, for photo/blank/noise kinds of `other`, a grey image.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

import numpy as np
import numpy.typing as npt
from faker import Faker

from doctriage_train.render import PAGE_SIZES, REFERENCE_DAY, Doc, Style
from doctriage_train.vocab import (
    EXTRA,
    FAKER_LOCALES,
    FIELDS,
    LETTER_GREETINGS,
    LETTER_OPENINGS,
    OTHER_EXTRA,
    OTHER_TITLES,
    TITLES,
)

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
AUTHORITIES = ("OMB No. 1545-0074", "Department of the Treasury", "Finanzamt", "DGFiP", "Agencia Tributaria")


@dataclass(frozen=True)
class Generated:
    pdf: bytes | None
    image: npt.NDArray[np.uint8] | None
    text: str
    genre: str


def seed_of(*parts: object) -> int:
    return zlib.crc32("/".join(map(str, parts)).encode())


@cache
def _faker(locale: str) -> Faker:
    return Faker(locale)


def faker_for(locale: str, seed: int) -> Faker:
    f = _faker(locale)
    f.seed_instance(seed)
    return f


def _lang(lr: random.Random) -> str:
    return lr.choices(["en", "de", "fr", "es"], weights=[55, 15, 15, 15])[0]


def _t(options: list[dict[str, str]], lr: random.Random, lang: str) -> str:
    return lr.choice(options)[lang]


def _date(f: Faker, lang: str) -> str:
    d = f.date_between_dates(REFERENCE_DAY.date() - timedelta(days=3 * 365), REFERENCE_DAY.date())
    return d.strftime("%m/%d/%Y") if lang == "en" and f.random.random() < 0.5 else d.strftime("%d.%m.%Y")


def _time(f: Faker) -> str:
    return f.time(end_datetime=REFERENCE_DAY)


def _items(f: Faker, r: random.Random, n: int) -> list[tuple[str, int, float]]:
    out = []
    for _ in range(n):
        name = " ".join(f.words(r.randint(1, 4))).capitalize()
        out.append((name, r.randint(1, 12), round(r.uniform(0.5, 400.0), 2)))
    return out


def _header(d: Doc, lr: random.Random, f: Faker, r: random.Random, title: str, company: str) -> float:
    m = d.s.margin
    d.bands()
    y = m
    logo_size = lr.uniform(8, 20)
    if d.s.align == "R":
        d.logo(m, y, logo_size, company, r)
        d.text(m, y, company, size=d.s.base * 1.3, bold=True, align="R")
    elif d.s.align == "C":
        d.logo(d.w / 2 - logo_size / 2, y, logo_size, company, r)
        y += logo_size + 1 if d.s.logo != "none" else 0
        d.text(m, y, company, size=d.s.base * 1.3, bold=True, align="C")
    else:
        d.logo(d.w - m - logo_size, y, logo_size, company, r)
        d.text(m, y, company, size=d.s.base * 1.3, bold=True)
    y += d.s.base * 0.6
    for line in f.address().split("\n")[:2]:
        y = d.text(m, y, line, size=d.s.base * 0.85, align=d.s.align)
    y = max(y, m + logo_size) + lr.uniform(3, 10)
    title = title.upper() if d.s.upper_titles else title
    if title:
        y = d.text(m, y, title, size=d.s.base * lr.uniform(1.4, 2.4), bold=True, align=lr.choice("LLCR")) + 2
    return y


def _footer(d: Doc, f: Faker, r: random.Random, lines: int) -> None:
    y = d.h - d.s.margin - lines * d.s.base * 0.5
    d.hline(y - 1)
    for _ in range(lines):
        y = d.text(d.s.margin, y, f"{f.company()} - {f.phone_number()} - {f.iban()}", size=d.s.base * 0.7, grey=90)


def _extras(d: Doc, f: Faker, r: random.Random, phrases: list[dict[str, str]], x: float, y: float, n: int) -> float:
    """`n` of `phrases` as "label: value" lines (short ones) or notes (long ones); returns the y below."""
    lang = d.s.lang
    for phrase in r.sample(phrases, min(n, len(phrases))):
        if y > d.h - d.s.margin - 12:
            break
        text = phrase[lang]
        if len(text) > 24 or r.random() < 0.25:
            y = d.text(x, y, text, size=d.s.base * 0.9, italic=r.random() < 0.3)
            continue
        value = r.choice(
            [str(r.randint(1000, 9_999_999)), _date(f, lang), f.company()[:28], d.money(r.uniform(1, 3000)), f.iban()]
        )
        y = d.text(x, y, f"{d.label(text.rstrip(':'))} {value}", size=d.s.base * 0.9)
    return y


def _page(lr: random.Random) -> tuple[float, float]:
    return PAGE_SIZES[lr.choices(["a4", "letter", "a5", "legal"], weights=[6, 3, 1, 1])[0]]


# ---- classes -----------------------------------------------------------------------------------


def _invoice_like(
    d: Doc,
    lr: random.Random,
    r: random.Random,
    f: Faker,
    title: str,
    fields: list[dict[str, str]],
    totals: bool,
    extra: list[dict[str, str]],
) -> list[str]:
    lang, m = d.s.lang, d.s.margin
    company = f.company()
    y = _header(d, lr, f, r, title, company)
    order = lr.sample(["addr", "kv"], 2)
    pairs = [
        (fl[lang], f"{r.randint(10000, 9999999)}" if i % 2 == 0 else _date(f, lang))
        for i, fl in enumerate(lr.sample(fields, lr.randint(3, min(6, len(fields)))))
    ]
    for block in order:
        if block == "addr":
            x = m if lr.random() < 0.6 else d.w / 2
            for line in [f.name(), *f.address().split("\n")]:
                y = d.text(x, y, line)
            y += 3
        else:
            y = d.kv(m if lr.random() < 0.5 else d.w / 2 - 5, y, d.w / 2, pairs, cols=1) + 2
    items = _items(f, r, r.randint(2, 14))
    heads = [
        ["Description", "Qty", "Unit price", "Amount"],
        ["Artikel", "Menge", "Preis", "Betrag"],
        ["Désignation", "Qté", "Prix unitaire", "Montant"],
        ["Concepto", "Cant.", "Precio", "Importe"],
    ]
    head = heads[["en", "de", "fr", "es"].index(lang)]
    ncol = lr.choice([2, 3, 4])
    head = [head[0], *head[4 - ncol + 1 :]]
    rows = [
        [n, str(q), d.money(p), d.money(q * p)][:1] + [str(q), d.money(p), d.money(q * p)][4 - ncol :]
        for n, q, p in items
    ]
    y = d.table(m, y + 2, d.w - 2 * m, head, rows) + 2
    if totals:
        sub = sum(q * p for _, q, p in items)
        tax = lr.choice([0.07, 0.19, 0.2, 0.21, 0.055])
        tot = [
            ("Subtotal" if lang == "en" else {"de": "Netto", "fr": "Total HT", "es": "Base imponible"}[lang], sub),
            ({"en": "VAT", "de": "MwSt", "fr": "TVA", "es": "IVA"}[lang] + f" {tax * 100:.0f}%", sub * tax),
            ({"en": "Total due", "de": "Gesamtbetrag", "fr": "Total TTC", "es": "Total"}[lang], sub * (1 + tax)),
        ]
        for k, v in tot:
            d.text(d.w / 2, y, k, bold=k == tot[-1][0])
            y = d.text(d.w / 2, y, d.money(v), align="R", w=d.w / 2 - m)
    y = _extras(d, f, r, extra, m if lr.random() < 0.6 else d.w / 2, y + 3, r.randint(1, 4))
    if lr.random() < 0.6:
        y = d.para(m, y + 4, d.w - 2 * m, f.paragraph(nb_sentences=r.randint(1, 3)), size=d.s.base * 0.85)
    if lr.random() < 0.4:
        d.qr(d.w - m - 22, d.h - m - 40, 20, r)
    _footer(d, f, r, lr.randint(0, 3))
    return [title, company]


def _receipt(lr: random.Random, r: random.Random, f: Faker, style: Style) -> Doc:
    n = r.randint(3, 25)
    width = lr.choice([58.0, 72.0, 80.0, 80.0])
    style.font = lr.choice(["courier", "courier", "helvetica"])
    style.base = lr.uniform(6.5, 8.5)
    style.margin = 3.0
    d = Doc(style, (width, 60 + n * 4.5 + lr.uniform(20, 60)))
    lang = style.lang
    y = 4.0
    if lr.random() < 0.5:
        d.logo(width / 2 - 6, y, 12, f.company(), r)
        y += 14
    y = d.text(2, y, f.company().upper(), bold=True, align="C", w=width - 4, size=style.base * 1.3)
    for line in f.address().split("\n"):
        y = d.text(2, y, line, align="C", w=width - 4)
    y = d.text(2, y, _t(TITLES["receipt"], lr, lang), align="C", w=width - 4, bold=True) + 1
    y = d.text(2, y, f"{_date(f, lang)} {_time(f)}  #{r.randint(1000, 99999)}", align="C", w=width - 4) + 1
    d.hline(y, 2, width - 2)
    total = 0.0
    for name, q, p in _items(f, r, n):
        total += q * p / 10
        d.text(2, y, f"{q} x {name[:22]}")
        y = d.text(2, y, d.money(q * p / 10), align="R", w=width - 4)
    d.hline(y + 0.5, 2, width - 2)
    y += 1.5
    for k in ("Subtotal", "Tax", "TOTAL", r.choice(["Cash", "Card"]), "Change"):
        lab = next(fl[lang] for fl in FIELDS["receipt"] if fl["en"] == k)
        d.text(2, y, lab, bold=k == "TOTAL", size=style.base * (1.3 if k == "TOTAL" else 1))
        y = d.text(2, y, d.money(total * r.uniform(0.05, 1.1)), align="R", w=width - 4, bold=k == "TOTAL")
    y = _extras(d, f, r, EXTRA["receipt"], 2, y + 1, r.randint(1, 5))
    if lr.random() < 0.6:
        d.barcode(8, y + 3, width - 16, 10, r)
        y += 15
    d.text(2, y + 2, _t(TITLES["receipt"], lr, lang)[:30], align="C", w=width - 4, italic=True)
    return d


def _bank_statement(d: Doc, lr: random.Random, r: random.Random, f: Faker) -> None:
    lang, m = d.s.lang, d.s.margin
    fl = {x["en"]: x[lang] for x in FIELDS["bank_statement"]}
    y = _header(
        d,
        lr,
        f,
        r,
        _t(TITLES["bank_statement"], lr, lang),
        f.company() + " " + lr.choice(["Bank", "Bank", "Sparkasse", "Banque", "Banco", "Credit Union"]),
    )
    y = d.kv(
        m,
        y,
        d.w - 2 * m,
        [
            (fl["Account number"], f.iban()),
            (fl["Statement period"], f"{_date(f, lang)} - {_date(f, lang)}"),
            (fl["Sort code"], str(r.randint(100000, 999999))),
            ("BIC", f.swift()),
        ],
        cols=lr.choice([1, 2]),
    )
    bal = r.uniform(-500, 20000)
    y = d.kv(m, y + 2, d.w / 2, [(fl["Opening balance"], d.money(bal))]) + 2
    ncol = lr.choice([4, 5])
    head = [fl["Date"], fl["Description"], fl["Withdrawals"], fl["Deposits"], fl["Balance"]]
    if ncol == 4:
        head = [fl["Date"], fl["Description"], "+/-", fl["Balance"]]
    rows = []
    for _ in range(r.randint(6, 35)):
        amt = round(r.uniform(-900, 900) if r.random() < 0.8 else r.uniform(500, 4000), 2)
        bal += amt
        desc = r.choice(
            [f.company(), f.name(), "ATM " + f.city(), "SEPA " + f.company(), "Card " + f.company(), "Transfer"]
        )
        cells = [_date(f, lang), desc[:34]]
        cells += [d.money(-amt) if amt < 0 else "", d.money(amt) if amt >= 0 else ""] if ncol == 5 else [d.money(amt)]
        rows.append([" ".join(cells[:2]), *cells[2:], d.money(bal)])
    head = [" ".join(head[:2]), *head[2:]]
    y = d.table(m, y, d.w - 2 * m, head, rows)
    y = d.kv(m, y + 2, d.w / 2, [(fl["Closing balance"], d.money(bal))])
    _extras(d, f, r, EXTRA["bank_statement"], m, y + 2, r.randint(1, 4))
    _footer(d, f, r, lr.randint(0, 2))


def _payslip(d: Doc, lr: random.Random, r: random.Random, f: Faker) -> None:
    lang, m = d.s.lang, d.s.margin
    fl = {x["en"]: x[lang] for x in FIELDS["payslip"]}
    y = _header(d, lr, f, r, _t(TITLES["payslip"], lr, lang), f.company())
    y = d.kv(
        m,
        y,
        d.w - 2 * m,
        [
            (fl["Employee"], f.name()),
            (fl["Employee ID"], str(r.randint(1000, 99999))),
            (fl["Pay period"], _date(f, lang)),
            ("Position", f.job()[:30]),
        ],
        cols=lr.choice([1, 2]),
    )
    gross = r.uniform(1500, 9000)
    earn = [
        [fl["Basic salary"], d.money(gross * 0.85)],
        [fl["Overtime"], d.money(gross * 0.1)],
        ["Bonus", d.money(gross * 0.05)],
    ]
    ded = [
        [fl["Income tax"], d.money(gross * 0.18)],
        [fl["Social security"], d.money(gross * 0.1)],
        ["Pension", d.money(gross * 0.04)],
    ]
    head = lr.choice([[fl["Gross pay"], "Amount"], [fl["Deductions"], fl["Year to date"]]])
    if lr.random() < 0.5:
        y = d.table(
            m,
            y + 3,
            d.w - 2 * m,
            [head[0], "Rate", "Amount"],
            [[a, f"{r.uniform(5, 60):.2f}", b] for a, b in earn + ded],
        )
    else:
        y0 = y + 3
        y1 = d.table(m, y0, (d.w - 2 * m) / 2 - 2, [fl["Gross pay"], ""], earn)
        y2 = d.table(d.w / 2 + 2, y0, (d.w - 2 * m) / 2 - 2, [fl["Deductions"], ""], ded)
        y = max(y1, y2)
    y = d.kv(
        m if lr.random() < 0.5 else d.w / 2,
        y + 3,
        d.w / 2 - m,
        [(fl["Gross pay"], d.money(gross)), (fl["Net pay"], d.money(gross * 0.68))],
    )
    y = _extras(d, f, r, EXTRA["payslip"], m, y + 2, r.randint(1, 4))
    if lr.random() < 0.5:
        d.box(m, y + 2, d.w - 2 * m, 12, fill=min(235, d.s.accent + 60))
        d.text(m + 2, y + 4, f"{fl['Net pay']}: {d.money(gross * 0.68)}  {f.iban()}", bold=True)
    _footer(d, f, r, lr.randint(0, 2))


def _mrz(f: Faker, r: random.Random, passport: bool) -> list[str]:
    sur, given = f.last_name().upper(), f.first_name().upper()
    name = f"{sur}<<{given}".replace(" ", "<")
    ctry = r.choice(["D<<", "FRA", "ESP", "GBR", "USA", "AUT", "ITA", "NLD"])
    digits = "".join(str(r.randint(0, 9)) for _ in range(40))
    if passport:
        return [
            f"P<{ctry}{name}".ljust(44, "<")[:44],
            f"{digits[:9]}{r.randint(0, 9)}{ctry}{digits[9:24]}".ljust(44, "<")[:44],
        ]
    return [
        f"ID{ctry}{digits[:9]}".ljust(30, "<")[:30],
        f"{digits[9:22]}{ctry}".ljust(30, "<")[:30],
        name.ljust(30, "<")[:30],
    ]


def _identity(lr: random.Random, r: random.Random, f: Faker, style: Style) -> Doc:
    kind = lr.choice(["card", "card", "passport", "licence", "permit"])
    size = {"card": (85.6, 54.0), "passport": (125.0, 88.0), "licence": (85.6, 54.0), "permit": (85.6, 54.0)}[kind]
    style.base = lr.uniform(4.5, 6.5) if size[0] < 100 else lr.uniform(6, 8)
    style.margin = 3.0
    d = Doc(style, size)
    lang = style.lang
    fl = {x["en"]: x[lang] for x in FIELDS["identity_document"]}
    # guilloche-like background
    d.pdf.set_draw_color(min(230, style.accent + 60))
    for i in range(lr.randint(0, 25)):
        d.pdf.ellipse(size[0] * 0.3 + i, 5 + i * 0.5, size[0] * 0.6, size[1] * 0.7, style="D")
    d.pdf.set_draw_color(0)
    if lr.random() < 0.7:
        d.box(0, 0, size[0], size[1] * 0.16, fill=style.accent, border=False)
    title = {
        "card": TITLES["identity_document"][0],
        "passport": TITLES["identity_document"][1],
        "licence": TITLES["identity_document"][2],
        "permit": TITLES["identity_document"][3],
    }[kind]
    d.text(
        3,
        1.5,
        title[lang] + (" / " + title["en"] if lang != "en" and lr.random() < 0.6 else ""),
        bold=True,
        size=style.base * 1.2,
        grey=255 if lr.random() < 0.7 else 0,
    )
    px = 3.0 if lr.random() < 0.8 else size[0] - 30
    ph = size[1] * 0.55
    d.box(px, size[1] * 0.2, ph * 0.78, ph, fill=lr.randrange(120, 220))
    d.pdf.set_fill_color(lr.randrange(40, 110))
    d.pdf.ellipse(px + ph * 0.22, size[1] * 0.2 + ph * 0.12, ph * 0.34, ph * 0.42, style="F")
    d.pdf.ellipse(px + ph * 0.07, size[1] * 0.2 + ph * 0.58, ph * 0.64, ph * 0.6, style="F")
    d.box(px - 0.1, size[1] * 0.2 + ph, ph * 0.8, 2, fill=255, border=False)
    x = px + ph * 0.85 if px < 10 else 3
    y = size[1] * 0.2
    keys = [
        "Surname",
        "Given names",
        "Date of birth",
        "Nationality",
        "Sex",
        "Document No.",
        "Date of expiry",
        "Place of birth",
    ]
    for k in keys[: lr.randint(5, 8)]:
        d.text(x, y, fl[k], size=style.base * 0.7, grey=80)
        val = {
            "Surname": f.last_name().upper(),
            "Given names": f.first_name().upper(),
            "Sex": r.choice("MF"),
            "Nationality": r.choice(["DEUTSCH", "FRA", "ESP", "BRITISH CITIZEN", "USA"]),
            "Place of birth": f.city().upper(),
            "Document No.": f"{r.choice('CLTFX')}{r.randint(10000000, 99999999)}",
        }.get(k, _date(f, lang))
        y = d.text(x, y + style.base * 0.25, val, size=style.base, bold=True) - 0.3
    d.scribble(x, size[1] * 0.72, 20, 4, r)
    if kind in ("passport", "card", "permit") and lr.random() < 0.85:
        lines = _mrz(f, r, kind == "passport")
        my = size[1] - 3 - len(lines) * 3.6
        d.box(0, my - 1, size[0], size[1] - my + 1, fill=248, border=False)
        for line in lines:
            my = d.text(
                2, my, line, size=style.base * 1.35 if kind == "passport" else style.base * 1.15, family="courier"
            )
    return d


def _utility(d: Doc, lr: random.Random, r: random.Random, f: Faker) -> None:
    lang, m = d.s.lang, d.s.margin
    fl = {x["en"]: x[lang] for x in FIELDS["utility_bill"]}
    provider = (
        f.company()
        + " "
        + lr.choice(["Energy", "Power", "Stadtwerke", "Energie", "Telecom", "Mobile", "Water", "Gas", "Aguas", "Fibre"])
    )
    y = _header(d, lr, f, r, _t(TITLES["utility_bill"], lr, lang), provider)
    for line in [f.name(), *f.address().split("\n")]:
        y = d.text(m, y, line)
    y = d.kv(
        m,
        y + 3,
        d.w - 2 * m,
        [
            (fl["Account number"], str(r.randint(10**7, 10**9))),
            (fl["Billing period"], f"{_date(f, lang)} - {_date(f, lang)}"),
            (fl["Tariff"], lr.choice(["Basic", "Öko Strom", "Flex", "Tarif Bleu", "Fibra 600"])),
            (fl["Direct debit"], f.iban()),
        ],
        cols=lr.choice([1, 2]),
    )
    due = r.uniform(20, 600)
    if lr.random() < 0.6:
        d.box(m, y + 2, d.w - 2 * m, 14, fill=min(235, d.s.accent + 70))
        d.text(m + 3, y + 5, f"{fl['Amount due']}: {d.money(due)}", size=d.s.base * 1.4, bold=True)
        y += 18
    unit = lr.choice(["kWh", "m3", "GB", "min", "kWh"])
    rows = [
        [fl["Meter reading"], f"{r.randint(1000, 99999)} {unit}"],
        [fl["Consumption"], f"{r.randint(50, 3000)} {unit}"],
        [fl["Standing charge"], d.money(r.uniform(5, 40))],
        [fl["Unit rate"], d.money(r.uniform(0.1, 0.5))],
        [fl["Amount due"], d.money(due)],
    ]
    y = d.table(m, y + 2, d.w - 2 * m, ["", ""], rows)
    if lr.random() < 0.6:  # consumption chart
        base = y + 25
        for i in range(12):
            hh = r.uniform(3, 20)
            d.box(m + i * 7, base - hh, 5, hh, fill=d.s.accent, border=False)
        y = base + 3
    _extras(d, f, r, EXTRA["utility_bill"], m, y + 3, r.randint(1, 4))
    if lr.random() < 0.5:
        d.barcode(m, d.h - m - 30, 60, 12, r)
    _footer(d, f, r, lr.randint(1, 3))


def _tax_form(d: Doc, lr: random.Random, r: random.Random, f: Faker) -> None:
    lang, m = d.s.lang, d.s.margin
    fl = [x[lang] for x in FIELDS["tax_form"]]
    title = _t(TITLES["tax_form"], lr, lang)
    y = m
    d.bands()
    if lr.random() < 0.6:
        d.box(m, y, d.w - 2 * m, 16, fill=None)
        d.text(m + 2, y + 1, title, size=d.s.base * 1.4, bold=True)
        d.text(
            m + 2,
            y + 8,
            f"{lr.choice(AUTHORITIES)} {r.randint(2018, 2025)}",
            size=d.s.base * 0.8,
        )
        y += 19
    else:
        y = d.text(m, y, title, size=d.s.base * 1.8, bold=True, align=lr.choice("LC")) + 3
    lh = d.s.base * 0.3528 * 2.2
    n = 0
    while y < d.h - m - 20:
        n += 1
        kind = lr.choice(["line", "line", "boxes", "check", "section"])
        if kind == "section":
            d.box(m, y, d.w - 2 * m, lh, fill=min(225, d.s.accent + 40), border=False)
            y = d.text(m + 1, y + 0.5, f"Part {n} " + r.choice(fl), bold=True) + 2
            continue
        label = f"{n} {r.choice(fl) if r.random() < 0.75 else r.choice(EXTRA['tax_form'])[lang]}"
        d.text(m, y, label[:60], size=d.s.base * 0.85)
        if kind == "line":
            d.box(d.w - m - 45, y - 0.5, 45, lh * 0.8)
            if r.random() < 0.6:
                d.text(d.w - m - 44, y, d.money(r.uniform(0, 90000)).split(" ")[0], family="courier")
        elif kind == "boxes":
            for i in range(11):
                d.box(d.w - m - 60 + i * 5.4, y - 0.5, 5, lh * 0.8)
        else:
            for i in range(3):
                d.box(d.w - m - 60 + i * 20, y, 3, 3)
                d.text(
                    d.w - m - 56 + i * 20,
                    y - 0.5,
                    r.choice(["Yes", "No", "Ja", "Nein", "Oui", "Non", "Sí"]),
                    size=d.s.base * 0.7,
                )
        y += lh
    d.scribble(m + 10, d.h - m - 12, 40, 6, r)
    d.text(m, d.h - m - 5, fl[6], size=d.s.base * 0.8)


def _letter(d: Doc, lr: random.Random, r: random.Random, f: Faker) -> None:
    lang, m = d.s.lang, d.s.margin
    fl = {x["en"]: x[lang] for x in FIELDS["letter"]}
    d.bands()
    y = m
    if lr.random() < 0.7:
        y = _header(d, lr, f, r, "", f.company())
    addr_x = m if lr.random() < 0.7 else d.w / 2
    for line in [f.name(), *f.address().split("\n")]:
        y = d.text(addr_x, y, line)
    y = d.text(m, y + 6, f"{f.city()}, {_date(f, lang)}", align=lr.choice("LR")) + 4
    subject = _t(TITLES["letter"], lr, lang)
    y = d.text(m, y, f"{subject} {f.sentence(nb_words=r.randint(3, 8))}".strip(), bold=True) + 3
    salutation = lr.random()
    if salutation < 0.6:
        y = d.text(m, y, fl["Dear"] + (f" {f.name()}," if lang in ("en", "es") else "")) + 2
    elif salutation < 0.85:
        y = d.text(m, y, _t(LETTER_GREETINGS, lr, lang)) + 2
    opening = _t(LETTER_OPENINGS, r, lang) + " " if r.random() < 0.7 else ""
    for i in range(r.randint(2, 6)):
        if y > d.h - m - 40:
            break
        body = (opening if i == 0 else "") + f.paragraph(nb_sentences=r.randint(2, 6))
        y = d.para(m, y, d.w - 2 * m, body, align=lr.choice("LJ")) + 2
    closings = [fl["Sincerely"], fl["Yours faithfully"], EXTRA["letter"][0][lang], EXTRA["letter"][1][lang]]
    y = d.text(m, y + 3, r.choice(closings))
    d.scribble(m, y + 2, 35, 7, r)
    y = d.text(m, y + 11, f.name())
    if r.random() < 0.4:
        _extras(d, f, r, EXTRA["letter"][2:], m, y + 4, r.randint(1, 2))
    if lr.random() < 0.4:
        _footer(d, f, r, 1)


# ---- other ------------------------------------------------------------------------------------


def _other(genre: str, d: Doc, lr: random.Random, r: random.Random, f: Faker) -> None:
    lang, m = d.s.lang, d.s.margin
    if genre in ("credit_note", "delivery_note", "quotation", "purchase_order", "order_confirmation"):
        _invoice_like(
            d,
            lr,
            r,
            f,
            OTHER_TITLES[genre][0][lang],
            FIELDS["invoice"][3:] + FIELDS["invoice"][:2],
            totals=genre != "delivery_note",
            extra=OTHER_EXTRA[genre] * 2 + EXTRA["invoice"][:8],
        )
        return
    title = OTHER_TITLES[genre][0][lang] if genre in OTHER_TITLES else f.catch_phrase()
    if genre in ("price_list", "menu", "timetable"):
        y = _header(d, lr, f, r, title, f.company())
        for _ in range(r.randint(1, 4)):
            y = d.text(m, y + 2, f.word().capitalize(), bold=True, size=d.s.base * 1.3)
            rows = [
                [
                    " ".join(f.words(r.randint(2, 5))),
                    _time(f)[:5] if genre == "timetable" else d.money(r.uniform(1, 90)),
                ]
                for _ in range(r.randint(3, 9))
            ]
            y = d.table(m, y + 1, d.w - 2 * m, [f.word(), ""], rows)
            if y > d.h - 40:
                break
    elif genre == "visa":
        d.bands()
        d.box(m, m, d.w - 2 * m, d.h / 3, fill=235)
        d.text(
            m + 3,
            m + 3,
            title + " " + r.choice(["SCHENGEN", "UNITED STATES OF AMERICA", "TOURIST", "WORK"]),
            bold=True,
            size=d.s.base * 1.4,
        )
        d.kv(
            m + 40,
            m + 12,
            d.w - 2 * m - 45,
            [
                ("Type", r.choice("ABCD")),
                ("Entries", r.choice(["MULT", "1", "2"])),
                ("Valid from", _date(f, lang)),
                ("Until", _date(f, lang)),
                ("Name", f.name().upper()),
            ],
        )
        d.box(m + 3, m + 12, 30, 38, fill=170)
        for i, line in enumerate(_mrz(f, r, True)):
            d.text(m + 2, m + d.h / 3 - 12 + i * 5, line.replace("P<", "V<"), family="courier", size=d.s.base * 1.1)
    elif genre in ("form", "minutes", "contract", "certificate", "resume", "recipe"):
        y = _header(d, lr, f, r, title, f.company()) if genre != "certificate" else m + 30
        if genre == "certificate":
            d.box(m, m, d.w - 2 * m, d.h - 2 * m)
            d.box(m + 3, m + 3, d.w - 2 * m - 6, d.h - 2 * m - 6)
            y = d.text(m, y, title, size=d.s.base * 3, bold=True, align="C") + 10
            y = d.text(m, y, f.name(), size=d.s.base * 2, italic=True, align="C") + 8
            d.para(m + 20, y, d.w - 2 * m - 40, f.paragraph(nb_sentences=3), align="C")
            return
        while y < d.h - m - 30:
            if genre == "form" and r.random() < 0.6:
                d.text(m, y, f.word().capitalize() + ":")
                d.hline(y + 4, m + 35, d.w - m)
                y += 8
            elif genre == "recipe" and r.random() < 0.4:
                y = d.text(m + 4, y, f"- {r.randint(1, 500)} g {f.word()}") + 1
            elif genre == "resume" and r.random() < 0.3:
                y = d.text(m, y, f"{r.randint(1995, 2025)} - {f.job()[:40]}", bold=True)
            else:
                y = d.text(m, y, f.sentence(nb_words=3), bold=True)
                y = d.para(m, y, d.w - 2 * m, f.paragraph(nb_sentences=r.randint(2, 5))) + 3
    elif genre == "boarding_pass":
        d.box(m, m, d.w - 2 * m, 70, fill=250)
        d.text(m + 4, m + 3, title, bold=True, size=d.s.base * 1.5)
        d.kv(
            m + 4,
            m + 14,
            d.w - 2 * m - 50,
            [
                ("Name", f.name().upper()),
                ("From", f.city()),
                ("To", f.city()),
                ("Flight", f"{r.choice(['LH', 'AF', 'IB', 'BA'])}{r.randint(100, 9999)}"),
                ("Gate", r.choice("ABCDE") + str(r.randint(1, 60))),
                ("Seat", f"{r.randint(1, 40)}{r.choice('ABCDEF')}"),
            ],
        )
        d.qr(d.w - m - 40, m + 20, 34, r)
    elif genre == "slides":
        d.box(0, 0, d.w, d.h, fill=lr.choice([255, 250, 30, 60]), border=False)
        grey = 255 if d.s.accent < 128 and lr.random() < 0.5 else 0
        d.text(m, m + 5, f.catch_phrase(), size=d.s.base * 2.6, bold=True, grey=grey)
        y = m + 25
        for _ in range(r.randint(2, 6)):
            y = d.text(m + 5, y, "- " + f.sentence(nb_words=r.randint(3, 8)), size=d.s.base * 1.5, grey=grey) + 3
        if lr.random() < 0.5:
            for i in range(5):
                hh = r.uniform(10, 60)
                d.box(d.w / 2 + i * 12, d.h - m - hh, 9, hh, fill=d.s.accent, border=False)
    else:  # article
        y = d.text(m, m, title, size=d.s.base * 2.2, bold=True) + 2
        y = d.text(m, y, f"{f.name()} - {_date(f, lang)}", italic=True, grey=90) + 3
        cols = lr.choice([1, 2, 3])
        cw = (d.w - 2 * m - (cols - 1) * 5) / cols
        for c in range(cols):
            yy = y
            while yy < d.h - m - 30:
                yy = d.para(m + c * (cw + 5), yy, cw, f.paragraph(nb_sentences=r.randint(3, 7)), align="J") + 2
            if lr.random() < 0.3:
                d.box(m + c * (cw + 5), yy, cw, 25, fill=lr.randrange(60, 200))


def _raster_other(genre: str, r: random.Random, size: tuple[int, int]) -> npt.NDArray[np.uint8]:
    """Photos (blurred shapes and gradients), blank and noise pages, drawn straight as grey images."""
    h, w = size
    rng = np.random.default_rng(r.getrandbits(32))
    if genre == "blank":
        img = np.full((h, w), r.randint(200, 255), np.float32) + rng.normal(0, r.uniform(0, 6), (h, w))
    elif genre == "noise":
        small = rng.uniform(0, 255, (max(2, h // r.choice([1, 4, 16, 64])), max(2, w // r.choice([1, 4, 16, 64]))))
        img = np.asarray(_resize(small.astype(np.uint8), (h, w)), np.float32)
    else:
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        img = r.uniform(0, 255) + r.uniform(-1, 1) * xx * 255 / w + r.uniform(-1, 1) * yy * 255 / h
        for _ in range(r.randint(3, 25)):
            cy, cx, rad = r.uniform(0, h), r.uniform(0, w), r.uniform(5, max(h, w) / 3)
            mask = ((yy - cy) ** 2 + (xx - cx) ** 2) < rad**2
            img[mask] = img[mask] * 0.3 + r.uniform(0, 255) * 0.7
        img += rng.normal(0, 8, (h, w))
    return np.clip(img, 0, 255).astype(np.uint8)


def _resize(img: npt.NDArray[np.uint8], size: tuple[int, int]) -> npt.NDArray[np.uint8]:
    from PIL import Image

    return np.asarray(Image.fromarray(img).resize((size[1], size[0]), Image.Resampling.BILINEAR))


def generate(label: str, layout_id: int, instance: int, genre: str | None = None) -> Generated:
    """One document of `label` in layout `layout_id` (structure) with content `instance`."""
    lr = random.Random(seed_of("layout", label, layout_id))
    r = random.Random(seed_of("instance", label, layout_id, instance))
    lang = _lang(lr)
    locale = lr.choice(FAKER_LOCALES[lang])
    style = Style.draw(lr, lang, locale)
    f = faker_for(locale, seed_of("faker", label, layout_id, instance))
    if label == "other":
        genre = genre or lr.choice(OTHER_GENRES)
        if genre in ("photo", "blank", "noise"):
            hw = lr.choice([(800, 600), (600, 800), (700, 700), (842, 595)])
            return Generated(None, _raster_other(genre, r, hw), "", genre)
    size = _page(lr)
    if lr.random() < 0.1:
        size = (size[1], size[0])  # landscape
    d: Doc
    if label == "receipt":
        d = _receipt(lr, r, f, style)
    elif label == "identity_document":
        d = _identity(lr, r, f, style)
    else:
        d = Doc(style, size)
        if label == "invoice":
            _invoice_like(
                d, lr, r, f, _t(TITLES["invoice"], lr, lang), FIELDS["invoice"], totals=True, extra=EXTRA["invoice"]
            )
        elif label == "bank_statement":
            _bank_statement(d, lr, r, f)
        elif label == "payslip":
            _payslip(d, lr, r, f)
        elif label == "utility_bill":
            _utility(d, lr, r, f)
        elif label == "tax_form":
            _tax_form(d, lr, r, f)
        elif label == "letter":
            _letter(d, lr, r, f)
        else:
            _other(genre or "article", d, lr, r, f)
    return Generated(d.output(), None, "", genre or label)
