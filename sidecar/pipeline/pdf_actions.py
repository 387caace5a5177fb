"""Part of the validate stage: what a PDF's scripts and actions do, read through its object graph.

The hot path (sidecar/hotpath.py) only sees that an active-content name occurs (/JavaScript, /JS,
/Launch, /AA, /RichMedia, /XFA, /SubmitForm, /ImportData, /GoToE). That is also true of every
fillable government form: field formats
and calculations are scripts, and some forms are XFA. The line drawn here is between what runs by
itself when a reader opens the file, and what a form carries for its fields:

- runs by itself (refused, ACTIVE_CONTENT): the document's /OpenAction and additional actions
  (/AA of the catalog: will close, will save, will print...), document-level JavaScript (the /Names
  /JavaScript tree), a page's open/close actions, a widget's page-open/visible actions, and anything
  anywhere that launches a program, imports data or embeds rich media (/Launch, /ImportData, /GoToE,
  /RichMedia); a script found nowhere a form puts one; an auto-run entry that cannot be resolved;
- runs only from the form, when the user acts (classified and flagged, FORM_SCRIPT): keystroke,
  format, validate and calculate scripts of fields, mouse and focus actions of widgets, the click
  action of an annotation or bookmark, and XFA form definitions.

Read with pikepdf (qpdf): object streams and name obfuscation (#xx) are resolved. Only PDFs in which
the hot path saw an active-content name get here.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

# Actions that move the view or the form's own state: nothing runs, nothing leaves the reader.
_SAFE = frozenset({"/GoTo", "/Named", "/SetOCGState", "/Hide", "/Thread", "/Trans", "/GoTo3DView", "/ResetForm"})
# Refused wherever they are: they start programs, pull in data or carry players.
_NEVER = frozenset({"/Launch", "/ImportData", "/GoToE", "/RichMediaExecute"})
# Triggers of field and widget actions that need the user (keystroke, format, validate, calculate;
# mouse enter/exit/down/up, focus, blur). Page open/close (/O, /C) and the widget's /PO /PC /PV /PI,
# and every trigger of the catalog's /AA, run by themselves.
_FORM_TRIGGERS = frozenset({"/K", "/F", "/V", "/C", "/E", "/X", "/D", "/U", "/Fo", "/Bl"})
_MAX_CHAIN = 64  # actions followed along one /Next chain
_MAX_NODES = 200_000  # objects visited in all: the document is at most validation.max_bytes


@dataclass
class Actions:
    auto: list[str] = field(default_factory=list)  # what runs by itself (or could not be resolved)
    form: list[str] = field(default_factory=list)  # what runs from the form or a click


class _Reader:
    def __init__(self, pdf: Any) -> None:
        import pikepdf

        self.pikepdf = pikepdf
        self.pdf = pdf
        self.found = Actions()
        self.scripts = 0  # script-bearing dictionaries reached from where scripts belong
        self.seen: set[tuple[int, int]] = set()  # indirect owners (fields, annotations, tree nodes) read
        self.acted: dict[tuple[int, int], set[str]] = {}  # indirect actions: the contexts they were read in
        self.nodes = 0

    # -- where actions are attached -------------------------------------------------

    def read(self) -> Actions:
        pikepdf = self.pikepdf
        root = self.pdf.Root
        opening = root.get("/OpenAction")
        if opening is not None and not isinstance(opening, pikepdf.Array):  # an array is a destination
            self.action(opening, "auto", "OpenAction")
        self.triggers(root.get("/AA"), "document", form=False)
        form = root.get("/AcroForm")
        xfa = isinstance(form, pikepdf.Dictionary) and "/XFA" in form
        names = root.get("/Names")
        if isinstance(names, pikepdf.Dictionary) and "/JavaScript" in names:
            scripts = list(self.name_tree(names.get("/JavaScript"), 0))
            # XFA forms made with Adobe's designer carry its reader-version check as document-level
            # scripts: part of the form when they are exactly that (adobe_version_check), else not.
            ours = all(
                (xfa and adobe_version_check(name, self.code(act))) or privacy_settings(self.code(act))
                for name, act in scripts
            )
            for _, act in scripts:
                self.action(act, "form" if ours else "auto", "document-level")
        if isinstance(form, pikepdf.Dictionary):
            if xfa:
                self.found.form.append("XFA form")
            for fld in self.listed(form.get("/Fields")):
                self.field(fld, 0)
        for page in self.pdf.pages:
            self.triggers(page.obj.get("/AA"), "page", form=False)
            for annot in self.listed(page.obj.get("/Annots")):
                self.owner(annot)
        outlines = root.get("/Outlines")
        if isinstance(outlines, pikepdf.Dictionary):
            self.outline(outlines.get("/First"), 0)
        self.orphans()
        return self.found

    def name_tree(self, node: Any, depth: int) -> Iterator[tuple[str, Any]]:
        """(name, value) of every entry of a name tree."""
        if depth > 32 or not isinstance(node, self.pikepdf.Dictionary) or not self.once(node):
            return
        leaves = node.get("/Names")
        if isinstance(leaves, self.pikepdf.Array):
            for i in range(0, len(leaves) - 1, 2):
                yield str(leaves[i]), leaves[i + 1]
        for kid in self.listed(node.get("/Kids")):
            yield from self.name_tree(kid, depth + 1)

    def code(self, action: Any) -> str:
        """The text of a JavaScript action ("" when there is none or it cannot be read)."""
        if not isinstance(action, self.pikepdf.Dictionary):
            return ""
        js = action.get("/JS")
        try:
            if isinstance(js, self.pikepdf.Stream):
                return bytes(js.read_bytes()[:_MAX_SCRIPT]).decode("latin-1")
            return str(js) if js is not None else ""
        except Exception:  # noqa: BLE001 - an unreadable script is not proven harmless
            return ""

    def listed(self, value: Any) -> Iterator[Any]:
        if isinstance(value, self.pikepdf.Array):
            for item in value:
                if isinstance(item, self.pikepdf.Dictionary):
                    yield item

    def once(self, obj: Any) -> bool:
        """True the first time an indirect object is met (direct ones are always new)."""
        self.nodes += 1
        if self.nodes > _MAX_NODES:
            raise _TooComplex
        if not obj.is_indirect:
            return True
        key = obj.objgen
        if key in self.seen:
            return False
        self.seen.add(key)
        return True

    def first_in(self, act: Any, context: str) -> bool | None:
        """None when this action was already read in this context (one action can serve a form trigger
        and an automatic one: it is read for each); else whether it is the first reading at all."""
        self.nodes += 1
        if self.nodes > _MAX_NODES:
            raise _TooComplex
        if not act.is_indirect:
            return True
        contexts = self.acted.setdefault(act.objgen, set())
        if context in contexts:
            return None
        contexts.add(context)
        return len(contexts) == 1

    def field(self, fld: Any, depth: int) -> None:
        if depth > 32 or not self.owner(fld):
            return
        for kid in self.listed(fld.get("/Kids")):
            self.field(kid, depth + 1)

    def owner(self, obj: Any) -> bool:
        """A field, widget or annotation: its click action and its additional actions."""
        if not self.once(obj):
            return False
        if obj.get("/Subtype") == "/RichMedia":
            self.found.auto.append("RichMedia annotation")
        if "/A" in obj:
            self.action(obj.get("/A"), "form", "click action")
        self.triggers(obj.get("/AA"), "field", form=True)
        return True

    def outline(self, item: Any, depth: int) -> None:
        while isinstance(item, self.pikepdf.Dictionary) and depth < 10_000 and self.once(item):
            if "/A" in item:
                self.action(item.get("/A"), "form", "bookmark action")
            self.outline(item.get("/First"), depth + 1)
            item, depth = item.get("/Next"), depth + 1

    def triggers(self, aa: Any, where: str, *, form: bool) -> None:
        if aa is None:
            return
        if not isinstance(aa, self.pikepdf.Dictionary):
            self.found.auto.append(f"{where} additional actions")
            return
        for key in aa.keys():  # noqa: SIM118 - pikepdf: iteration is typed as values
            by_user = form and key in _FORM_TRIGGERS
            self.action(aa.get(key), "form" if by_user else "auto", f"{where} {key} action")

    def action(self, value: Any, context: str, where: str) -> None:
        """One action and its /Next chain; a script or an unsafe action is recorded under `context`."""
        pending, steps = [value], 0
        while pending and steps < _MAX_CHAIN:
            act, steps = pending.pop(), steps + 1
            if isinstance(act, self.pikepdf.Array):
                pending.extend(act)
                continue
            if not isinstance(act, self.pikepdf.Dictionary):
                if context == "auto":  # an unresolvable entry where actions run by themselves
                    self.found.auto.append(f"{where} (unresolved)")
                continue
            first = self.first_in(act, context)
            if first is None:
                continue
            kind = str(act.get("/S", ""))
            script = "/JS" in act or kind == "/JavaScript"
            self.scripts += script and first
            if kind in _NEVER:
                self.found.auto.append(f"{where}: {kind[1:]}")
            elif script or kind not in _SAFE:
                label = f"{where}: {'JavaScript' if script else kind[1:] or 'unknown'}"
                (self.found.auto if context == "auto" else self.found.form).append(label)
            if "/Next" in act:
                pending.append(act.get("/Next"))

    # -- anything else --------------------------------------------------------------

    def reachable(self) -> set[tuple[int, int]]:
        """The indirect objects a reader can reach from the trailer (an unreferenced object never runs)."""
        pikepdf = self.pikepdf
        seen: set[tuple[int, int]] = set()
        stack: list[Any] = [self.pdf.trailer]
        while stack:
            o = stack.pop()
            self.nodes += 1
            if self.nodes > _MAX_NODES:
                raise _TooComplex
            if isinstance(o, pikepdf.Object) and o.is_indirect:
                if o.objgen in seen:
                    continue
                seen.add(o.objgen)
            if isinstance(o, pikepdf.Stream):
                o = o.stream_dict
            if isinstance(o, pikepdf.Dictionary):
                stack.extend(
                    v
                    for k in o.keys()  # noqa: SIM118 - pikepdf
                    if isinstance(v := o.get(k), pikepdf.Dictionary | pikepdf.Array | pikepdf.Stream)
                )
            elif isinstance(o, pikepdf.Array):
                stack.extend(v for v in o if isinstance(v, pikepdf.Dictionary | pikepdf.Array | pikepdf.Stream))
        return seen

    def orphans(self) -> None:
        """Scripts and launchers reachable from the trailer that no form, page or bookmark attaches."""
        total = 0
        live = self.reachable()
        for obj in self.pdf.objects:
            if isinstance(obj, self.pikepdf.Object) and obj.is_indirect and obj.objgen not in live:
                continue
            for d in self.dicts(obj):
                kind = str(d.get("/S", ""))
                total += "/JS" in d or kind == "/JavaScript"
                if kind in _NEVER:
                    self.found.auto.append(kind[1:])
                if "/RichMedia" in d or d.get("/Subtype") == "/RichMedia":
                    self.found.auto.append("RichMedia")
        if total > self.scripts:
            self.found.auto.append("JavaScript outside form fields")

    def dicts(self, obj: Any) -> Iterator[Any]:
        """Every dictionary of one indirect object, nested ones included (references not followed)."""
        pikepdf = self.pikepdf
        stack = [obj]
        while stack:
            o = stack.pop()
            self.nodes += 1
            if self.nodes > _MAX_NODES:
                raise _TooComplex
            if isinstance(o, pikepdf.Stream):
                o = o.stream_dict
            if isinstance(o, pikepdf.Dictionary):
                yield o
                stack.extend(v for k in o if self.direct_container(v := o.get(k)))
            elif isinstance(o, pikepdf.Array):
                stack.extend(v for v in o if self.direct_container(v))

    def direct_container(self, value: Any) -> bool:
        pikepdf = self.pikepdf
        return isinstance(value, pikepdf.Dictionary | pikepdf.Array | pikepdf.Stream) and not value.is_indirect


class _TooComplex(Exception):
    pass


_MAX_SCRIPT = 64 * 1024
_ADOBE_NAME = re.compile(r"!ADBE::\d{4}_VersChk\w*")
_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'')
_WORD = re.compile(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*")
# What Adobe's version check uses: its own ADBE object, the viewer's version and language, a dialog,
# the component finder, and the update page (only as ADBE.*_URL + ADBE.SYSINFO, below).
_ADOBE_WORDS = frozenset(
    {
        "app.alert", "app.findComponent", "app.language", "app.launchURL", "app.platform", "app.response",
        "app.viewerType", "app.viewerVersion", "this.getURL", "this.ADBE", "Object", "cDefault", "cName",
        "cQuestion", "cTitle", "cType", "cVer", "else", "false", "if", "new", "true", "typeof", "undefined",
        "xfa_installed", "xfa_version",
    }
)  # fmt: skip
_ADOBE_URL = re.compile(r'"https?://(?:cgi|www)\.adobe\.com/[\w/.?=&-]*"')
_ADOBE_CALL = re.compile(r"(?:app\.launchURL|this\.getURL)\s*\(\s*([^,)]*)")


_PRIVACY = re.compile(r"\s*(?:function\s+\w+\s*\(\s*\)\s*\{(?P<body>[^{}]*)\}|(?P<top>this\.\w+\s*=\s*\w+\s*;?))\s*")
_PRIVACY_STATEMENT = re.compile(r"\s*this\.(?:nocache|noautocomplete)\s*=\s*(?:true|false)\s*;?\s*")


def privacy_settings(code: str) -> bool:
    """True when a document-level script only turns off the reader's form cache and autocomplete
    (`this.nocache = true; this.noautocomplete = true;`, possibly inside a function definition): what
    tax agencies' forms set for privacy."""
    pos, found = 0, False
    while pos < len(code):
        m = _PRIVACY.match(code, pos)
        if m is None or m.end() == pos:
            return code[pos:].strip() == "" and found
        part = m.group("body") if m.group("body") is not None else m.group("top")
        statements = [x for x in re.split(r"(?<=;)|\n", part) if x.strip()]
        if not all(_PRIVACY_STATEMENT.fullmatch(x) for x in statements):
            return False
        found, pos = True, m.end()
    return found


