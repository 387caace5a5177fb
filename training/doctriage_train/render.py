"""Drawing primitives over fpdf2 with a per-layout style: born-digital PDFs with a real text layer.

Only the PDF core fonts (Helvetica, Times, Courier) are used, so output never depends on the
fonts installed on the machine; text is reduced to Latin-1 (the core fonts' encoding).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime

from fpdf import FPDF

# The day every generated document is dated from (and the PDFs' creation date), instead of the day
# `make models` runs: with Faker's "today"/"now" defaults the same seed drew other dates and times on
# another day, so pages, their text and the trained models changed with the calendar.
REFERENCE_DAY = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)

PAGE_SIZES = {"a4": (210.0, 297.0), "letter": (215.9, 279.4), "a5": (148.0, 210.0), "legal": (215.9, 355.6)}


def latin1(text: str) -> str:
    text = text.replace("€", "EUR").replace("—", "-").replace("–", "-").replace("’", "'").replace("œ", "oe")
    return text.encode("latin-1", "replace").decode("latin-1")


@dataclass
class Style:
    font: str
    base: float
    margin: float
    align: str  # header alignment L/C/R
    logo: str
    band: str
    upper_titles: bool
    table: str  # grid | hlines | zebra | plain | boxed
    accent: int  # grey level of fills and accents
    line: float  # line-height factor
    bold_labels: bool
    colon: bool
    decimal_comma: bool
    currency: str
    lang: str
    locale: str

    @classmethod
    def draw(cls, lr: random.Random, lang: str, locale: str) -> Style:
        return cls(
            font=lr.choices(["helvetica", "times", "courier"], weights=[5, 3, 2])[0],
            base=lr.uniform(7.5, 11.0),
            margin=lr.uniform(8.0, 25.0),
            align=lr.choice("LLCR"),
            logo=lr.choice(["none", "circle", "square", "initials", "bars", "triangle", "wordmark", "ring"]),
            band=lr.choice(["none", "none", "top", "side", "bottom", "frame"]),
            upper_titles=lr.random() < 0.5,
            table=lr.choice(["grid", "hlines", "zebra", "plain", "boxed"]),
            accent=lr.randrange(40, 215),
            line=lr.uniform(1.25, 1.8),
            bold_labels=lr.random() < 0.6,
            colon=lr.random() < 0.6,
            decimal_comma=lang in ("de", "fr", "es") and lr.random() < 0.85,
            currency={"en": lr.choice(["$", "GBP", "USD", "$", "EUR"]), "de": "EUR", "fr": "EUR", "es": "EUR"}[lang],
            lang=lang,
            locale=locale,
        )


class Doc:
    """One page being drawn; coordinates in mm from the top-left corner."""

    def __init__(self, style: Style, size: tuple[float, float]) -> None:
        self.s = style
        self.w, self.h = size
        self.pdf = FPDF(unit="mm", format=size)
        self.pdf.set_creation_date(REFERENCE_DAY)
        self.pdf.set_compression(False)
        self.pdf.set_auto_page_break(False)
        self.pdf.set_margins(0, 0, 0)
        self.pdf.add_page()
        self.pdf.set_draw_color(0)
        self.pdf.set_line_width(0.2)

    # -- text ---------------------------------------------------------------------------------
    def font(self, size: float, bold: bool = False, italic: bool = False, family: str | None = None) -> None:
        style = ("B" if bold else "") + ("I" if italic else "")
        self.pdf.set_font(family or self.s.font, style, max(4.0, size))

    def text(
        self,
        x: float,
        y: float,
        s: str,
        size: float | None = None,
        bold: bool = False,
        align: str = "L",
        w: float = 0.0,
        grey: int = 0,
        italic: bool = False,
        family: str | None = None,
    ) -> float:
        """Draw one line; returns the y below it."""
        size = size or self.s.base
        self.font(size, bold, italic, family)
        self.pdf.set_text_color(grey)
        h = size * 0.3528 * self.s.line
        self.pdf.set_xy(x, y)
        if w <= 0:
            w = self.w - x - self.s.margin if align != "L" else self.pdf.get_string_width(latin1(s)) + 1
        self.pdf.cell(max(w, 1.0), h, latin1(s), align=align)
        self.pdf.set_text_color(0)
        return y + h

    def para(self, x: float, y: float, w: float, s: str, size: float | None = None, align: str = "L") -> float:
        size = size or self.s.base
        self.font(size)
        self.pdf.set_xy(x, y)
        self.pdf.multi_cell(max(w, 10.0), size * 0.3528 * self.s.line, latin1(s), align=align)
        return float(self.pdf.get_y())

    def label(self, s: str) -> str:
        s = s.upper() if self.s.upper_titles and len(s) < 30 else s
        return s + (":" if self.s.colon and not s.endswith(":") else "")

    def money(self, v: float) -> str:
        txt = f"{v:,.2f}"
        if self.s.decimal_comma:
            txt = txt.replace(",", "_").replace(".", ",").replace("_", ".")
        return f"{self.s.currency} {txt}" if self.s.currency in ("$", "GBP", "USD") else f"{txt} {self.s.currency}"

    # -- shapes -------------------------------------------------------------------------------
    def box(self, x: float, y: float, w: float, h: float, fill: int | None = None, border: bool = True) -> None:
        if fill is not None:
            self.pdf.set_fill_color(fill)
        style = ("F" if fill is not None else "") + ("D" if border else "")
        self.pdf.rect(x, y, w, h, style=style or "D")

    def hline(self, y: float, x0: float | None = None, x1: float | None = None, width: float = 0.2) -> None:
        self.pdf.set_line_width(width)
        self.pdf.line(self.s.margin if x0 is None else x0, y, (self.w - self.s.margin) if x1 is None else x1, y)
        self.pdf.set_line_width(0.2)

    def logo(self, x: float, y: float, size: float, name: str, r: random.Random) -> None:
        kind, g = self.s.logo, self.s.accent
        self.pdf.set_fill_color(g)
        if kind == "circle":
            self.pdf.ellipse(x, y, size, size, style="F")
        elif kind == "ring":
            self.pdf.set_line_width(size / 8)
            self.pdf.ellipse(x, y, size, size, style="D")
            self.pdf.set_line_width(0.2)
        elif kind == "square":
            self.pdf.rect(x, y, size, size, style="F")
        elif kind == "triangle":
            self.pdf.polygon([(x, y + size), (x + size / 2, y), (x + size, y + size)], style="F")
        elif kind == "bars":
            for i in range(4):
                self.pdf.rect(x + i * size / 4, y + size * (1 - (i + 1) / 4), size / 5, size * (i + 1) / 4, style="F")
        elif kind == "initials":
            self.box(x, y, size, size, fill=g, border=False)
            initials = "".join(p[0] for p in name.split()[:2] if p)
            self.text(x, y + size * 0.2, initials, size=size * 1.3, bold=True, grey=255, align="C", w=size)
        elif kind == "wordmark":
            self.text(x, y, name.split()[0] if name.split() else name, size=size * 1.4, bold=True, grey=g)

    def bands(self) -> None:
        g = min(235, self.s.accent + 40)
        if self.s.band == "top":
            self.box(0, 0, self.w, self.s.margin * 0.7, fill=g, border=False)
        elif self.s.band == "side":
            self.box(0, 0, self.s.margin * 0.45, self.h, fill=g, border=False)
        elif self.s.band == "bottom":
            self.box(0, self.h - self.s.margin * 0.6, self.w, self.s.margin * 0.6, fill=g, border=False)
        elif self.s.band == "frame":
            m = self.s.margin * 0.4
            self.box(m, m, self.w - 2 * m, self.h - 2 * m)

    def table(
        self, x: float, y: float, w: float, headers: list[str], rows: list[list[str]], size: float | None = None
    ) -> float:
        """Columns: the first gets the spare width; numbers right-aligned. Returns the y below."""
        size = size or self.s.base * 0.95
        n = len(headers)
        first = w * (0.42 if n > 2 else 0.6)
        widths = [first] + [(w - first) / max(1, n - 1)] * (n - 1)
        h = size * 0.3528 * self.s.line + 0.8
        style = self.s.table
        if style in ("grid", "zebra", "boxed"):
            self.box(x, y, w, h, fill=min(230, self.s.accent + 50), border=style != "zebra")
        cx = x
        for i, head in enumerate(headers):
            self.text(cx + 1, y + 0.4, head, size=size, bold=True, w=widths[i] - 2, align="L" if i == 0 else "R")
            cx += widths[i]
        y += h
        if style == "hlines":
            self.hline(y, x, x + w, 0.4)
        for ri, row in enumerate(rows):
            if y + h > self.h - self.s.margin:
                break
            if style == "zebra" and ri % 2 == 1:
                self.box(x, y, w, h, fill=240, border=False)
            cx = x
            for i, cell in enumerate(row[:n]):
                self.text(cx + 1, y + 0.4, cell, size=size, w=widths[i] - 2, align="L" if i == 0 else "R")
                if style == "grid":
                    self.box(cx, y, widths[i], h)
                cx += widths[i]
            y += h
            if style == "hlines":
                self.hline(y, x, x + w, 0.1)
        if style == "boxed":
            self.box(x, y - h * (len(rows) + 1), w, h * (len(rows) + 1))
        return y + 1.5

    def kv(self, x: float, y: float, w: float, pairs: list[tuple[str, str]], cols: int = 1) -> float:
        """Label/value pairs in `cols` columns."""
        colw = w / cols
        lh = self.s.base * 0.3528 * self.s.line
        rows = (len(pairs) + cols - 1) // cols
        for i, (k, v) in enumerate(pairs):
            cx, cy = x + (i // rows) * colw, y + (i % rows) * lh
            self.text(cx, cy, self.label(k), bold=self.s.bold_labels, w=colw * 0.5, align="L")
            self.text(cx + colw * 0.5, cy, v, w=colw * 0.48, align="L")
        return y + rows * lh + 1.5

    def barcode(self, x: float, y: float, w: float, h: float, r: random.Random) -> None:
        self.pdf.set_fill_color(0)
        cx = x
        while cx < x + w:
            bw = r.choice([0.25, 0.5, 0.75])
            if r.random() < 0.55:
                self.pdf.rect(cx, y, bw, h, style="F")
            cx += bw

    def qr(self, x: float, y: float, size: float, r: random.Random) -> None:
        n = 21
        cell = size / n
        self.pdf.set_fill_color(0)
        for i in range(n):
            for j in range(n):
                corner = (i < 7 and j < 7) or (i < 7 and j >= n - 7) or (i >= n - 7 and j < 7)
                if (corner and (i % 6 == 0 or j % 6 == 0 or (2 <= i % 14 <= 4 and 2 <= j % 14 <= 4))) or (
                    not corner and r.random() < 0.5
                ):
                    self.pdf.rect(x + j * cell, y + i * cell, cell, cell, style="F")

    def scribble(self, x: float, y: float, w: float, h: float, r: random.Random) -> None:
        """A signature-like polyline."""
        self.pdf.set_line_width(0.4)
        pts = [(x + w * t / 12, y + h / 2 + r.uniform(-h / 2, h / 2)) for t in range(13)]
        self.pdf.polyline(pts)
        self.pdf.set_line_width(0.2)

    def output(self) -> bytes:
        return bytes(self.pdf.output())
