"""Where the package's XML-DSig signature is, and whether it is where the contract puts it.

The contract: one enveloped XML-DSig ``Signature`` as a child of ``edXMLHeader`` (after
``TraceHeaderList`` in a document; the last child in a status package). Any other
``Signature`` anywhere in the package is a wrapping attempt or a misplaced signature.
"""

from __future__ import annotations

from lxml import etree

from hub.check.schema import EDXML_NS
from hub.check.xmldsig import DS11_NS, DS_NS, EXC_C14N_NS
from hub.errors import Code, PackageRejected

DS_SIGNATURE = f"{{{DS_NS}}}Signature"
HEADER = f"{{{EDXML_NS}}}edXMLHeader"
_DS = f"{{{DS_NS}}}"

SIGNATURE_PARTS = (_DS + "SignedInfo", _DS + "SignatureValue", _DS + "KeyInfo")
"""What a signature holds, in this order. The enveloped-signature transform takes the whole
``Signature`` out of what is signed, so anything else in it (a ``ds:Object`` holding a forged
MessageHeader or an extra attachment) would be unsigned content forwarded with the package."""
_CONTAINERS = frozenset(
    _DS + name
    for name in (
        "Signature SignedInfo CanonicalizationMethod SignatureMethod Reference Transforms "
        "Transform DigestMethod KeyInfo X509Data X509IssuerSerial KeyValue RSAKeyValue"
    ).split()
)
_LEAVES = frozenset(
    _DS + name
    for name in (
        "DigestValue SignatureValue X509Certificate X509IssuerName X509SerialNumber "
        "X509SubjectName X509SKI KeyName Modulus Exponent"
    ).split()
) | {f"{{{EXC_C14N_NS}}}InclusiveNamespaces", f"{{{DS11_NS}}}ECKeyValue"}
_COMMENTS = etree.XPath("(.//comment())[1]")


def locate(root: etree._Element) -> etree._Element:
    """The one signature of the package, or :class:`PackageRejected`."""
    signatures = list(root.iter(DS_SIGNATURE))
    if not signatures:
        stray = next(
            (e for e in root.iter() if isinstance(e.tag, str) and e.tag.endswith("}Signature")),
            None,
        )
        if stray is not None:
            namespace = etree.QName(stray).namespace
            raise PackageRejected(
                Code.SIGNATURE_MISSING,
                f"no XML-DSig signature: the Signature element at line {stray.sourceline} is in "
                f"namespace {(namespace or '')[:100]!r}, not {DS_NS!r}; sign the package with an "
                "enveloped XML-DSig signature (SHA-256 or stronger)",
            )
        raise PackageRejected(
            Code.SIGNATURE_MISSING,
            "the package is not signed: an enveloped XML-DSig Signature is required as the "
            "last child of edXMLHeader",
        )
    if len(signatures) > 1:
        lines = ", ".join(str(s.sourceline) for s in signatures)
        raise PackageRejected(
            Code.SIGNATURE_INVALID,
            f"the package holds {len(signatures)} XML-DSig signatures (lines {lines}); "
            "exactly one is allowed, in edXMLHeader",
        )
    signature = signatures[0]
    parent = signature.getparent()
    if parent is None or parent.tag != HEADER or parent.getparent() is None:
        raise PackageRejected(
            Code.SIGNATURE_INVALID,
            f"the signature at line {signature.sourceline} is misplaced; it must be a child of "
            "edXMLHeader",
        )
    check_parts(signature)
    check_no_comments(root)
    return signature


def _unsigned(detail: str) -> PackageRejected:
    return PackageRejected(Code.SIGNATURE_INVALID, detail)


def check_parts(signature: etree._Element) -> None:
    """SignedInfo, SignatureValue and KeyInfo, in that order, made only of XML-DSig's own
    elements, without comments or text between them: nothing in the signature that the
    signature does not cover."""
    children = list(signature)
    tags = [child.tag for child in children]
    if tuple(tags) != SIGNATURE_PARTS:
        names = [etree.QName(t).localname if isinstance(t, str) else "(comment)" for t in tags]
        raise _unsigned(
            f"the signature at line {signature.sourceline} holds {', '.join(names) or 'nothing'}; "
            "it must hold exactly SignedInfo, SignatureValue and KeyInfo (a ds:Object or anything "
            "else in it is not covered by the signature)"
        )
    for node in signature.iter():
        if not isinstance(node.tag, str):
            raise _unsigned(
                f"a comment or processing instruction at line {node.sourceline} inside the "
                "signature; the signature must hold only XML-DSig elements"
            )
        if node.tag not in _CONTAINERS and node.tag not in _LEAVES:
            raise _unsigned(
                f"element {etree.QName(node).localname!r} at line {node.sourceline} does not "
                "belong in an XML-DSig signature (it would not be covered by it)"
            )
        stray = (node.tail if node is not signature else None) or ""
        if node.tag in _CONTAINERS:
            stray += node.text or ""
        if stray.strip():
            raise _unsigned(
                f"text inside the signature at line {node.sourceline}; the signature must hold "
                "only XML-DSig elements"
            )


def check_no_comments(root: etree._Element) -> None:
    """No comments in the package: a same-document reference (``URI=""``) excludes comments,
    so one added after signing would change what a reader sees (``BNV<!-- -->.VP``, a
    truncated subject) without breaking the signature."""
    found = _COMMENTS(root)
    if isinstance(found, list) and found:
        line = getattr(found[0], "sourceline", None)
        raise _unsigned(
            f"a comment at line {line}: comments are not covered by an XML-DSig signature over "
            'URI="", so a package may not contain any; remove them before signing'
        )
