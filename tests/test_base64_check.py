"""The attachments' strict base64 check, chunked, accepts exactly what a whole-string strict
decode accepts — at every chunk size, wherever the white space and padding fall."""

from __future__ import annotations

import base64
import binascii
import random
import re

import pytest

from hub.check.schema import strict_base64


def whole_string_verdict(text: str) -> bool:
    """The check as it was: strip white space, decode the whole with validate=True."""
    data = re.sub(rb"\s+", b"", text.encode("ascii", errors="replace"))
    try:
        base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def chunked_verdict(text: str, chunk: int) -> bool:
    try:
        strict_base64(text, chunk=chunk)
    except (binascii.Error, ValueError):
        return False
    return True


def cases() -> list[str]:
    rng = random.Random(102)
    found = [
        "",
        "QQ==",
        "QUI=",
        "QUJD",
        "Q",
        "QQ=",
        "QQ===",
        "=QQ=",
        "QQ==QUJD",
        "QU JD",
        "QUJD\r\n",
        "QU*D",
        "QUJDé",
        "QUJ\tD\nRA==",
        " ",
        "\n\n",
    ]
    for _ in range(300):
        raw = base64.b64encode(rng.randbytes(rng.randrange(0, 40))).decode()
        chars = list(raw)
        for _ in range(rng.randrange(0, 4)):
            chars.insert(rng.randrange(0, len(chars) + 1), rng.choice(" \n\r\t"))
        if rng.random() < 0.3 and chars:
            chars[rng.randrange(len(chars))] = rng.choice("=*-_.é")
        if rng.random() < 0.1:
            chars.append(rng.choice(["=", "A", "AA", "QQ=="]))
        found.append("".join(chars))
    return found


@pytest.mark.parametrize("chunk", [1, 2, 3, 4, 5, 7, 8, 13, 1 << 20])
def test_chunked_check_agrees_with_the_whole_string_check(chunk: int) -> None:
    for text in cases():
        assert chunked_verdict(text, chunk) == whole_string_verdict(text), (text, chunk)
