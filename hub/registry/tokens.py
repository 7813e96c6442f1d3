"""Bearer tokens (systems' gateway tokens, operators' tokens): stored as their hash."""

from __future__ import annotations

import hashlib


def token_hash(token: str) -> bytes:
    """Tokens are random 256-bit secrets, so one SHA-256 is the right hash."""
    return hashlib.sha256(token.encode("utf-8")).digest()
