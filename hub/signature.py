"""Where the package's XML-DSig signature is, and whether it is where the contract puts it.

The contract: one enveloped XML-DSig ``Signature`` as a child of ``edXMLHeader`` (after
``TraceHeaderList`` in a document; the last child in a status package). Any other
``Signature`` anywhere in the package is a wrapping attempt or a misplaced signature.
"""

from __future__ import annotations

from lxml import etree

from hub.errors import Code, PackageRejected
from hub.schema import EDXML_NS

DS_NS = "http://www.w3.org/2000/09/xmldsig#"
DS_SIGNATURE = f"{{{DS_NS}}}Signature"
HEADER = f"{{{EDXML_NS}}}edXMLHeader"


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
                f"namespace {namespace!r}, not {DS_NS!r}; sign the package with an enveloped "
                "XML-DSig signature (SHA-256 or stronger)",
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
    return signature
