"""What the layouts of every family share: a seeded Faker per locale, the layout's language, dates and
times drawn from `render.REFERENCE_DAY`, line items, the letterhead (`header`), the footer, extra
phrases of the wider vocabulary (`extras`), the page size and machine-readable-zone (MRZ) lines."""

from __future__ import annotations

import random
from datetime import timedelta
from functools import cache

from faker import Faker

from doctriage_train.render import PAGE_SIZES, REFERENCE_DAY, Doc


@cache
def _faker(locale: str) -> Faker:
    return Faker(locale)


def faker_for(locale: str, seed: int) -> Faker:
    f = _faker(locale)
    f.seed_instance(seed)
    return f


def language(lr: random.Random) -> str:
    return lr.choices(["en", "de", "fr", "es"], weights=[55, 15, 15, 15])[0]


def choose_text(options: list[dict[str, str]], lr: random.Random, lang: str) -> str:
    return lr.choice(options)[lang]


def date_text(f: Faker, lang: str) -> str:
    d = f.date_between_dates(REFERENCE_DAY.date() - timedelta(days=3 * 365), REFERENCE_DAY.date())
    return d.strftime("%m/%d/%Y") if lang == "en" and f.random.random() < 0.5 else d.strftime("%d.%m.%Y")


def time_text(f: Faker) -> str:
    return f.time(end_datetime=REFERENCE_DAY)


def line_items(f: Faker, r: random.Random, n: int) -> list[tuple[str, int, float]]:
    out = []
    for _ in range(n):
        name = " ".join(f.words(r.randint(1, 4))).capitalize()
        out.append((name, r.randint(1, 12), round(r.uniform(0.5, 400.0), 2)))
    return out


def header(d: Doc, lr: random.Random, f: Faker, r: random.Random, title: str, company: str) -> float:
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


def footer(d: Doc, f: Faker, r: random.Random, lines: int) -> None:
    y = d.h - d.s.margin - lines * d.s.base * 0.5
    d.hline(y - 1)
    for _ in range(lines):
        y = d.text(d.s.margin, y, f"{f.company()} - {f.phone_number()} - {f.iban()}", size=d.s.base * 0.7, grey=90)


def extras(d: Doc, f: Faker, r: random.Random, phrases: list[dict[str, str]], x: float, y: float, n: int) -> float:
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
            [
                str(r.randint(1000, 9_999_999)),
                date_text(f, lang),
                f.company()[:28],
                d.money(r.uniform(1, 3000)),
                f.iban(),
            ]
        )
        y = d.text(x, y, f"{d.label(text.rstrip(':'))} {value}", size=d.s.base * 0.9)
    return y


def page_size(lr: random.Random) -> tuple[float, float]:
    return PAGE_SIZES[lr.choices(["a4", "letter", "a5", "legal"], weights=[6, 3, 1, 1])[0]]


def mrz_lines(f: Faker, r: random.Random, passport: bool) -> list[str]:
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
