"""Authenticating a national-SDK request, exactly as the SDK signs it. Pure.

The SDK (``VnptService.addXroadVnptHashHeader``) sends each of its parameters twice: as a header
``XroadVnpt-<name>`` and inside ``XroadVnpt-sign-header``, a JSON object of those headers; then
``XroadVnpt-hash-header`` = hex HMAC-SHA256 of the sign-header's bytes under the system's secret.
A request is authentic when that HMAC matches, every signed value is what the request carries,
the timestamp is within :data:`WINDOW` of the hub's clock and (for ``sendEdoc``) ``hash-file``
is the SHA-256 of the package sent. The replay guard (a signed header is taken once) needs the
database: :mod:`hub.http.vxp`. Parameters are read only from the signed JSON.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

PREFIX = "XroadVnpt-"
SIGN_HEADER = PREFIX + "sign-header"
SIGN_KEYS = PREFIX + "sign-header-key"
HASH_HEADER = PREFIX + "hash-header"
WINDOW = dt.timedelta(minutes=5)
MOST_SIGNED_BYTES = 16 * 1024
"""A sign-header larger than this is refused before any JSON is parsed."""
_TIMESTAMP = re.compile(r"(\d{2})(\d{2})(\d{4})T(\d{2})(\d{2})(\d{2})\+(\d{1,4})")
"""``ddMMyyyy'T'HHmmss+SSSS``: the SDK's ``SimpleDateFormat``, in the JVM's local time; the
four digits after ``+`` are milliseconds (not a zone)."""


class Refused(Exception):
    """The request is not authentic; ``code`` and the message go back in the SDK's FAIL shape."""

    def __init__(self, code: str, message: str, *, status: int = 401) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


@dataclass(frozen=True, kw_only=True, slots=True)
class Signed:
    """What an authentic request says: its system and its signed parameters (names without
    the ``XroadVnpt-`` prefix)."""

    system_id: str
    values: Mapping[str, str]
    sign_header: bytes
    package: bytes = b""
    """For ``sendEdoc``: the package as the SDK's file held it (see :func:`package_of`)."""

    def get(self, name: str) -> str | None:
        """A parameter by name, ignoring case (the SDK's own examples write ``docId`` and
        ``docid``); an exact match wins."""
        if name in self.values:
            return self.values[name]
        lowered = name.lower()
        for key, value in self.values.items():
            if key.lower() == lowered:
                return value
        return None

    @property
    def replay_key(self) -> bytes:
        return hashlib.sha256(self.system_id.encode() + b"\n" + self.sign_header).digest()


def sdk_hex(digest: bytes) -> str:
    """Hex as the SDK writes ``hash-file``: ``Integer.toHexString(0xFF & b)`` per byte, so a byte
    below 0x10 is one digit (``createContentHA256``)."""
    return "".join(format(b, "x") for b in digest)


def package_of(body: bytes, hash_file: str) -> bytes:
    """The package whose SHA-256 ``hash_file`` names: the body, or the body without the CRLF
    that the SDK's ``MultipartUtility.addInputStreamPart`` writes after the file's bytes."""
    claimed = hash_file.strip().lower()
    candidates = [body]
    if body.endswith(b"\r\n"):
        candidates.append(body[:-2])
    for candidate in candidates:
        digest = hashlib.sha256(candidate).digest()
        if hmac.compare_digest(claimed, sdk_hex(digest)) or hmac.compare_digest(
            claimed, digest.hex()
        ):
            return candidate
    raise Refused(
        "BODY_MISMATCH",
        "the body is not the file whose SHA-256 XroadVnpt-hash-file names: it was altered or cut "
        "on the way; send the file again",
    )


def parse_timestamp(value: str, zone: dt.tzinfo) -> dt.datetime:
    match = _TIMESTAMP.fullmatch(value.strip())
    if match is None:
        raise Refused(
            "BAD_TIMESTAMP",
            f"XroadVnpt-timestamp {value[:40]!r} is not ddMMyyyy'T'HHmmss+SSSS",
            status=400,
        )
    day, month, year, hour, minute, second, millis = (int(g) for g in match.groups())
    try:
        local = dt.datetime(year, month, day, hour, minute, second, min(millis, 999) * 1000)
    except ValueError as exc:
        raise Refused("BAD_TIMESTAMP", f"XroadVnpt-timestamp {value!r}: {exc}", status=400) from exc
    return local.replace(tzinfo=zone)


def zone_named(name: str | None) -> dt.tzinfo:
    """The time zone the SDK's clocks are read in: ``LIENTHONG_VXP_TIMEZONE``, else the hub's own
    local zone (the SDK writes its JVM's local time with no zone)."""
    if name:
        return zoneinfo.ZoneInfo(name)
    local = dt.datetime.now().astimezone().tzinfo
    assert local is not None
    return local


