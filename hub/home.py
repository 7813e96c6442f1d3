"""Files under LIENTHONG_HOME: the development CA, the hub's signing key, issued agency keys.

Private keys are written with mode 0600 and replaced atomically (write, then rename).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from hub.config import Settings
from hub.errors import ConfigError
from hub.registry import issuing, pki


def write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def write_public(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


@dataclass(frozen=True, kw_only=True, slots=True)
class KeyPair:
    key: pki.PrivateKey
    cert: x509.Certificate
    key_path: Path
    cert_path: Path
    intermediates: tuple[x509.Certificate, ...] = ()
    """The certificates after the first in ``cert.pem`` (its issuing CAs, nearest first)."""


def _load_pair(key_path: Path, cert_path: Path, *, what: str, fix: str) -> KeyPair:
    if not key_path.exists() or not cert_path.exists():
        raise ConfigError(f"{what} not found at {key_path} / {cert_path}: {fix}")
    try:
        key = pki.load_private_key(key_path.read_bytes())
        cert, *intermediates = x509.load_pem_x509_certificates(cert_path.read_bytes())
    except (ValueError, OSError) as exc:
        raise ConfigError(f"{what} at {key_path} cannot be read ({exc}): {fix}") from exc
    return KeyPair(
        key=key,
        cert=cert,
        key_path=key_path,
        cert_path=cert_path,
        intermediates=tuple(intermediates),
    )


def ca_paths(settings: Settings) -> tuple[Path, Path]:
    return settings.ca_dir / "key.pem", settings.ca_dir / "cert.pem"


def load_dev_ca(settings: Settings) -> KeyPair:
    key_path, cert_path = ca_paths(settings)
    return _load_pair(
        key_path, cert_path, what="the development CA", fix="run `lienthong ca init` first"
    )


def load_hub_identity(settings: Settings) -> KeyPair:
    return _load_pair(
        settings.hub_key_path,
        settings.hub_cert_path,
        what="the hub's signing key",
        fix="run `lienthong ca init` (development) or place the hub's key.pem and cert.pem there",
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class CaInit:
    ca: KeyPair
    hub: KeyPair
    created_ca: bool
    created_hub: bool


def init_dev_ca(settings: Settings) -> CaInit:
    """Create the development CA and the hub's key and certificate, keeping what exists."""
    key_path, cert_path = ca_paths(settings)
    created_ca = not (key_path.exists() and cert_path.exists())
    if created_ca:
        key, cert = issuing.make_ca("lienthong development CA")
        write_private(key_path, pki.key_pem(key))
        write_public(cert_path, pki.pem(cert).encode())
    ca = load_dev_ca(settings)
    created_hub = not (settings.hub_key_path.exists() and settings.hub_cert_path.exists())
    if created_hub:
        key, cert = issuing.issue(
            ca.key,
            ca.cert,
            issuing.IssueRequest(common_name="lienthong hub", key_kind="ec", days=825),
        )
        write_private(settings.hub_key_path, pki.key_pem(key))
        write_public(settings.hub_cert_path, pki.pem(cert).encode())
    return CaInit(
        ca=ca, hub=load_hub_identity(settings), created_ca=created_ca, created_hub=created_hub
    )


def agency_paths(settings: Settings, organ_id: str) -> tuple[Path, Path]:
    folder = settings.agencies_dir / organ_id
    return folder / "key.pem", folder / "cert.pem"
