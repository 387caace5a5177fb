"""Stage: business rules from a declarative file, and rule-based classification from text.

The business-rules file (TOML, `business_rules.path`, default config/rules.toml) says per label what a
document of that label must show: text patterns (any / all / none), the presence of an
amount, a date, a valid IBAN or an MRZ, page-count and aspect bounds, and request
metadata checks. `RuleBook.evaluate` returns one finding per check; all passed means the
prediction "makes sense". `RuleBook.classify` is the non-AI fallback: the label whose
keywords the text matches best.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sidecar.domain import RuleFinding
from sidecar.errors import InvalidRequest
from sidecar.text import repair_mrz

_AMOUNT = re.compile(
    r"(?:[€$£]\s?\d[\d.,' ]*\d)|(?:\b\d{1,3}(?:[.,' ]?\d{3})*[.,]\d{2}\b\s?(?:EUR|USD|GBP|CHF|€|\$|£)?)",
    re.IGNORECASE,
)
_MONTHS = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_DATE = re.compile(
    rf"\b(?:\d{{1,2}}[./-]\d{{1,2}}[./-]\d{{2,4}}|\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}}\s+{_MONTHS}\s+\d{{4}}|{_MONTHS}\s+\d{{1,2}},?\s+\d{{4}})\b",
    re.IGNORECASE,
)
_IBAN_CANDIDATE = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?\b")
_MRZ_LINE = re.compile(r"^[A-Z0-9<]{30,44}$")

PRESENCE_CHECKS = ("amount", "date", "iban", "mrz")


def iban_is_valid(candidate: str) -> bool:
    """ISO 13616 mod-97 check of an IBAN (spaces ignored)."""
    iban = candidate.replace(" ", "").upper()
    if not 15 <= len(iban) <= 34 or not iban[:2].isalpha() or not iban[2:4].isdigit():
        return False
    rearranged = iban[4:] + iban[:4]
    digits = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(digits) % 97 == 1


def has_amount(text: str) -> bool:
    return _AMOUNT.search(text) is not None


def has_date(text: str) -> bool:
    return _DATE.search(text) is not None


def has_iban(text: str) -> bool:
    return any(iban_is_valid(m.group(0)) for m in _IBAN_CANDIDATE.finditer(text.upper()))


def has_mrz(text: str) -> bool:
    """Two or more machine-readable-zone lines (ICAO 9303), one with the `<<` filler (OCR-misread
    fillers mended first: `repair_mrz`)."""
    lines = [line.replace(" ", "").upper() for line in repair_mrz(text).splitlines()]
    mrz = [line for line in lines if _MRZ_LINE.match(line) and "<" in line]
    return len(mrz) >= 2 and any("<<" in line for line in mrz)


_DETECTORS = {"amount": has_amount, "date": has_date, "iban": has_iban, "mrz": has_mrz}


@dataclass(frozen=True, slots=True)
class DocumentFacts:
    """What the rules look at; `text` None means no text could be had (no layer, no OCR)."""

    text: str | None
    page_count: int = 1
    aspect: float | None = None  # height / width of the first page
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MetadataCheck:
    key: str
    required: bool = True
    one_of: tuple[str, ...] = ()
    pattern: re.Pattern[str] | None = None


@dataclass(frozen=True, slots=True)
class LabelRules:
    label: str
    keywords: tuple[re.Pattern[str], ...] = ()
    require_any: tuple[re.Pattern[str], ...] = ()
    require_all: tuple[re.Pattern[str], ...] = ()
    forbid: tuple[re.Pattern[str], ...] = ()
    require: tuple[str, ...] = ()  # presence checks: amount, date, iban, mrz
    min_pages: int | None = None
    max_pages: int | None = None
    min_aspect: float | None = None
    max_aspect: float | None = None
    metadata: tuple[MetadataCheck, ...] = ()

    @property
    def needs_text(self) -> bool:
        return bool(self.require_any or self.require_all or self.forbid or self.require)


def _patterns(raw: Any, where: str) -> tuple[re.Pattern[str], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(p, str) for p in raw):
        raise InvalidRequest(f"{where} must be a list of regular expressions")
    try:
        return tuple(re.compile(p, re.IGNORECASE | re.MULTILINE) for p in raw)
    except re.error as exc:
        raise InvalidRequest(f"{where}: bad regular expression: {exc}") from None


def _opt_float(raw: dict[str, Any], key: str) -> float | None:
    return None if raw.get(key) is None else float(raw[key])


def _opt_int(raw: dict[str, Any], key: str) -> int | None:
    return None if raw.get(key) is None else int(raw[key])


def parse_label_rules(label: str, raw: dict[str, Any]) -> LabelRules:
    where = f"rules for {label!r}"
    known = {
        "keywords", "require_any", "require_all", "forbid", "require",
        "min_pages", "max_pages", "min_aspect", "max_aspect", "metadata",
    }  # fmt: skip
    unknown = set(raw) - known
    if unknown:
        raise InvalidRequest(f"{where}: unknown keys {sorted(unknown)}")
    require = tuple(raw.get("require", ()))
    bad = [r for r in require if r not in PRESENCE_CHECKS]
    if bad:
        raise InvalidRequest(f"{where}: unknown presence checks {bad} (known: {', '.join(PRESENCE_CHECKS)})")
    checks = []
    for item in raw.get("metadata", ()):
        pattern = item.get("pattern")
        checks.append(
            MetadataCheck(
                key=str(item["key"]),
                required=bool(item.get("required", True)),
                one_of=tuple(str(v) for v in item.get("one_of", ())),
                pattern=re.compile(pattern) if pattern else None,
            )
        )
    return LabelRules(
        label=label,
        keywords=_patterns(raw.get("keywords"), f"{where}.keywords"),
        require_any=_patterns(raw.get("require_any"), f"{where}.require_any"),
        require_all=_patterns(raw.get("require_all"), f"{where}.require_all"),
        forbid=_patterns(raw.get("forbid"), f"{where}.forbid"),
        require=require,
        min_pages=_opt_int(raw, "min_pages"),
        max_pages=_opt_int(raw, "max_pages"),
        min_aspect=_opt_float(raw, "min_aspect"),
        max_aspect=_opt_float(raw, "max_aspect"),
        metadata=tuple(checks),
    )


@dataclass(frozen=True, slots=True)
class RuleClassification:
    label: str
    confidence: float  # share of the best label's keywords found
    scores: dict[str, float]
    matched: tuple[str, ...]


class RuleBook:
    def __init__(self, labels: dict[str, LabelRules], min_keywords: int = 2) -> None:
        self.labels = labels
        # Rule-based classification needs at least this many distinct keywords of one label.
        self.min_keywords = min_keywords

    @classmethod
    def load(cls, path: Path) -> RuleBook:
        raw = tomllib.loads(path.read_text()) if path.is_file() else {}
        return cls.from_dict(raw)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> RuleBook:
        labels = {name: parse_label_rules(name, spec) for name, spec in raw.get("labels", {}).items()}
        return cls(labels, int(raw.get("classify", {}).get("min_keywords", 2)))

    def has_rules(self, label: str) -> bool:
        rules = self.labels.get(label)
        return rules is not None and (
            rules.needs_text
            or rules.metadata != ()
            or any(x is not None for x in (rules.min_pages, rules.max_pages, rules.min_aspect, rules.max_aspect))
        )

    def needs_text(self, label: str) -> bool:
        rules = self.labels.get(label)
        return rules is not None and rules.needs_text

    def evaluate(self, label: str, facts: DocumentFacts) -> tuple[RuleFinding, ...]:
        """One finding per check of `label`'s rules (empty when the label has none)."""
        rules = self.labels.get(label)
        if rules is None:
            return ()
        out: list[RuleFinding] = []
        text = facts.text
        if rules.needs_text and not text:
            return (RuleFinding(f"{label}.text", False, "no text layer and no OCR text"),)
        body = text or ""
        if rules.require_any:
            hit = next((p.pattern for p in rules.require_any if p.search(body)), "")
            out.append(RuleFinding(f"{label}.require_any", bool(hit), f"matched {hit!r}" if hit else "none matched"))
        for p in rules.require_all:
            ok = p.search(body) is not None
            out.append(RuleFinding(f"{label}.require_all", ok, f"{p.pattern!r} {'found' if ok else 'missing'}"))
        for p in rules.forbid:
            bad = p.search(body) is not None
            out.append(RuleFinding(f"{label}.forbid", not bad, f"{p.pattern!r} {'found' if bad else 'absent'}"))
        for check in rules.require:
            ok = _DETECTORS[check](body)
            out.append(RuleFinding(f"{label}.{check}", ok, "present" if ok else "absent"))
        if rules.min_pages is not None or rules.max_pages is not None:
            lo, hi = rules.min_pages or 1, rules.max_pages
            ok = facts.page_count >= lo and (hi is None or facts.page_count <= hi)
            out.append(RuleFinding(f"{label}.pages", ok, f"{facts.page_count} pages, allowed {lo}..{hi or ''}"))
        if (rules.min_aspect is not None or rules.max_aspect is not None) and facts.aspect is not None:
            lo_a, hi_a = rules.min_aspect or 0.0, rules.max_aspect or float("inf")
            ok = lo_a <= facts.aspect <= hi_a
            out.append(RuleFinding(f"{label}.aspect", ok, f"aspect {facts.aspect:.2f}, allowed {lo_a:g}..{hi_a:g}"))
        for meta in rules.metadata:
            out.append(_check_metadata(label, meta, facts.metadata))
        return tuple(out)

    def classify(self, text: str | None) -> RuleClassification | None:
        """The label whose keywords the text matches best, or None when no label is convincing."""
        if not text:
            return None
        counts: dict[str, int] = {}
        matched: dict[str, list[str]] = {}
        for label, rules in self.labels.items():
            hits = [p.pattern for p in rules.keywords if p.search(text)]
            counts[label], matched[label] = len(hits), hits
        if not counts:
            return None
        best = max(counts, key=lambda k: (counts[k], -list(counts).index(k)))
        if counts[best] < self.min_keywords or list(counts.values()).count(counts[best]) > 1:
            return None  # too few keywords, or a tie: no honest answer
        total = sum(counts.values())
        scores = {label: n / total for label, n in counts.items()}
        keywords = len(self.labels[best].keywords)
        return RuleClassification(best, counts[best] / keywords, scores, tuple(matched[best]))


def _check_metadata(label: str, check: MetadataCheck, metadata: dict[str, str]) -> RuleFinding:
    name = f"{label}.metadata.{check.key}"
    if check.key not in metadata:
        return RuleFinding(name, not check.required, "missing" + ("" if check.required else " (optional)"))
    value = metadata[check.key]
    if check.one_of and value not in check.one_of:
        return RuleFinding(name, False, f"not one of {list(check.one_of)}")
    if check.pattern is not None and not check.pattern.fullmatch(value):
        return RuleFinding(name, False, f"does not match {check.pattern.pattern!r}")
    return RuleFinding(name, True, "ok")
