"""Helpers for the gateway tests: API keys with roles, bearer metadata, throwaway certificates (openssl CLI)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from sidecar.server.auth import hash_key

KEYS = {
    "classify": "dtk_test_classify_0123456789abcdef",
    "review": "dtk_test_review_0123456789abcdef",
    "admin": "dtk_test_admin_0123456789abcdef",
    "slow": "dtk_test_scrypt_0123456789abcdef",
}


def auth_section(enabled: bool = True, **extra: object) -> dict[str, object]:
    keys = [
        {"id": "svc-classify", "hash": hash_key(KEYS["classify"]), "roles": ["classify"]},
        {"id": "svc-review", "hash": hash_key(KEYS["review"]), "roles": ["review"]},
        {"id": "ops-admin", "hash": hash_key(KEYS["admin"]), "roles": ["admin", "review", "classify"]},
        {"id": "svc-scrypt", "hash": hash_key(KEYS["slow"], "scrypt"), "roles": ["classify"]},
    ]
    return {"enabled": enabled, "keys": keys, **extra}


def bearer(key: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {key}"),)


@dataclass(frozen=True)
class Certs:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    rogue_cert: Path  # signed by another CA
    rogue_key: Path
    expired_client_cert: Path  # signed by the CA, valid only in January 2020
    expired_client_key: Path
    expired_server_cert: Path  # localhost/127.0.0.1, signed by the CA, valid only in January 2020
    expired_server_key: Path


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _ca(directory: Path, name: str) -> None:
    _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", f"{name}.key", cwd=directory)
    _openssl(
        "req", "-x509", "-new", "-key", f"{name}.key", "-subj", f"/CN={name}", "-days", "1",
        "-addext", "basicConstraints=critical,CA:TRUE", "-out", f"{name}.pem", cwd=directory,
    )  # fmt: skip


def _leaf(directory: Path, name: str, ca: str, extensions: str) -> None:
    _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", f"{name}.key", cwd=directory)
    _openssl("req", "-new", "-key", f"{name}.key", "-subj", f"/CN={name}", "-out", f"{name}.csr", cwd=directory)
    (directory / f"{name}.ext").write_text(extensions)
    _openssl(
        "x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key", "-CAcreateserial",
        "-days", "1", "-extfile", f"{name}.ext", "-out", f"{name}.pem", cwd=directory,
    )  # fmt: skip


def _expired_leaf(directory: Path, name: str, ca: str, extensions: str) -> None:
    """A leaf that expired years ago: `openssl ca` takes explicit dates (OpenSSL 3.0's `x509 -req` does not)."""
    _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", f"{name}.key", cwd=directory)
    _openssl("req", "-new", "-key", f"{name}.key", "-subj", f"/CN={name}", "-out", f"{name}.csr", cwd=directory)
    (directory / f"{name}.ext").write_text(extensions)
    db = directory / f"{name}-db"
    db.mkdir()
    (db / "index.txt").touch()
    (db / "serial").write_text("01\n")
    (db / "ca.cnf").write_text(
        "[ca]\ndefault_ca = past\n[past]\ndatabase = index.txt\nnew_certs_dir = .\nserial = serial\n"
        "default_md = sha256\npolicy = any\n[any]\ncommonName = supplied\n"
    )
    _openssl(
        "ca", "-batch", "-config", "ca.cnf", "-cert", f"../{ca}.pem", "-keyfile", f"../{ca}.key",
        "-in", f"../{name}.csr", "-out", f"../{name}.pem", "-extfile", f"../{name}.ext", "-notext",
        "-startdate", "20200101000000Z", "-enddate", "20200131000000Z", cwd=db,
    )  # fmt: skip


def make_certs(directory: Path) -> Certs:
    """A CA, a server certificate for localhost/127.0.0.1, a client one, a client one of another CA, and an
    expired client and server certificate of the CA."""
    _ca(directory, "ca")
    _ca(directory, "rogue-ca")
    _leaf(directory, "server", "ca", "basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n")
    _leaf(directory, "client", "ca", "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n")
    _leaf(directory, "rogue", "rogue-ca", "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n")
    _expired_leaf(directory, "expired-client", "ca", "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n")
    _expired_leaf(
        directory, "expired-server", "ca", "basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n"
    )
    d = directory
    return Certs(
        ca=d / "ca.pem",
        server_cert=d / "server.pem",
        server_key=d / "server.key",
        client_cert=d / "client.pem",
        client_key=d / "client.key",
        rogue_cert=d / "rogue.pem",
        rogue_key=d / "rogue.key",
        expired_client_cert=d / "expired-client.pem",
        expired_client_key=d / "expired-client.key",
        expired_server_cert=d / "expired-server.pem",
        expired_server_key=d / "expired-server.key",
    )
