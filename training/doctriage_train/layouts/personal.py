"""A person's papers: identity documents (ID cards, passports, driving licences, residence permits,
with their MRZ), tax forms and letters."""

from __future__ import annotations

import random

from faker import Faker

from doctriage_train.layouts.blocks import choose_text, date_text, extras, footer, header, mrz_lines
from doctriage_train.render import Doc, Style
from doctriage_train.vocab import EXTRA, FIELDS, LETTER_GREETINGS, LETTER_OPENINGS, TITLES

AUTHORITIES = ("OMB No. 1545-0074", "Department of the Treasury", "Finanzamt", "DGFiP", "Agencia Tributaria")


def identity_document(lr: random.Random, r: random.Random, f: Faker, style: Style) -> Doc:
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
        }.get(k, date_text(f, lang))
        y = d.text(x, y + style.base * 0.25, val, size=style.base, bold=True) - 0.3
    d.scribble(x, size[1] * 0.72, 20, 4, r)
    if kind in ("passport", "card", "permit") and lr.random() < 0.85:
        lines = mrz_lines(f, r, kind == "passport")
        my = size[1] - 3 - len(lines) * 3.6
        d.box(0, my - 1, size[0], size[1] - my + 1, fill=248, border=False)
        for line in lines:
            my = d.text(
                2, my, line, size=style.base * 1.35 if kind == "passport" else style.base * 1.15, family="courier"
            )
    return d


def tax_form(d: Doc, lr: random.Random, r: random.Random, f: Faker) -> None:
    lang, m = d.s.lang, d.s.margin
    fl = [x[lang] for x in FIELDS["tax_form"]]
    title = choose_text(TITLES["tax_form"], lr, lang)
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


def letter(d: Doc, lr: random.Random, r: random.Random, f: Faker) -> None:
    lang, m = d.s.lang, d.s.margin
    fl = {x["en"]: x[lang] for x in FIELDS["letter"]}
    d.bands()
    y = m
    if lr.random() < 0.7:
        y = header(d, lr, f, r, "", f.company())
    addr_x = m if lr.random() < 0.7 else d.w / 2
    for line in [f.name(), *f.address().split("\n")]:
        y = d.text(addr_x, y, line)
    y = d.text(m, y + 6, f"{f.city()}, {date_text(f, lang)}", align=lr.choice("LR")) + 4
    subject = choose_text(TITLES["letter"], lr, lang)
    y = d.text(m, y, f"{subject} {f.sentence(nb_words=r.randint(3, 8))}".strip(), bold=True) + 3
    salutation = lr.random()
    if salutation < 0.6:
        y = d.text(m, y, fl["Dear"] + (f" {f.name()}," if lang in ("en", "es") else "")) + 2
    elif salutation < 0.85:
        y = d.text(m, y, choose_text(LETTER_GREETINGS, lr, lang)) + 2
    opening = choose_text(LETTER_OPENINGS, r, lang) + " " if r.random() < 0.7 else ""
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
        extras(d, f, r, EXTRA["letter"][2:], m, y + 4, r.randint(1, 2))
    if lr.random() < 0.4:
        footer(d, f, r, 1)
