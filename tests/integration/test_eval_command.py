"""`doctriage-admin eval DIR` against a real sidecar whose answers are known in advance.

The tiny model favours `invoice` so strongly that every page is an accepted invoice: on a
folder with invoices, receipts, an out-of-scope page and a refused file the report's numbers
follow by hand.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.documents import sample_documents
from harness.server import ServerThread
from harness.settings import make_settings
from harness.tiny_model import write_tiny_model
from sidecar.tools.cli import main


@pytest.fixture(scope="module")
def invoice_server(tmp_path_factory: pytest.TempPathFactory) -> ServerThread:
    root = tmp_path_factory.mktemp("models")
    write_tiny_model(root, "doc-classifier", "2.3", favour="invoice", bias=12.0)
    running = ServerThread(make_settings(root, traffic={"weights": {"2.3": 1.0}})).start()
    yield running  # type: ignore[misc]
    running.stop()


def _folder(tmp_path: Path) -> Path:
    root = tmp_path / "labelled"
    files = {
        "invoice/a.png": sample_documents(1)["png"],
        "invoice/b.jpg": sample_documents(2)["jpeg"],
        "invoice/c.pdf": sample_documents(3)["pdf"],
        "invoice/broken.pdf": b"%PDF-1.7\nnot really",
        "receipt/r1.png": sample_documents(4)["png"],
        "receipt/r2.png": sample_documents(5)["png"],
        "other/menu.jpg": sample_documents(6)["jpeg"],
        "other/notes.txt": b"ignored: not a document suffix",
    }
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content)
    return root


def test_eval_reports_silent_failures_over_all_documents(
    invoice_server: ServerThread, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.json"
    code = main(["--address", invoice_server.address, "eval", str(_folder(tmp_path)), "--out", str(out)])
    assert code == 0
    report = json.loads(out.read_text())
    rows = {Path(r["path"]).name: r for r in report["documents_detail"]}
    assert sorted(rows) == ["a.png", "b.jpg", "broken.pdf", "c.pdf", "menu.jpg", "r1.png", "r2.png"]
    assert rows["broken.pdf"]["decision"] == "REJECTED" and rows["broken.pdf"]["label"] == "refused"
    assert all(r["label"] == "invoice" and r["decision"] == "ACCEPTED" for n, r in rows.items() if n != "broken.pdf")
    assert report["documents"] == 7
    assert report["accuracy"] == pytest.approx(3 / 7)
    assert report["auto_accept_coverage"] == pytest.approx(6 / 7)
    # Two receipts and the out-of-scope page were accepted as invoices: three silent failures of seven.
    assert report["silent_failure_rate"] == pytest.approx(3 / 7)
    assert report["other_accepted_rate"] == 1.0
    assert report["rejected_rate"] == pytest.approx(1 / 7)
    assert report["per_class"]["invoice"]["recall"] == pytest.approx(3 / 4)
    assert report["per_class"]["invoice"]["precision"] == pytest.approx(3 / 6)
    assert list(report["by_model"]) == ["doc-classifier/2.3"]
    assert out.with_suffix(".png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    printed = capsys.readouterr().out
    assert "silent failures      0.429" in printed
