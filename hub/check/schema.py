"""Schema validation of edXML packages (document or status) against schemas/.

libxml2's own check of ``xs:base64Binary`` lets malformed base64 through, so attachments are
also decoded strictly here. Failures are ``SCHEMA_INVALID`` with the first problems and their
line numbers.
"""

from __future__ import annotations

import binascii
import threading
from collections.abc import Callable, Iterable, Mapping
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import cast

from lxml import etree

from hub.check import xmlsafe
from hub.errors import Code, PackageRejected

EDXML_NS = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
RECEIPT_NS = "urn:lienthong:receipt:1"
MAX_REPORTED = 3
_WHITESPACE = b" \t\n\r\f\v"
BASE64_CHUNK = 1 << 20
"""Attachments are checked this many characters at a time: a 50 MB attachment costs no copy
of its size beyond the text lxml hands over."""


class Kind(StrEnum):
    """What a submission says it is: the AMQP routing key, or the gateway route."""

    EDOC = "edoc"
    STATUS = "status"


_FILES = {Kind.EDOC: "edxml-document.xsd", Kind.STATUS: "edxml-status.xsd"}


_LOADING = threading.Lock()
"""libxml2 compiles a schema with global state (its built-in types are set up on first use):
two threads compiling at once fail with "the given type is not a built-in type". The checks
run in a thread pool, so schemas are compiled one at a time (and once: they are cached)."""


def load(name: str, *, base64_checked_here: bool = False) -> etree.XMLSchema:
    with _LOADING:
        return _load(name, base64_checked_here=base64_checked_here)


@cache
def _load(name: str, *, base64_checked_here: bool = False) -> etree.XMLSchema:
    """An XSD of schemas/. With ``base64_checked_here``, attachments' ``ContentTransferEncoded``
    is compiled as ``xs:string``: :func:`check_attachments` decodes it strictly anyway, and
    libxml2's own (lax) ``xs:base64Binary`` check was the larger part of validating a package
    with a large attachment. The published XSD keeps ``xs:base64Binary``."""
    path = resources.files("hub").joinpath("schemas", name)
    with resources.as_file(path) as file:
        parser = xmlsafe.parser(huge_tree=False)
        document = etree.parse(str(file), parser)
    if base64_checked_here:
        for element in document.iter("{http://www.w3.org/2001/XMLSchema}element"):
            if element.get("name") == "ContentTransferEncoded":
                element.set("type", "xs:string")
    return etree.XMLSchema(document)


def schema_for(kind: Kind) -> etree.XMLSchema:
    """The schema the pipeline validates with (attachments' base64 is then checked here)."""
    return load(_FILES[kind], base64_checked_here=kind is Kind.EDOC)


ATTACHMENT_TEXT = f"{{{EDXML_NS}}}ContentTransferEncoded"
"""The element whose text is an attachment's base64 (what :mod:`hub.check.excision` excises)."""


def validate(
    tree: etree._ElementTree,
    kind: Kind,
    *,
    runs: Mapping[str, Callable[[], Iterable[bytes | memoryview]]] = {},
) -> None:
    root = tree.getroot()
    if root.tag != f"{{{EDXML_NS}}}edXML":
        raise PackageRejected(
            Code.SCHEMA_INVALID,
            f"the root element is {root.tag!r}; an edXML package has root "
            f"{{{EDXML_NS}}}edXML (QCVN 102:2016)",
        )
    schema = schema_for(kind)
    if not schema.validate(tree):
        errors: list[etree._LogEntry] = list(cast("Iterable[etree._LogEntry]", schema.error_log))
        problems = [f"line {e.line}: {_shorten(e.message)}" for e in errors[:MAX_REPORTED]]
        more = len(errors) - len(problems)
        suffix = f" (and {more} more)" if more > 0 else ""
        raise PackageRejected(
            Code.SCHEMA_INVALID,
            f"not a valid edXML {'document' if kind is Kind.EDOC else 'status'} package: "
            + "; ".join(problems)
            + suffix,
        )
    if kind is Kind.EDOC:
        check_attachments(root, runs)


def _shorten(message: str, limit: int = 240) -> str:
    """libxml2 quotes the offending value whole (a whole attachment, say): keep it readable."""
    message = message.replace(f"{{{EDXML_NS}}}", "")
    if len(message) <= limit:
        return message
    return message[: limit // 2] + " … " + message[-limit // 3 :]


def check_attachments(
    root: etree._Element, runs: Mapping[str, Callable[[], Iterable[bytes | memoryview]]] = {}
) -> None:
    """Each attachment's ``ContentTransferEncoded`` is strict base64. ``runs``: the text of an
    excised attachment (:mod:`hub.check.excision`), by the marker the tree holds instead."""
    path = f"{{{EDXML_NS}}}AttachmentEncoded/{{{EDXML_NS}}}Attachment"
    for attachment in root.iterfind(path):
        encoded = attachment.find(f"{{{EDXML_NS}}}ContentTransferEncoded")
        if encoded is None or encoded.text is None:
            continue
        try:
            run = runs.get(encoded.text)
            if run is not None:
                strict_base64_pieces(run())
            else:
                strict_base64(encoded.text)
        except (binascii.Error, ValueError) as exc:
            raise PackageRejected(
                Code.SCHEMA_INVALID,
                f"line {encoded.sourceline}: attachment "
                f"{attachment.findtext(f'{{{EDXML_NS}}}ContentId')!r} is not valid base64 ({exc})",
            ) from exc


def strict_base64(text: str, *, chunk: int = BASE64_CHUNK) -> None:
    """Raise :class:`binascii.Error` unless ``text``, white space aside, is base64 with padding
    only at its end. Checked a chunk at a time (4-character groups carried across chunks)."""
    strict_base64_pieces(
        text[start : start + chunk].encode("ascii", errors="replace")
        for start in range(0, len(text), chunk)
    )


def strict_base64_pieces(pieces: Iterable[bytes | memoryview]) -> None:
    """:func:`strict_base64` of the text these pieces make, one piece at a time."""
    carry = b""
    held: bytes | None = None  # the last piece is decoded strictly as a whole, with the carry
    for piece in pieces:
        if held is not None:
            carry = _decode_groups(carry + held)
        held = bytes(piece).translate(None, _WHITESPACE)
    binascii.a2b_base64(carry + (held or b""), strict_mode=True)


def _decode_groups(piece: bytes) -> bytes:
    """Decode the whole 4-character groups of a piece that is not the last, up to its first
    padding (from there on, wait for the end: only white space may follow it, which the final
    strict decode then judges); return what is carried to the next piece."""
    padding = piece.find(b"=")
    end = len(piece) if padding < 0 else padding
    cut = end - end % 4
    binascii.a2b_base64(piece[:cut], strict_mode=True)
    return piece[cut:]