def _signed_json(raw: bytes) -> dict[str, str]:
    if len(raw) > MOST_SIGNED_BYTES:
        raise Refused(
            "BAD_REQUEST", f"{SIGN_HEADER} is larger than {MOST_SIGNED_BYTES} bytes", status=400
        )
    try:
        parsed = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise Refused("BAD_REQUEST", f"{SIGN_HEADER} is not a JSON object", status=400) from exc
    if not isinstance(parsed, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in parsed.items()
    ):
        raise Refused("BAD_REQUEST", f"{SIGN_HEADER} must map header names to strings", status=400)
    return parsed


def claimed_system(sign_header: bytes | None) -> str:
    """The system id a sign-header names, to look its secrets up before :func:`authenticate`
    checks them ("" when there is none to read); nothing is trusted from it yet."""
    if sign_header is None:
        return ""
    try:
        return _signed_json(sign_header).get(PREFIX + "systemid", "")
    except Refused:
        return ""


def authenticate(
    *,
    headers: Callable[[str], list[str]],
    sign_header: bytes | None,
    hash_header: str | None,
    secrets_of: Callable[[str], Iterable[bytes]],
    body: bytes,
    carries_package: bool,
    now: dt.datetime,
    zone: dt.tzinfo,
) -> Signed:
    """``headers(name)`` gives every value the request carries for a header (any case);
    ``secrets_of(system_id)`` the secrets valid now (the current one and, during a rotation's
    grace period, the previous one; none for an unknown system)."""
    if not sign_header or not hash_header:
        raise Refused(
            "UNAUTHORIZED",
            f"{SIGN_HEADER} and {HASH_HEADER} are missing: use the national SDK, or sign the "
            "request as it does (docs/PROTOCOL.md)",
        )
    signed = _signed_json(sign_header)
    system_id = signed.get(PREFIX + "systemid", "")
    valid = [
        s
        for s in secrets_of(system_id)
        if hmac.compare_digest(
            hmac.new(s, sign_header, hashlib.sha256).hexdigest(), hash_header.strip().lower()
        )
    ]
    if not system_id or not valid:
        raise Refused(
            "UNAUTHORIZED",
            f"systemid {system_id[:64]!r} and its secret do not match: check the SDK's systemid "
            "and secret (lienthong system add shows the secret once; an operator can issue a new "
            "one with lienthong system secret rotate)",
        )
    names = [n for n in headers(SIGN_KEYS)[:1] for n in n.split(";") if n]
    values = {key[len(PREFIX) :]: value for key, value in signed.items() if key.startswith(PREFIX)}
    if len(values) != len(signed) or (names and set(names) != set(values)):
        raise Refused(
            "BAD_REQUEST", f"{SIGN_HEADER} and {SIGN_KEYS} do not name the same headers", status=400
        )
    for name, value in values.items():
        carried = headers(PREFIX + name)
        if value not in carried:
            raise Refused(
                "BAD_REQUEST",
                f"{PREFIX}{name} is not the value that was signed: the request was changed "
                "after it was signed",
                status=400,
            )
    stamp = values.get("timestamp")
    if stamp is None:
        raise Refused("BAD_TIMESTAMP", "the signed headers carry no timestamp", status=400)
    at = parse_timestamp(stamp, zone)
    if abs(now - at) > WINDOW:
        raise Refused(
            "STALE_REQUEST",
            f"XroadVnpt-timestamp {stamp} ({at.isoformat()}) is more than 5 minutes from the "
            f"hub's clock ({now.astimezone(zone).isoformat(timespec='seconds')}); check the "
            "system's clock, and create the SDK's service object anew for each call (it stamps "
            "the time once, when it is created)",
        )
    package = b""
    if carries_package:
        hash_file = values.get("hash-file")
        if hash_file is None:
            raise Refused("BODY_MISMATCH", "sendEdoc without a signed XroadVnpt-hash-file")
        package = package_of(body, hash_file)
    return Signed(system_id=system_id, values=values, sign_header=sign_header, package=package)


def client_headers(
    *,
    system_id: str,
    secret: str,
    values: Mapping[str, str],
    body: bytes | None = None,
    when: dt.datetime,
) -> dict[str, str]:
    """The headers the national SDK sends for a call (``VnptService.addXroadVnptHashHeader``),
    for clients that are not the SDK (the bench, tests): ``when`` in the SDK's local time;
    with a ``body``, its ``hash-file`` in the SDK's hex."""
    stamp = when.strftime("%d%m%YT%H%M%S") + f"+{when.microsecond // 1000:04d}"
    signed = {"systemid": system_id, "timestamp": stamp, "Content-Type": "application/json"}
    if body is not None:
        signed["hash-file"] = sdk_hex(hashlib.sha256(body).digest())
        signed["Content-Type"] = "application/octet-stream"
    signed.update(values)
    sign_header = json.dumps(
        {PREFIX + k: v for k, v in signed.items()}, separators=(",", ":"), ensure_ascii=False
    )
    return {
        **{PREFIX + k: v for k, v in signed.items()},
        SIGN_KEYS: ";".join(signed),
        SIGN_HEADER: sign_header,
        HASH_HEADER: hmac.new(secret.encode(), sign_header.encode(), hashlib.sha256).hexdigest(),
        PREFIX + "version": "3.0.201608",
        "User-Agent": "JAVASDKAgent/1.0.0 XRoad/VPCP",
    }
