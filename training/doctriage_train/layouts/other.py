"""The genres of `other` (generator.OTHER_GENRES, UNSEEN_GENRES): look-alikes of the target classes
(credit and delivery notes, quotations, purchase orders, order confirmations, price lists, visas),
unrelated pages (menus, forms, certificates, minutes, contracts, articles, slides, timetables), the
held-out types (CVs, boarding passes, recipes), and photos, blank and noise pages drawn as grey images."""

from __future__ import annotations

import random

import numpy as np
import numpy.typing as npt
from faker import Faker

from doctriage_train.layouts.blocks import date_text, header, mrz_lines, time_text
from doctriage_train.layouts.finance import invoice_like
from doctriage_train.render import Doc
from doctriage_train.vocab import EXTRA, FIELDS, OTHER_EXTRA, OTHER_TITLES


def other_page(genre: str, d: Doc, lr: random.Random, r: random.Random, f: Faker) -> None:
    lang, m = d.s.lang, d.s.margin
    if genre in ("credit_note", "delivery_note", "quotation", "purchase_order", "order_confirmation"):
        invoice_like(
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
        y = header(d, lr, f, r, title, f.company())
        for _ in range(r.randint(1, 4)):
            y = d.text(m, y + 2, f.word().capitalize(), bold=True, size=d.s.base * 1.3)
            rows = [
                [
                    " ".join(f.words(r.randint(2, 5))),
                    time_text(f)[:5] if genre == "timetable" else d.money(r.uniform(1, 90)),
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
                ("Valid from", date_text(f, lang)),
                ("Until", date_text(f, lang)),
                ("Name", f.name().upper()),
            ],
        )
        d.box(m + 3, m + 12, 30, 38, fill=170)
        for i, line in enumerate(mrz_lines(f, r, True)):
            d.text(m + 2, m + d.h / 3 - 12 + i * 5, line.replace("P<", "V<"), family="courier", size=d.s.base * 1.1)
    elif genre in ("form", "minutes", "contract", "certificate", "resume", "recipe"):
        y = header(d, lr, f, r, title, f.company()) if genre != "certificate" else m + 30
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
        y = d.text(m, y, f"{f.name()} - {date_text(f, lang)}", italic=True, grey=90) + 3
        cols = lr.choice([1, 2, 3])
        cw = (d.w - 2 * m - (cols - 1) * 5) / cols
        for c in range(cols):
            yy = y
            while yy < d.h - m - 30:
                yy = d.para(m + c * (cw + 5), yy, cw, f.paragraph(nb_sentences=r.randint(3, 7)), align="J") + 2
            if lr.random() < 0.3:
                d.box(m + c * (cw + 5), yy, cw, 25, fill=lr.randrange(60, 200))


def raster_page(genre: str, r: random.Random, size: tuple[int, int]) -> npt.NDArray[np.uint8]:
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
