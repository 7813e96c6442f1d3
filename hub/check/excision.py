"""Large attachments checked without a copy of their text in the tree. Pure.

A package's size is almost all one or two base64 attachments. Parsed as they are, each is held
again in libxml2's tree, again as the ``str`` lxml hands over, and again by libxml2's canonical
form: three copies of the package at the peak of its check. So before parsing, each run of at
least :data:`EXCISE_MIN` base64 characters (letters, digits, ``+/=`` and white space) that lies
between a ``>`` and a ``<`` is replaced by a :class:`Excision`'s marker: a random word and as
many line ends as the run had (line numbers in messages stay right). The tree is then small; the
run is checked as base64 and digested straight from the submitted bytes.

Why the result is the same package: the bytes before a run are the same, so the parser is in the
same state at its start; if the marker is then read as the whole text of an element
(:func:`bind`), that position is character data, where a run without ``<`` and ``&`` is read as
text too (line ends normalised) — and the rest of the bytes are the same again. A run that was
not the whole text of an edXML ``ContentTransferEncoded`` (inside a comment, CDATA or a
processing instruction, or beside other text) is not excised: the package is parsed whole. In
the canonical form a base64 run is written as it was read (no character of it is escaped), so
the digest of the package is the digest of the small tree's canonical form with each marker
replaced by its run (:func:`digest_spliced`).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from lxml import etree

EXCISE_MIN = 64 << 10
"""Runs shorter than this stay in the tree (a small package is parsed as it is). Excision pays
well below the sizes where memory matters: libxml2 checks a base64Binary in the tree character
by character, and keeps, hands over and canonicalises its copy of the text; read from the bytes
instead, a 276 KB package's inspection and verification took 2.3 ms instead of 2.8 on this
project's 2-core machine."""
SLICE = 1 << 20
"""Runs are read this many bytes at a time."""

_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\r\n\t "


@dataclass(frozen=True, kw_only=True, slots=True)
class Excision:
    """One run of the submitted bytes, ``data[start:end]``, and the marker parsed in its place."""

    start: int
    end: int
    marker: str


def _runs(data: bytes) -> Iterator[tuple[int, int]]:
    """Each run of :data:`EXCISE_MIN` or more base64 characters between a ``>`` and a ``<``.
    One step per ``<`` (the caller has bounded their number), the characters checked a slice
    at a time by ``bytes.translate`` (a regular expression took 0.2 s for 64 MiB)."""
    after = 0  # just past the previous '<'
    while (lt := data.find(b"<", after)) >= 0:
        gt = data.rfind(b">", after, lt)
        start = gt + 1
        if gt >= 0 and lt - start >= EXCISE_MIN and _all_base64(data, start, lt):
            yield start, lt
        after = lt + 1


def _all_base64(data: bytes, start: int, end: int) -> bool:
    return all(
        not data[at : min(at + SLICE, end)].translate(None, _ALPHABET)
        for at in range(start, end, SLICE)
    )


def find(data: bytes) -> tuple[bytes, tuple[Excision, ...]]:
    """The bytes to parse and what was excised from them (nothing, for most packages). The
    caller has bounded the number of ``<`` (:func:`hub.check.xmlsafe.check_bounds`)."""
    if len(data) < EXCISE_MIN:
        return data, ()
    nonce = secrets.token_hex(16)
    excisions: list[Excision] = []
    parts: list[bytes] = []
    at = 0
    for start, end in _runs(data):
        lines = _line_ends(data, start, end)
        marker = f"lienthong{nonce}x{len(excisions)}" + "\n" * lines
        parts += [data[at:start], marker.encode("ascii")]
        excisions.append(Excision(start=start, end=end, marker=marker))
        at = end
    if not excisions:
        return data, ()
    parts.append(data[at:])
    return b"".join(parts), tuple(excisions)


def _line_ends(data: bytes, start: int, end: int) -> int:
    """Line ends as the parser counts them: CR LF, a lone CR and LF are each one."""
    return (
        data.count(b"\n", start, end)
        + data.count(b"\r", start, end)
        - data.count(b"\r\n", start, end)
    )


def bind(root: etree._Element, excisions: Sequence[Excision], element_tag: str) -> bool:
    """Whether each marker is the whole text of an ``element_tag`` element with no children
    (else the package must be parsed whole). Markers carry a random word, so no sender can
    place one anywhere else."""
    if not excisions:
        return True
    wanted = {e.marker for e in excisions}
    found = 0
    for element in root.iter(element_tag):
        if element.text in wanted and len(element) == 0:
            found += 1
    return found == len(excisions)


def _slices(excision: Excision) -> Iterator[tuple[int, int]]:
    for at in range(excision.start, excision.end, SLICE):
        yield at, min(at + SLICE, excision.end)


def runs(data: bytes, excision: Excision) -> Iterator[memoryview]:
    """The run's bytes, a slice at a time (never a copy of the whole run)."""
    view = memoryview(data)
    for start, end in _slices(excision):
        yield view[start:end]


def normalised(data: bytes, excision: Excision) -> Iterator[bytes | memoryview]:
    """The run as the parser reads it (CR LF and a lone CR become LF), a slice at a time."""
    view = memoryview(data)
    carry = False  # the previous slice ended with CR
    for start, end in _slices(excision):
        if not carry and data.find(b"\r", start, end) < 0:
            yield view[start:end]
            continue
        chunk = data[start:end]
        if carry and chunk.startswith(b"\n"):
            chunk = chunk[1:]
        carry = chunk.endswith(b"\r")
        yield chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def digest_spliced(
    canonical: bytes,
    data: bytes,
    excisions: Sequence[Excision],
    update: Callable[[bytes | memoryview], None],
) -> bool:
    """Feed ``update`` the canonical form of the whole package: ``canonical`` (the small tree's)
    with each marker replaced by its run. False if a marker is not found exactly once."""
    at = 0
    for excision in excisions:
        marker = excision.marker.encode("ascii")
        where = canonical.find(marker, at)
        if where < 0 or canonical.find(marker, where + 1) >= 0:
            return False
        update(canonical[at:where])
        for piece in normalised(data, excision):
            update(piece)
        at = where + len(marker)
    update(canonical[at:])
    return True
