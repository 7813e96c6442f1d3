"""The national SDK's request authentication, without any server (hub/vxp/auth.py)."""

from __future__ import annotations

import datetime as dt
import hashlib
import zoneinfo

import pytest

from hub.vxp import auth
from tests.national_sdk import sdk_headers

SECRET = "s3cret"
SYSTEM = "vxp.saas.02"
ZONE = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
NOW = dt.datetime(2026, 12, 5, 9, 30, tzinfo=ZONE)


def check(
    headers: dict[str, str],
    *,
    body: bytes = b"",
    package: bool = False,
    now: dt.datetime = NOW,
    secrets: dict[str, list[bytes]] | None = None,
) -> auth.Signed:
    known = {SYSTEM: [SECRET.encode()]} if secrets is None else secrets
    lowered = {k.lower(): v for k, v in headers.items()}
    return auth.authenticate(
        headers=lambda name: [lowered[name.lower()]] if name.lower() in lowered else [],
        sign_header=headers.get(auth.SIGN_HEADER, "").encode() or None,
        hash_header=headers.get(auth.HASH_HEADER),
        secrets_of=lambda s: known.get(s, []),
        body=body,
        carries_package=package,
        now=now,
        zone=ZONE,
    )


def signed(values: dict[str, str] | None = None, **options: object) -> dict[str, str]:
    return sdk_headers(
        system_id=SYSTEM,
        secret=SECRET,
        values=values or {"messagetype": "edoc"},
        when=NOW.replace(tzinfo=None),
        **options,  # type: ignore[arg-type]
    )


def test_the_sdks_hex_drops_the_leading_zero_of_small_bytes() -> None:
    assert auth.sdk_hex(bytes([0x00, 0x0A, 0x10, 0xFF])) == "0a10ff"


def test_an_authentic_request_gives_its_signed_values() -> None:
    found = check(signed({"docId": "lt-1", "status": "done"}))
    assert found.system_id == SYSTEM
    assert found.get("docid") == "lt-1" and found.get("status") == "done"
    assert len(found.replay_key) == 32


def test_the_package_is_the_file_the_hash_names_with_or_without_the_sdks_crlf() -> None:
    package = b"<edXML>\xc3\xa1</edXML>"
    headers = signed(body=package)
    assert check(headers, body=package + b"\r\n", package=True).package == package
    assert check(headers, body=package, package=True).package == package
    with pytest.raises(auth.Refused) as refused:
        check(headers, body=package + b"x", package=True)
    assert refused.value.code == "BODY_MISMATCH"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda h: h.pop(auth.SIGN_HEADER), "UNAUTHORIZED"),
        (lambda h: h.__setitem__(auth.HASH_HEADER, "0" * 64), "UNAUTHORIZED"),
        (lambda h: h.__setitem__("XroadVnpt-messagetype", "status"), "BAD_REQUEST"),
        (lambda h: h.__setitem__(auth.SIGN_HEADER, "[1]"), "BAD_REQUEST"),
        (lambda h: h.__setitem__(auth.SIGN_HEADER, "x" * 20000), "BAD_REQUEST"),
    ],
)
def test_what_was_not_signed_so_is_refused(change: object, code: str) -> None:
    headers = signed()
    change(headers)  # type: ignore[operator]
    with pytest.raises(auth.Refused) as refused:
        check(headers)
    assert refused.value.code == code


def test_another_systems_secret_or_an_unknown_system_is_refused() -> None:
    with pytest.raises(auth.Refused, match="systemid"):
        check(signed(), secrets={SYSTEM: [b"other"]})
    with pytest.raises(auth.Refused):
        check(signed(), secrets={})


def test_the_previous_secret_is_valid_while_the_store_says_so() -> None:
    assert check(signed(), secrets={SYSTEM: [b"new", SECRET.encode()]}).system_id == SYSTEM


@pytest.mark.parametrize("minutes", [-6, 6])
def test_a_timestamp_five_minutes_off_is_stale(minutes: int) -> None:
    with pytest.raises(auth.Refused) as refused:
        check(signed(), now=NOW + dt.timedelta(minutes=minutes))
    assert refused.value.code == "STALE_REQUEST"
    assert check(signed(), now=NOW + dt.timedelta(minutes=4)).system_id == SYSTEM


def test_the_timestamp_is_the_sdks_format_in_the_configured_zone() -> None:
    at = auth.parse_timestamp("05122026T093000+0123", ZONE)
    assert at == dt.datetime(2026, 12, 5, 9, 30, 0, 123000, tzinfo=ZONE)
    for bad in ("2026-12-05T09:30:00", "32122026T093000+0123", ""):
        with pytest.raises(auth.Refused):
            auth.parse_timestamp(bad, ZONE)


def test_the_replay_key_binds_the_system_and_the_signed_header() -> None:
    one = check(signed()).replay_key
    assert (
        one
        == hashlib.sha256(SYSTEM.encode() + b"\n" + signed()[auth.SIGN_HEADER].encode()).digest()
    )
