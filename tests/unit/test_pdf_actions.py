"""What a PDF's scripts do (sidecar/pipeline/pdf_actions.py, through validate_document): what runs by
itself when the file is opened is refused (ACTIVE_CONTENT), what only a fillable form runs for its
fields is classified and flagged (FORM_SCRIPT). Every PDF here is built by hand, with real objects."""

from __future__ import annotations

import pytest

from harness.documents import make_pdf
from harness.paths import REAL_DOCS
from sidecar.config import ValidationSettings
from sidecar.domain import Document, Inspection
from sidecar.errors import InvalidDocument, Reason
from sidecar.pipeline.pdf_actions import adobe_version_check, name_in_object_streams, privacy_settings
from sidecar.pipeline.validate import validate_document

JS = b'<< /S /JavaScript /JS (AFNumber_Format\\(2, 0, 0, 0, "", true\\);) >>'
# One page: objects 1 catalog, 2 pages, 3 page, 4 content, then 5, 6... (extra_objects).
FIELD = (
    b"<< /FT /Tx /T (wages) /Type /Annot /Subtype /Widget /Rect [0 0 100 20] /P 3 0 R /AA << /F 6 0 R /K 6 0 R >> >>"
)
FORM = {"catalog_extra": b"/AcroForm << /Fields [5 0 R] >> ", "page_extra": b"/Annots [5 0 R] "}


def check(content: bytes, settings: ValidationSettings | None = None) -> Inspection:
    return validate_document(Document(content, "form.pdf"), settings or ValidationSettings())


def refused(content: bytes) -> InvalidDocument:
    with pytest.raises(InvalidDocument) as caught:
        check(content)
    assert caught.value.reason is Reason.ACTIVE_CONTENT
    return caught.value


def test_field_format_and_keystroke_scripts_are_a_form_flagged_not_refused() -> None:
    pdf = make_pdf(extra_objects=(FIELD, JS), **FORM)
    assert check(pdf).flags == ("FORM_SCRIPT",)
    with pytest.raises(InvalidDocument) as strict:
        check(pdf, ValidationSettings(form_scripts="refuse"))
    assert strict.value.reason is Reason.ACTIVE_CONTENT and "action: JavaScript" in strict.value.message


def test_a_link_that_runs_a_script_when_clicked_is_flagged() -> None:
    link = b"<< /Type /Annot /Subtype /Link /Rect [0 0 10 10] /A 6 0 R >>"
    assert check(make_pdf(page_extra=b"/Annots [5 0 R] ", extra_objects=(link, JS))).flags == ("FORM_SCRIPT",)


@pytest.mark.parametrize(
    ("fields", "objects", "what"),
    [
        ({"catalog_extra": b"/OpenAction 5 0 R "}, (JS,), "OpenAction"),
        ({"catalog_extra": b"/AA << /WC 5 0 R >> "}, (JS,), "document /WC"),
        ({"page_extra": b"/AA << /O 5 0 R >> "}, (JS,), "page /O"),
        ({"catalog_extra": b"/Names << /JavaScript 5 0 R >> "}, (b"<< /Names [(init) 6 0 R] >>", JS), "document-level"),
        # A field's page-open trigger runs by itself, unlike its format script.
        (FORM, (FIELD.replace(b"/F 6 0 R", b"/PO 6 0 R"), JS), "field /PO"),
        # Launching a program is refused even behind a click.
        (
            {"page_extra": b"/Annots [5 0 R] "},
            (b"<< /Subtype /Link /A 6 0 R >>", b"<< /S /Launch /F (calc.exe) >>"),
            "Launch",
        ),
        # A chain: a harmless first action whose /Next runs a script on open.
        ({"catalog_extra": b"/OpenAction 5 0 R "}, (b"<< /S /GoTo /D [3 0 R /Fit] /Next 6 0 R >>", JS), "OpenAction"),
        # A script that a reader can reach but nothing a form, page or bookmark attaches.
        ({"catalog_extra": b"/Extra 5 0 R "}, (JS,), "JavaScript outside form fields"),
        # One that nothing references: no reader runs it, but the name was seen and nothing proves it dead
        # to every reader (some rebuild a damaged cross-reference table by scanning).
        ({}, (JS,), "not attached to anything readable"),
    ],
)
def test_what_runs_by_itself_is_refused(fields: dict[str, bytes], objects: tuple[bytes, ...], what: str) -> None:
    assert what in refused(make_pdf(extra_objects=objects, **fields)).message


def test_a_harmless_open_action_is_nothing() -> None:
    # "/OpenAction [3 0 R /Fit]" (open at page 1) is everywhere; a GoTo action too. The hot path sees no
    # active name in either; a /JS key in a string is text.
    for extra in (b"/OpenAction [3 0 R /Fit] ", b"/OpenAction << /S /GoTo /D [3 0 R /Fit] >> /Title (/JS) "):
        assert check(make_pdf(catalog_extra=extra)).flags == ()


def test_a_name_no_reader_can_resolve_is_not_proven_harmless() -> None:
    assert "not attached to anything readable" in refused(make_pdf(catalog_extra=b"/AA << /O 9 0 R >> ")).message