def adobe_version_check(name: str, code: str) -> bool:
    """True when a document-level script is Adobe's XFA reader-version check: named in its
    `!ADBE::` namespace, only its own words and operators (no brackets, escapes or regular expressions
    outside strings), every URL-like string one of adobe.com's, and the update page opened only as
    ADBE.<...>_URL + ADBE.SYSINFO."""
    if not _ADOBE_NAME.fullmatch(name) or not code:
        return False
    strings = _STRING.findall(code)
    for text in strings:
        low = text.lower()
        if ("//" in low or "http" in low or "www" in low) and not _ADOBE_URL.fullmatch(text):
            return False
    rest = _STRING.sub('""', code)
    if any(c in rest for c in "[]\\`/#@") or "eval" in rest:
        return False
    for word in _WORD.findall(rest):
        if word not in _ADOBE_WORDS and not re.fullmatch(r"ADBE(?:\.\w+)?", word):
            return False
    for argument in _ADOBE_CALL.findall(rest):
        if not re.fullmatch(r"\s*ADBE\.\w+_URL\s*\+\s*ADBE\.SYSINFO\s*", argument):
            return False
    return True


_OBJSTM = re.compile(rb"/Type\s*/ObjStm")
# Where a stream's data begins ("endstream" is its end, not a start); validate.py reads it too.
STREAM_START = re.compile(rb"(?<!end)stream\r?\n")
_NAME = re.compile(rb"/([^\s/()<>\[\]{}%]{1,127})")
_ACTIVE = frozenset(
    {b"JavaScript", b"JS", b"Launch", b"AA", b"RichMedia", b"XFA", b"SubmitForm", b"ImportData", b"GoToE"}
)  # the hot path's active-content names (sidecar/_hotpath_py/pdf.py ACTIVE_NAMES)
_MAX_INFLATED = 8 << 20  # per object stream: dictionaries only, never this large in a real file


