"""The one hardened XML parser of the hub.

No DTD, no entities, no network, no XInclude, bounded depth and size — and bounded work: at
most :data:`MAX_ELEMENTS` elements, :data:`MAX_ATTRIBUTES` attributes and
:data:`MAX_NAMESPACE_DECLARATIONS` namespace declarations per package. What a package costs to
check (parse, schema, canonicalisation, signature) grows with those counts, and inclusive C14N
with elements times namespaces in scope: 800 declarations over 8,000 empty elements (67 KiB) took
14 s to canonicalise. Real edXML declares two to four namespaces and has a few hundred elements.
The element and attribute counts are bounded from the bytes before libxml2 builds a tree
(``<`` and ``=`` counted: a tree is never built for millions of nodes), and counted exactly
after. Every failure is a :class:`PackageRejected` with ``XML_MALFORMED``, ``XML_FORBIDDEN`` or
``TOO_LARGE`` and a message that says what was wrong and where.
"""

from __future__ import annotations

import io
import re
from typing import cast

from lxml import etree

from hub.errors import Code, PackageRejected

MAX_DEPTH = 64
MAX_ELEMENTS = 10_000
MAX_ATTRIBUTES = 10_000
MAX_NAMESPACE_DECLARATIONS = 16
_BYTES_BOUND = 4
"""Before parsing, a package with more than this many times the caps in ``<`` (elements) or
``=`` (attributes) is refused unparsed; between the caps and that, the exact count decides."""
XINCLUDE_NS = "http://www.w3.org/2001/XInclude"
_DECLARATION = re.compile(rb"^<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_UTF8_BOM = b"\xef\xbb\xbf"


def parser(*, huge_tree: bool = True, package: bool = False) -> etree.XMLParser:
    """The one way an lxml parser is made, in the hub and the SDK: no entity resolved, no
    network, no DTD loaded. ``huge_tree``: size bounded by the caller (for a package,
    LIENTHONG_MAX_PACKAGE_BYTES), not by libxml2. ``package``: as :func:`parse` reads a package
    from outside — everything kept as written (blank text, comments, PIs), nothing recovered,
    no ID table built."""
    if package:
        return etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=huge_tree,
            remove_blank_text=False,
            remove_comments=False,
            remove_pis=False,
            recover=False,
            collect_ids=False,
        )
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=huge_tree
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


def check_size(data: bytes, *, max_bytes: int) -> None:
    if len(data) > max_bytes:
        raise PackageRejected(
            Code.TOO_LARGE,
            f"the submission is {len(data)} bytes; this hub accepts at most {max_bytes} "
            "(LIENTHONG_MAX_PACKAGE_BYTES)",
        )


def parse(data: bytes, *, max_bytes: int) -> etree._ElementTree:
    """Parse a submission safely or raise :class:`PackageRejected`."""
    check_size(data, max_bytes=max_bytes)
    check_prologue(data)
    check_declarations(data)
    check_bounds(data)
    try:
        tree = etree.ElementTree(etree.fromstring(data, parser(package=True)))
    except etree.XMLSyntaxError as exc:
        if "depth" in exc.msg.lower():
            raise PackageRejected(
                Code.XML_FORBIDDEN,
                f"elements nested too deep at line {exc.lineno}; at most {MAX_DEPTH} levels are "
                "allowed",
            ) from exc
        raise PackageRejected(
            Code.XML_MALFORMED,
            f"not well-formed XML at line {exc.lineno}, column {exc.offset}: {exc.msg[:200]}",
        ) from exc
    docinfo = tree.docinfo
    if docinfo.internalDTD is not None or docinfo.externalDTD is not None or docinfo.doctype:
        raise PackageRejected(Code.XML_FORBIDDEN, "the package has a document type declaration")
    check_content(tree.getroot())
    if data.count(b"xmlns") > MAX_NAMESPACE_DECLARATIONS:
        check_namespaces(data)
    return tree


