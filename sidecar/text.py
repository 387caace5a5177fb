"""Text helpers shared by the business rules (sidecar/pipeline/rules.py) and the models' keyword
lexicon (sidecar/models/lexicon.py): both read OCR text, so both mend it the same way."""

from __future__ import annotations

import re

# Tesseract reads runs of the MRZ filler `<` as c, e, k, K, C, « or (: such runs next to a `<` are fillers.
_OCR_FILLER_RUN = re.compile(r"(?<=<)[ceCkK«(]+|[ceCkK«(]+(?=<)")
_MRZ_CANDIDATE = re.compile(r"^[A-Za-z0-9<«(]{20,}$")


def repair_mrz(text: str) -> str:
    """OCR text with its machine-readable-zone lines mended: spaces dropped and misread filler runs
    turned back into `<` ("IRGBRZU12345673<<<<<<<K KKK KKK" -> "IRGBRZU12345673<<<<<<<<<<<<<<").
    Only lines of 20+ MRZ-like characters holding a `<` change; every other line is kept as it is."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        compact = line.replace(" ", "")
        if "<" in compact and _MRZ_CANDIDATE.match(compact):
            lines[i] = _OCR_FILLER_RUN.sub(lambda m: "<" * len(m.group()), compact)
    return "\n".join(lines)
