"""signxml's verifier, less one copy of the whole document (see :class:`InPlaceVerifier`).

signxml is not typed: this module alone calls its internals (mypy allows untyped calls here).
"""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from lxml import etree
from signxml.algorithms import DigestAlgorithm
from signxml.exceptions import InvalidDigest
from signxml.verifier import VerifyResult, XMLVerifier


class InPlaceVerifier(XMLVerifier):
    """signxml's verifier without its defensive copy of the whole document for the reference.

    signxml serialises and re-parses the document before applying the enveloped-signature
    transform, so that removing the signature leaves the caller's tree intact. Here the tree is
    either signxml's own parse of the submitted bytes or one the caller gives up
    (``consume_tree``), and the package has exactly one reference (checked before, and again by
    ``expect_references=1``): the transform may work on the tree in place, and once its
    canonical form is digested the tree is emptied. That saves a serialisation and a parse of
    the whole package — for a 50 MB package, 100 MB of peak memory. Everything else, including
    ``signed_xml`` being the parse of the canonical form, is signxml's own code
    (``_verify_reference`` of signxml 5.x, Apache-2.0; ``tests/test_verification_copy.py``
    checks the results agree)."""

    def get_root(self, data: bytes | etree._Element) -> etree._Element:
        """Bytes are parsed (by signxml); a document's root element is used as it is — signxml
        would serialise and re-parse it. Only :func:`hub.check.verification.verify` with
        ``consume_tree`` hands one over, a tree nobody reads afterwards."""
        if isinstance(data, etree._Element) and data.getparent() is None:
            return data
        return super().get_root(data)

    def _verify_reference(
        self,
        reference: etree._Element,
        index: int,
        root: etree._Element,
        uri_resolver: object,
        c14n_algorithm: object,
        signature: etree._Element,
        signature_key_used: object,
    ) -> VerifyResult:
        if index > 0:  # never with one reference; signxml's own (copying) way otherwise
            return super()._verify_reference(
                reference, index, root, uri_resolver, c14n_algorithm, signature, signature_key_used
            )
        signature_ref = self._get_signature(root)
        transforms = self._find(reference, "Transforms", require=False)
        digest_method_alg_name = self._find(reference, "DigestMethod").get("Algorithm")
        digest_value = self._find(reference, "DigestValue")
        payload = self._resolve_reference(root, reference, uri_resolver=uri_resolver)
        payload_c14n = self._apply_transforms(
            payload, transforms_node=transforms, signature=signature_ref
        )
        digest_alg = DigestAlgorithm(digest_method_alg_name)
        self.check_digest_alg_expected(digest_alg)
        if base64.b64decode(digest_value.text) != self._get_digest(payload_c14n, digest_alg):
            raise InvalidDigest(f"Digest mismatch for reference {index} ({reference.get('URI')})")
        # The tree has served (its canonical form is digested and checked): let its nodes go
        # before the canonical form is parsed into signed_xml, so a large package is not held
        # three times over at the peak.
        root.clear()
        try:
            payload_c14n_xml = self._fromstring(payload_c14n)
        except etree.XMLSyntaxError:
            payload_c14n_xml = None
        if isinstance(signature_key_used, bytes):
            signature_key = signature_key_used
        else:
            signature_key = signature_key_used.public_bytes(  # type: ignore[attr-defined]
                Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
            )
        return VerifyResult(payload_c14n, payload_c14n_xml, signature, signature_key=signature_key)
