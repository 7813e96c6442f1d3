"""The one hardened XML parser of the hub.

No DTD, no entities, no network, no XInclude, bounded depth and size. Every failure is a
:class:`PackageRejected` with ``XML_MALFORMED``, ``XML_FORBIDDEN`` or ``TOO_LARGE`` and a
message that says what was wrong and where.
"""

from __future__ import annotations

import re

from lxml import etree

from hub.errors import Code, PackageRejected

MAX_DEPTH = 64
XINCLUDE_NS = "http://www.w3.org/2001/XInclude"
_DECLARATION = re.compile(rb"^<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_UTF8_BOM = b"\xef\xbb\xbf"


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=True,  # size is bounded by LIENTHONG_MAX_PACKAGE_BYTES, not by libxml2
        remove_blank_text=False,
        remove_comments=False,
        remove_pis=False,
        recover=False,
        collect_ids=False,
    )


def check_prologue(data: bytes) -> None:
    """What must hold before the parser sees a byte: UTF-8, nothing before the declaration."""
    body = data[len(_UTF8_BOM) :] if data.startswith(_UTF8_BOM) else data
    if not body.strip():
        raise PackageRejected(Code.XML_MALFORMED, "the submission is empty")
    if body[:2] in (b"\xff\xfe", b"\xfe\xff") or body[:1] == b"\x00" or body[1:2] == b"\x00":
        raise PackageRejected(Code.XML_MALFORMED, "the package is not UTF-8 (UTF-16 found)")
    start = body.find(b"<")
    if start > 0 and body[:start].strip() != b"":
        raise PackageRejected(
            Code.XML_MALFORMED,
            f"{start} stray byte(s) {body[: min(start, 16)]!r} before the XML declaration; "
            "the package must start with '<?xml' (or '<edXML')",
        )
    if start > 0 and body[start:].startswith(b"<?xml"):
        raise PackageRejected(
            Code.XML_MALFORMED,
            "white space before the XML declaration; the package must start with '<?xml'",
        )
    match = _DECLARATION.match(body[start:] if start >= 0 else body)
    if match and match.group(1).decode("ascii").lower().replace("_", "-") not in ("utf-8", "utf8"):
        raise PackageRejected(
            Code.XML_MALFORMED,
            f"the package declares encoding {match.group(1).decode()!r}; only UTF-8 is accepted",
        )
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PackageRejected(
            Code.XML_MALFORMED,
            f"the package is not valid UTF-8 at byte {exc.start} "
            f"({body[exc.start : exc.start + 4]!r})",
        ) from exc


def parse(data: bytes, *, max_bytes: int) -> etree._ElementTree:
    """Parse a submission safely or raise :class:`PackageRejected`."""
    if len(data) > max_bytes:
        raise PackageRejected(
            Code.TOO_LARGE,
            f"the submission is {len(data)} bytes; this hub accepts at most {max_bytes} "
            "(LIENTHONG_MAX_PACKAGE_BYTES)",
        )
    check_prologue(data)
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        # Refused before parsing: entity expansion (billion laughs) never starts.
        raise PackageRejected(
            Code.XML_FORBIDDEN,
            "the package contains a DTD (<!DOCTYPE or <!ENTITY); DTDs and entities are forbidden",
        )
    try:
        tree = etree.ElementTree(etree.fromstring(data, _parser()))
    except etree.XMLSyntaxError as exc:
        raise PackageRejected(
            Code.XML_MALFORMED,
            f"not well-formed XML at line {exc.lineno}, column {exc.offset}: {exc.msg}",
        ) from exc
    docinfo = tree.docinfo
    if docinfo.internalDTD is not None or docinfo.externalDTD is not None or docinfo.doctype:
        raise PackageRejected(Code.XML_FORBIDDEN, "the package has a document type declaration")
    check_content(tree.getroot())
    return tree


def check_content(root: etree._Element) -> None:
    """No entity references, no XInclude, nesting at most :data:`MAX_DEPTH` levels."""
    for node in root.iter():
        if isinstance(node, etree._Entity):
            raise PackageRejected(
                Code.XML_FORBIDDEN,
                f"entity reference &{node.name}; at line {node.sourceline}; entities are forbidden",
            )
        if isinstance(node.tag, str) and node.tag.startswith("{" + XINCLUDE_NS + "}"):
            raise PackageRejected(
                Code.XML_FORBIDDEN,
                f"XInclude element at line {node.sourceline}; external references are forbidden",
            )
        if len(node) == 0:
            depth = sum(1 for _ in node.iterancestors()) + 1
            if depth > MAX_DEPTH:
                raise PackageRejected(
                    Code.XML_FORBIDDEN,
                    f"elements nested {depth} levels deep at line {node.sourceline}; "
                    f"at most {MAX_DEPTH} are allowed",
                )