VERSION_CHECK = """if (typeof(xfa_installed) == "undefined" || xfa_version < 2.8)
{
   if (app.viewerType == "Reader" && app.alert(ADBE.Reader_string_Need_New_Version_Msg, 1, 1) == 1)
      this.getURL(ADBE.Reader_Value_New_Version_URL + ADBE.SYSINFO, false);
}"""


def test_adobe_version_check_is_recognised_only_as_itself() -> None:
    name = "!ADBE::0200_VersChkCode_XFACheck"
    assert adobe_version_check(name, VERSION_CHECK)
    assert adobe_version_check(
        "!ADBE::0100_VersChkVars", 'ADBE.Reader_Value_New_Version_URL = "http://cgi.adobe.com/special/acrobat/update";'
    )
    assert not adobe_version_check("init", VERSION_CHECK)  # another name
    for evil in (
        VERSION_CHECK.replace("ADBE.Reader_Value_New_Version_URL + ADBE.SYSINFO", '"http://evil.example/x"'),
        'ADBE.Reader_Value_New_Version_URL = "http://evil.example/update";',
        VERSION_CHECK + 'app["launch" + "URL"]("x");',
        VERSION_CHECK + "this.submitForm(ADBE.x);",
        VERSION_CHECK + 'eval("x");',
        VERSION_CHECK + "app.launchURL(ADBE.x + ADBE.y);",
    ):
        assert not adobe_version_check(name, evil), evil


def test_xfa_form_with_its_version_check_is_flagged_and_with_another_script_refused() -> None:
    tree = b"<< /Names [(!ADBE::0200_VersChkCode_XFACheck) 6 0 R] >>"
    check_action = (
        b"<< /S /JavaScript /JS (" + VERSION_CHECK.encode().replace(b"(", b"\\(").replace(b")", b"\\)") + b") >>"
    )
    catalog = b"/AcroForm << /Fields [] /XFA 7 0 R >> /Names << /JavaScript 5 0 R >> "
    xfa = b"<< /Length 7 >>\nstream\n<xdp/>\n\nendstream"
    pdf = make_pdf(catalog_extra=catalog, extra_objects=(tree, check_action, xfa))
    assert check(pdf).flags == ("FORM_SCRIPT",)
    other = make_pdf(
        catalog_extra=catalog,
        extra_objects=(tree.replace(b"!ADBE::0200_VersChkCode_XFACheck", b"init"), check_action, xfa),
    )
    assert "document-level" in refused(other).message


@pytest.mark.realdocs
@pytest.mark.parametrize(
    "name",
    [
        "real-docs/files/tax_form/PDFFormxTract__fw4.pdf",  # IRS W-4: field scripts
        "real-train/files/tax_form/irs-form-filler__f1116-example-filled.pdf",  # XFA + Adobe's version check
        "real-train/files/tax_form/irs-form-filler__f8965-example-filled.pdf",
    ],
)
def test_real_fillable_tax_forms_are_classified_and_flagged(name: str) -> None:
    path = REAL_DOCS.parent / name
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    assert "FORM_SCRIPT" in check(path.read_bytes()).flags


def compressed(build: object) -> bytes:
    """A PDF written by qpdf with every dictionary in compressed object streams (/ObjStm)."""
    import io

    import pikepdf

    pdf = pikepdf.new()
    pdf.add_blank_page()
    build(pdf)  # type: ignore[operator]
    out = io.BytesIO()
    pdf.save(out, object_stream_mode=pikepdf.ObjectStreamMode.generate, compress_streams=True)
    return out.getvalue()


def test_scripts_hidden_in_compressed_object_streams_are_found() -> None:
    import pikepdf

    def open_action(pdf: pikepdf.Pdf) -> None:
        js = pdf.make_indirect(pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)")))
        pdf.Root.OpenAction = js

    hidden = compressed(open_action)
    assert b"/JavaScript" not in hidden and b"/ObjStm" in hidden  # invisible to a byte-level walk
    assert name_in_object_streams(hidden) in ("/JS", "/JavaScript")
    assert "OpenAction: JavaScript" in refused(hidden).message

    def field_format(pdf: pikepdf.Pdf) -> None:
        js = pdf.make_indirect(pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("AFNumber_Format(2);")))
        widget = pdf.make_indirect(
            pikepdf.Dictionary(
                Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Widget, FT=pikepdf.Name.Tx, T=pikepdf.String("w"),
                Rect=[0, 0, 10, 10], AA=pikepdf.Dictionary(F=js),
            )
        )  # fmt: skip
        pdf.pages[0].Annots = pdf.make_indirect(pikepdf.Array([widget]))
        pdf.Root.AcroForm = pikepdf.Dictionary(Fields=[widget])

    assert check(compressed(field_format)).flags == ("FORM_SCRIPT",)
    assert check(compressed(lambda pdf: None)).flags == ()  # object streams alone are nothing


def test_privacy_settings_are_recognised_only_as_themselves() -> None:
    ca = "function onOpen()\r\n{this.nocache = true;\r\nthis.noautocomplete = true;\r\n}"
    assert privacy_settings(ca) and privacy_settings("this.nocache = true;")
    for other in (
        "",
        "this.submitForm('x');",
        ca + "\napp.launchURL('http://x');",
        "function f(){this.exportDataObject({cName:'a'});}",
    ):
        assert not privacy_settings(other), other