def check_declarations(data: bytes) -> None:
    """No ``<!DOCTYPE`` or ``<!ENTITY`` as markup — refused before libxml2 sees the bytes, so
    entity expansion (billion laughs) never starts. Inside a comment or a CDATA section they
    are text, not declarations. Linear: each ``<!`` is looked at once."""
    at = data.find(b"<!")
    while at >= 0:
        if data.startswith(b"<!--", at):
            end = data.find(b"-->", at + 4)
            if end < 0:
                return  # an unterminated comment: libxml2 says it is not well-formed
            at = data.find(b"<!", end + 3)
            continue
        if data.startswith(b"<![CDATA[", at):
            end = data.find(b"]]>", at + 9)
            if end < 0:
                return
            at = data.find(b"<!", end + 3)
            continue
        if data.startswith((b"<!DOCTYPE", b"<!ENTITY"), at):
            raise PackageRejected(
                Code.XML_FORBIDDEN,
                "the package contains a DTD (<!DOCTYPE or <!ENTITY); DTDs and entities are "
                "forbidden",
            )
        at = data.find(b"<!", at + 2)


def check_bounds(data: bytes) -> None:
    """Refuse, unparsed, a package whose bytes alone show it is far over the caps."""
    tags = data.count(b"<")
    if tags > _BYTES_BOUND * MAX_ELEMENTS:
        raise PackageRejected(
            Code.XML_FORBIDDEN,
            f"the package has {tags} tags; at most {MAX_ELEMENTS} elements are allowed",
        )
    equals = data.count(b"=")
    if equals > _BYTES_BOUND * MAX_ATTRIBUTES:
        raise PackageRejected(
            Code.XML_FORBIDDEN,
            f"the package has {equals} '=' signs; at most {MAX_ATTRIBUTES} attributes are allowed",
        )


def check_namespaces(data: bytes) -> None:
    """Count namespace declarations exactly (only when the bytes hold more ``xmlns`` than the
    cap: a package may mention the word in its text)."""
    declared = 0
    for _ in etree.iterparse(
        io.BytesIO(data),
        events=("start-ns",),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=True,
    ):
        declared += 1
        if declared > MAX_NAMESPACE_DECLARATIONS:
            raise PackageRejected(
                Code.XML_FORBIDDEN,
                f"the package declares more than {MAX_NAMESPACE_DECLARATIONS} namespaces; "
                "declare each namespace once, on the root element",
            )


_ELEMENTS = etree.XPath("count(//*)")
_ATTRIBUTES = etree.XPath("count(//@*)")
_TOO_DEEP = etree.XPath("(/" + "/".join(["*"] * (MAX_DEPTH + 1)) + ")[1]")
"""The first element, in document order, below :data:`MAX_DEPTH` others: a path of one step per
level, which reads each element above that depth once (``count(ancestor::*)`` for every element
cost six times as much on a small package)."""
_XINCLUDE = f"{{{XINCLUDE_NS}}}*"


def check_content(root: etree._Element) -> None:
    """At most :data:`MAX_ELEMENTS` elements and :data:`MAX_ATTRIBUTES` attributes, nesting at
    most :data:`MAX_DEPTH` levels, no XInclude (counted by libxml2's XPath, not node by node in
    Python). Entity references cannot occur: without a DTD none is declared, and an undeclared
    one is not well-formed."""
    elements = int(cast(float, _ELEMENTS(root)))
    if elements > MAX_ELEMENTS:
        raise PackageRejected(
            Code.XML_FORBIDDEN,
            f"the package has {elements} elements; at most {MAX_ELEMENTS} are allowed",
        )
    attributes = int(cast(float, _ATTRIBUTES(root)))
    if attributes > MAX_ATTRIBUTES:
        raise PackageRejected(
            Code.XML_FORBIDDEN,
            f"the package has {attributes} attributes; at most {MAX_ATTRIBUTES} are allowed",
        )
    deep = cast(list[etree._Element], _TOO_DEEP(root))
    if deep:
        raise PackageRejected(
            Code.XML_FORBIDDEN,
            f"elements nested more than {MAX_DEPTH} levels deep at line {deep[0].sourceline}; "
            f"at most {MAX_DEPTH} are allowed",
        )
    included = next(root.iter(_XINCLUDE), None)  # libxml2 matches the namespace, not Python
    if included is not None:
        raise PackageRejected(
            Code.XML_FORBIDDEN,
            f"XInclude element at line {included.sourceline}; external references are forbidden",
        )