def name_in_object_streams(content: bytes) -> str:
    """The first active-content name inside the PDF's compressed object streams (/ObjStm), which the
    hot path's walk cannot see; "" when there is none. Each stream is inflated at most _MAX_INFLATED."""
    import zlib

    for match in _OBJSTM.finditer(content):
        start = STREAM_START.search(content, match.end())
        if start is None:
            break
        end = content.find(b"endstream", start.end())
        if end < 0:
            break
        try:
            body = zlib.decompressobj().decompress(content[start.end() : end], _MAX_INFLATED)
        except zlib.error:
            return "an object stream that cannot be inflated"
        for name in _NAME.findall(body):
            decoded = re.sub(rb"#([0-9A-Fa-f]{2})", lambda h: bytes([int(h.group(1), 16)]), name)
            if decoded in _ACTIVE:
                return "/" + decoded.decode("latin-1")
    return ""


def read_actions(content: bytes) -> Actions | None:
    """What the PDF's actions do; None when its object graph cannot be read (the caller then treats
    every active-content name as running by itself)."""
    try:
        import pikepdf

        with pikepdf.open(io.BytesIO(content)) as pdf:
            return _Reader(pdf).read()
    except Exception:  # noqa: BLE001 - unreadable, password-protected or too complex: not proven harmless
        return None
