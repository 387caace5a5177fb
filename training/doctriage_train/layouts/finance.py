"""The money documents: invoices (and, with other titles and fields, the invoice-like genres of
`other`), receipts, bank statements, payslips and utility bills."""

from __future__ import annotations

import random

from faker import Faker

from doctriage_train.layouts.blocks import choose_text, date_text, extras, footer, header, line_items, time_text
from doctriage_train.render import Doc, Style
from doctriage_train.vocab import EXTRA, FIELDS, TITLES


def invoice_like(
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
    y = header(d, lr, f, r, title, company)
    order = lr.sample(["addr", "kv"], 2)
    pairs = [
        (fl[lang], f"{r.randint(10000, 9999999)}" if i % 2 == 0 else date_text(f, lang))
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
    items = line_items(f, r, r.randint(2, 14))
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
    y = extras(d, f, r, extra, m if lr.random() < 0.6 else d.w / 2, y + 3, r.randint(1, 4))
    if lr.random() < 0.6:
        y = d.para(m, y + 4, d.w - 2 * m, f.paragraph(nb_sentences=r.randint(1, 3)), size=d.s.base * 0.85)
    if lr.random() < 0.4:
        d.qr(d.w - m - 22, d.h - m - 40, 20, r)
    footer(d, f, r, lr.randint(0, 3))
    return [title, company]


def receipt(lr: random.Random, r: random.Random, f: Faker, style: Style) -> Doc:
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
    y = d.text(2, y, choose_text(TITLES["receipt"], lr, lang), align="C", w=width - 4, bold=True) + 1
    y = d.text(2, y, f"{date_text(f, lang)} {time_text(f)}  #{r.randint(1000, 99999)}", align="C", w=width - 4) + 1
    d.hline(y, 2, width - 2)
    total = 0.0
    for name, q, p in line_items(f, r, n):
        total += q * p / 10
        d.text(2, y, f"{q} x {name[:22]}")
        y = d.text(2, y, d.money(q * p / 10), align="R", w=width - 4)
    d.hline(y + 0.5, 2, width - 2)
    y += 1.5
    for k in ("Subtotal", "Tax", "TOTAL", r.choice(["Cash", "Card"]), "Change"):
        lab = next(fl[lang] for fl in FIELDS["receipt"] if fl["en"] == k)
        d.text(2, y, lab, bold=k == "TOTAL", size=style.base * (1.3 if k == "TOTAL" else 1))
        y = d.text(2, y, d.money(total * r.uniform(0.05, 1.1)), align="R", w=width - 4, bold=k == "TOTAL")
    y = extras(d, f, r, EXTRA["receipt"], 2, y + 1, r.randint(1, 5))
    if lr.random() < 0.6:
        d.barcode(8, y + 3, width - 16, 10, r)
        y += 15
    d.text(2, y + 2, choose_text(TITLES["receipt"], lr, lang)[:30], align="C", w=width - 4, italic=True)
    return d


def bank_statement(d: Doc, lr: random.Random, r: random.Random, f: Faker) -> None:
    lang, m = d.s.lang, d.s.margin
    fl = {x["en"]: x[lang] for x in FIELDS["bank_statement"]}
    y = header(
        d,
        lr,
        f,
        r,
        choose_text(TITLES["bank_statement"], lr, lang),
        f.company() + " " + lr.choice(["Bank", "Bank", "Sparkasse", "Banque", "Banco", "Credit Union"]),
    )
    y = d.kv(
        m,
        y,
        d.w - 2 * m,
        [
            (fl["Account number"], f.iban()),
            (fl["Statement period"], f"{date_text(f, lang)} - {date_text(f, lang)}"),
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
        cells = [date_text(f, lang), desc[:34]]
        cells += [d.money(-amt) if amt < 0 else "", d.money(amt) if amt >= 0 else ""] if ncol == 5 else [d.money(amt)]
        rows.append([" ".join(cells[:2]), *cells[2:], d.money(bal)])
    head = [" ".join(head[:2]), *head[2:]]
    y = d.table(m, y, d.w - 2 * m, head, rows)
    y = d.kv(m, y + 2, d.w / 2, [(fl["Closing balance"], d.money(bal))])
    extras(d, f, r, EXTRA["bank_statement"], m, y + 2, r.randint(1, 4))
    footer(d, f, r, lr.randint(0, 2))


def payslip(d: Doc, lr: random.Random, r: random.Random, f: Faker) -> None:
    lang, m = d.s.lang, d.s.margin
    fl = {x["en"]: x[lang] for x in FIELDS["payslip"]}
    y = header(d, lr, f, r, choose_text(TITLES["payslip"], lr, lang), f.company())
    y = d.kv(
        m,
        y,
        d.w - 2 * m,
        [
            (fl["Employee"], f.name()),
            (fl["Employee ID"], str(r.randint(1000, 99999))),
            (fl["Pay period"], date_text(f, lang)),
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
    y = extras(d, f, r, EXTRA["payslip"], m, y + 2, r.randint(1, 4))
    if lr.random() < 0.5:
        d.box(m, y + 2, d.w - 2 * m, 12, fill=min(235, d.s.accent + 60))
        d.text(m + 2, y + 4, f"{fl['Net pay']}: {d.money(gross * 0.68)}  {f.iban()}", bold=True)
    footer(d, f, r, lr.randint(0, 2))


def utility_bill(d: Doc, lr: random.Random, r: random.Random, f: Faker) -> None:
    lang, m = d.s.lang, d.s.margin
    fl = {x["en"]: x[lang] for x in FIELDS["utility_bill"]}
    provider = (
        f.company()
        + " "
        + lr.choice(["Energy", "Power", "Stadtwerke", "Energie", "Telecom", "Mobile", "Water", "Gas", "Aguas", "Fibre"])
    )
    y = header(d, lr, f, r, choose_text(TITLES["utility_bill"], lr, lang), provider)
    for line in [f.name(), *f.address().split("\n")]:
        y = d.text(m, y, line)
    y = d.kv(
        m,
        y + 3,
        d.w - 2 * m,
        [
            (fl["Account number"], str(r.randint(10**7, 10**9))),
            (fl["Billing period"], f"{date_text(f, lang)} - {date_text(f, lang)}"),
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
    extras(d, f, r, EXTRA["utility_bill"], m, y + 3, r.randint(1, 4))
    if lr.random() < 0.5:
        d.barcode(m, d.h - m - 30, 60, 12, r)
    footer(d, f, r, lr.randint(1, 3))
