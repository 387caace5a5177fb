"""The `doctriage` console script as users run it (a subprocess of .venv/bin/doctriage) against a real
sidecar with auth on: classify folders (rows, --json, summary, exit codes, the progress bar on a
terminal only), every Admin RPC through `doctriage admin`, health, and the hints of failures (no
connection, no key, wrong role, TLS) with no traceback."""

from __future__ import annotations

import json
import os
import pty
import shutil
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness import documents as docs
from harness.gateway import KEYS, auth_section, make_certs
from harness.server import ServerThread
from harness.settings import make_settings
from harness.tiny_model import write_tiny_model

DOCTRIAGE = str(Path(sys.executable).with_name("doctriage"))
DECISIONS = {"ACCEPTED", "ACCEPTED_AFTER_RULES", "HUMAN_REVIEW"}


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The served 2.3 and a 9.9 that is not loaded at start (for models load / unload)."""
    root = tmp_path_factory.mktemp("cli-models")
    write_tiny_model(root, "doc-classifier", "2.3", seed=1)
    write_tiny_model(root, "doc-classifier", "9.9", seed=2)
    return root


@pytest.fixture(scope="module")
def secured(models: Path) -> Iterator[ServerThread]:
    running = ServerThread(make_settings(models, auth=auth_section())).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory, documents: dict[str, bytes]) -> Path:
    """Four documents (one in a subfolder) and two the sidecar refuses."""
    root = tmp_path_factory.mktemp("inbox")
    (root / "a-invoice.pdf").write_bytes(documents["pdf"])
    (root / "b-photo.jpg").write_bytes(documents["jpeg"])
    (root / "c-notes.txt").write_text("not a document")
    (root / "d-locked.pdf").write_bytes(docs.pdf_encrypted(user_password="secret"))
    (root / "sub").mkdir()
    (root / "sub" / "e-scan.png").write_bytes(documents["png"])
    (root / "sub" / "f-scan-no-extension").write_bytes(documents["png"])
    return root


def doctriage(*args: str, key: str | None = "admin", **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DOCTRIAGE_")}
    if key is not None:
        clean["DOCTRIAGE_API_KEY"] = KEYS[key]
    result = subprocess.run(
        [DOCTRIAGE, *args], capture_output=True, text=True, env={**clean, **env}, timeout=120, check=False
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


def rows(stdout: str) -> list[list[str]]:
    return [line.split("\t") for line in stdout.splitlines()]


def test_classify_a_folder_rows_summary_and_exit_code(secured: ServerThread, folder: Path) -> None:
    run = doctriage("--address", secured.address, "classify", str(folder), key="classify")
    assert run.returncode == 1, run.stderr  # some files refused
    table = rows(run.stdout)
    names = ["a-invoice.pdf", "b-photo.jpg", "c-notes.txt", "d-locked.pdf", "e-scan.png", "f-scan-no-extension"]
    assert [Path(r[0]).name for r in table] == names  # every file, folders walked in order
    by_name = {Path(r[0]).name: r for r in table}
    assert by_name["c-notes.txt"][1:3] == ["ERROR", "UNSUPPORTED_TYPE"]
    assert by_name["d-locked.pdf"][1:3] == ["ERROR", "ENCRYPTED"]
    classified = [r for r in table if r[1] != "ERROR"]
    assert len(classified) == 4 and all(r[3] in DECISIONS and 0 < float(r[2]) <= 1 for r in classified)
    decisions = Counter(r[3] for r in classified)
    summary = run.stderr.splitlines()
    assert summary[0].startswith("6 files in ")
    assert summary[1] == "classified 4: " + ", ".join(f"{d} {n}" for d, n in sorted(decisions.items()))
    assert summary[2] == "refused 2: ENCRYPTED 1, UNSUPPORTED_TYPE 1"
    assert "\r" not in run.stderr  # no progress bar when stderr is not a terminal

    documents_only = doctriage(
        "classify", "--documents-only", "--address", secured.address, str(folder), "--concurrency", "1", key="classify"
    )
    assert documents_only.returncode == 1  # the locked PDF is still a PDF
    assert {Path(r[0]).name for r in rows(documents_only.stdout)} == set(names) - {"c-notes.txt"}

    good = doctriage("classify", str(folder / "a-invoice.pdf"), str(folder / "sub"), key="classify",
                     DOCTRIAGE_ADDRESS=secured.address)  # fmt: skip
    assert good.returncode == 0, good.stderr
    assert len(rows(good.stdout)) == 3 and "refused 0" in good.stderr


def test_classify_json_lines(secured: ServerThread, folder: Path) -> None:
    run = doctriage("--address", secured.address, "classify", "--json", "--quiet", str(folder), key="classify")
    assert run.returncode == 1
    assert run.stderr == ""  # --quiet: no summary, no bar
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(lines) == 6
    errors = {Path(x["client_ref"]).name: x["error"] for x in lines if x["error"]}
    assert errors["c-notes.txt"]["reason"] == "UNSUPPORTED_TYPE"
    assert errors["c-notes.txt"]["code"] == "INVALID_ARGUMENT"
    assert errors["d-locked.pdf"]["reason"] == "ENCRYPTED"
    ok = [x for x in lines if not x["error"]]
    assert all(x["decision"] in DECISIONS and x["model_version"] == "2.3" and len(x["digest"]) == 64 for x in ok)


def test_progress_bar_only_on_a_terminal(secured: ServerThread, folder: Path) -> None:
    main, child = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCTRIAGE_")}
    env["DOCTRIAGE_API_KEY"] = KEYS["classify"]
    proc = subprocess.Popen(
        [DOCTRIAGE, "--address", secured.address, "classify", str(folder)],
        stdout=subprocess.PIPE,
        stderr=child,
        env=env,
        text=True,
    )
    os.close(child)
    terminal = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # EIO: the child closed its end
            break
        if not chunk:
            break
        terminal += chunk
    os.close(main)
    stdout, _ = proc.communicate(timeout=60)
    assert proc.returncode == 1
    seen = terminal.decode()
    assert "classifying [" in seen and "/6" in seen and "\r" in seen
    assert "6 files in " in seen and "Traceback" not in seen
    assert len(rows(stdout)) == 6 and "classifying" not in stdout  # the rows stay clean


def test_admin_commands_round_trip(secured: ServerThread, tmp_path: Path) -> None:
    a = ("--address", secured.address)

    def admin_json(*args: str) -> object:
        run = doctriage(*a, "admin", *args, "--json")
        assert run.returncode == 0, run.stderr
        return json.loads(run.stdout)

    status = admin_json("status")
    assert status["serving"] is True and len(status["config_digest"]) == 64  # type: ignore[index]
    human = doctriage(*a, "admin", "status")
    assert human.returncode == 0 and "serving" in human.stdout and "doc-classifier\t2.3\tREADY" in human.stdout
    assert "requests" in admin_json("stats")  # type: ignore[operator]
    assert "features" in admin_json("drift")  # type: ignore[operator]

    applied = admin_json("thresholds", "set", "--model-version", "2.3", "--accept", "0.97", "--review-below", "0.41",
                         "--label", "invoice=0.99,0.5", "--audit-rate", "0.05", "--provenance", "test_cli")  # fmt: skip
    got = admin_json("thresholds", "get", "--model-version", "2.3")
    for t in (applied, got):
        assert t["default"] == {"accept": 0.97, "review_below": 0.41}  # type: ignore[index]
        assert t["per_label"] == {"invoice": {"accept": 0.99, "review_below": 0.5}}  # type: ignore[index]
        assert (t["provenance"], t["audit_rate"], t["model_version"]) == ("test_cli", 0.05, "2.3")  # type: ignore[index]
    # What is not given is kept.
    kept = admin_json("thresholds", "set", "--model-version", "2.3", "--accept", "0.95")
    assert kept["default"] == {"accept": 0.95, "review_below": 0.41} and "invoice" in kept["per_label"]  # type: ignore[index]
    refused = doctriage(*a, "admin", "thresholds", "set", "--model-version", "2.3", "--accept", "0.2")
    assert refused.returncode == 2 and "INVALID_REQUEST" in refused.stderr and "hint:" in refused.stderr

    listed = admin_json("models", "list")
    assert {(m["version"], m["state"]) for m in listed} >= {("2.3", "READY")}  # type: ignore[index, union-attr]
    loaded = admin_json("models", "load", "doc-classifier", "9.9")
    assert (loaded["version"], loaded["state"]) == ("9.9", "READY")  # type: ignore[index]

    split = admin_json("split", "set", "2.3=0.75", "9.9=0.25")
    for s in (split, admin_json("split", "get")):
        assert s["weights"] == [{"version": "2.3", "weight": 0.75}, {"version": "9.9", "weight": 0.25}]  # type: ignore[index]
        assert s["model_name"] == "doc-classifier"  # type: ignore[index]
    shadowed = admin_json("split", "set", "2.3=1", "--shadow", "9.9", "--shadow-share", "0.5")
    assert (shadowed["shadow_version"], shadowed["shadow_share"]) == ("9.9", 0.5)  # type: ignore[index]
    human_split = doctriage(*a, "admin", "split", "get")
    assert "weights  2.3 1" in human_split.stdout and "shadow   9.9 on 0.5" in human_split.stdout
    admin_json("split", "set", "--no-shadow")

    unloaded = admin_json("models", "unload", "doc-classifier", "9.9")
    assert unloaded["state"] == "UNLOADED"  # type: ignore[index]


def test_review_queue_list_claim_resolve(secured: ServerThread, documents: dict[str, bytes], tmp_path: Path) -> None:
    a = ("--address", secured.address)
    page = tmp_path / "uncertain.png"
    page.write_bytes(documents["png"])
    # Nothing is accepted for 2.3: the answer goes to the review queue.
    assert doctriage(*a, "admin", "thresholds", "set", "--model-version", "2.3", "--accept", "1", "--review-below",
                     "1", "--no-rule").returncode == 0  # fmt: skip
    classified = doctriage(*a, "classify", "--json", str(page))
    assert classified.returncode == 0, classified.stderr
    answer = json.loads(classified.stdout)
    assert answer["decision"] == "HUMAN_REVIEW" and answer["review_id"]

    listed = doctriage(*a, "admin", "reviews", "list", "--status", "pending", "--all-pages", "--json", key="review")
    assert listed.returncode == 0, listed.stderr
    items = {i["id"]: i for i in json.loads(listed.stdout)["items"]}
    assert items[answer["review_id"]]["status"] == "PENDING"

    saved = tmp_path / "claimed.bin"
    claim = doctriage(*a, "admin", "reviews", "claim", answer["review_id"], "--reviewer", "alice", "-o", str(saved),
                      "--json", key="review")  # fmt: skip
    assert claim.returncode == 0, claim.stderr
    claimed = json.loads(claim.stdout)
    assert (claimed["status"], claimed["claimed_by"], claimed["content"]) == ("CLAIMED", "alice", "")
    assert saved.read_bytes() == documents["png"]

    resolve = doctriage(*a, "admin", "reviews", "resolve", answer["review_id"], "invoice", key="review",
                        DOCTRIAGE_REVIEWER="alice")  # fmt: skip
    assert resolve.returncode == 0, resolve.stderr
    assert "\tRESOLVED\t" in resolve.stdout and "true_label=invoice" in resolve.stdout
    human = doctriage(*a, "admin", "reviews", "list", "--status", "resolved", key="review")
    assert answer["review_id"] in human.stdout and "in all" in human.stdout


def test_health(secured: ServerThread) -> None:
    serving = doctriage("health", "--address", secured.address, key=None)  # health needs no key
    assert (serving.returncode, serving.stdout.strip()) == (0, "SERVING")
    admin = doctriage("--address", secured.address, "health", "--service", "doctriage.v1.Admin", key=None)
    assert admin.returncode == 0
    unknown = doctriage("--address", secured.address, "health", "--service", "nope", key=None)
    assert (unknown.returncode, unknown.stdout.strip()) == (1, "SERVICE_UNKNOWN")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_no_sidecar_exit_2_with_a_hint(tmp_path: Path, documents: dict[str, bytes]) -> None:
    page = tmp_path / "page.png"
    page.write_bytes(documents["png"])
    address = f"127.0.0.1:{_free_port()}"
    for args in (["classify", str(page), str(page.parent)], ["admin", "status"], ["health"]):
        run = doctriage("--address", address, "--timeout", "5", *args)
        assert run.returncode == 2, (args, run.stderr)
        assert run.stderr.startswith("doctriage: UNAVAILABLE: ")
        assert f"hint: is the sidecar running at {address}?" in run.stderr


def test_authentication_hints(secured: ServerThread, tmp_path: Path, documents: dict[str, bytes]) -> None:
    page = tmp_path / "page.png"
    page.write_bytes(documents["png"])
    a = ("--address", secured.address)
    anonymous = doctriage(*a, "classify", str(page), key=None)
    assert anonymous.returncode == 2 and anonymous.stdout == ""
    assert "UNAUTHENTICATED" in anonymous.stderr and "hint: pass --api-key or set DOCTRIAGE_API_KEY" in anonymous.stderr
    wrong = doctriage(*a, "--api-key", "dtk_wrong", "admin", "status", key=None)
    assert wrong.returncode == 2 and "the sidecar does not know this key" in wrong.stderr
    key_file = tmp_path / "api-key"
    key_file.write_text(KEYS["classify"] + "\n")
    role = doctriage(*a, "admin", "models", "list", "--api-key-file", str(key_file), key=None)
    assert role.returncode == 2 and "PERMISSION_DENIED" in role.stderr and "lacks the role" in role.stderr
    assert doctriage(*a, "classify", str(page), key=None, DOCTRIAGE_API_KEY_FILE=str(key_file)).returncode == 0


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert doctriage("eval", str(tmp_path)).returncode == 2  # doctriage-admin's, not the client's
    assert doctriage("admin", "split", "set", "2.3:0.9").returncode == 2
    missing = doctriage("--api-key-file", str(tmp_path / "nope"), "health")
    assert missing.returncode == 2 and "cannot read the API key file" in missing.stderr


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI")
def test_mutual_tls(models: Path, tmp_path_factory: pytest.TempPathFactory, documents: dict[str, bytes]) -> None:
    c = make_certs(tmp_path_factory.mktemp("cli-certs"))
    auth = auth_section(tls_cert_file=c.server_cert, tls_key_file=c.server_key, client_ca_file=c.ca)
    running = ServerThread(make_settings(models, auth=auth)).start()
    try:
        tls = ("--tls-ca", str(c.ca), "--tls-cert", str(c.client_cert), "--tls-key", str(c.client_key))
        assert doctriage("--address", running.address, "health", *tls).returncode == 0
        status = doctriage("--address", running.address, "admin", "status", "--json", key=None,
                           DOCTRIAGE_TLS_CA=str(c.ca), DOCTRIAGE_TLS_CERT=str(c.client_cert),
                           DOCTRIAGE_TLS_KEY=str(c.client_key), DOCTRIAGE_API_KEY=KEYS["admin"])  # fmt: skip
        assert status.returncode == 0 and json.loads(status.stdout)["serving"] is True
        plain = doctriage("--address", running.address, "admin", "status")
        assert plain.returncode == 2 and "hint:" in plain.stderr and "--tls" in plain.stderr
        half = doctriage("--address", running.address, "health", "--tls-ca", str(c.ca), "--tls-cert", str(c.ca))
        assert half.returncode == 2 and "needs both --tls-cert and --tls-key" in half.stderr
    finally:
        running.stop()
