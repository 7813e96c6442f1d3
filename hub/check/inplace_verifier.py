"""signxml's verifier, less two copies of the whole document (see :class:`InPlaceVerifier`).

signxml is not typed: this module alone calls its internals (mypy allows untyped calls here).
"""

from __future__ import annotations

import base64
import functools
from typing import Any

from cryptography.hazmat.primitives.hashes import Hash
from lxml import etree
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm
from signxml.algorithms import digest_algorithm_implementations as DIGESTS
from signxml.exceptions import InvalidDigest, InvalidInput
from signxml.util import _remove_sig
from signxml.util import namespaces as SIGNXML_NAMESPACES
from signxml.verifier import VerifyResult, XMLVerifier

from hub.check import excision
from hub.check.excision import Excision
from hub.check.xmldsig import ENVELOPED


class _DigestSink:
    """A file for lxml's ``write_c14n``: what is written is hashed, never kept."""

    def __init__(self, hasher: Hash) -> None:
        self._hasher = hasher

    def write(self, data: bytes) -> int:
        self._hasher.update(data)
        return len(data)


@functools.lru_cache(maxsize=64)
def _clark(query: str, xpath: str) -> str | None:
    """``xpath`` + ``ds:Name`` (or ``prefix:Name``) as lxml's Clark notation; None for a path
    this does not know how to write (signxml's own ``_find`` takes it)."""
    prefix, _, name = query.rpartition(":")
    uri = SIGNXML_NAMESPACES.get(prefix or "ds")
    if uri is None or ":" in xpath or "{" in xpath:
        return None
    return f"{xpath}{{{uri}}}{name}"


class InPlaceVerifier(XMLVerifier):
    """signxml's verifier without its copies of the whole document for the reference.

    For the one reference a package may have (``URI=""``, the enveloped-signature transform, at
    most one canonicalization: :func:`hub.check.verification.check_shape`), signxml serialises
    and re-parses the document before the transform (so as not to touch the caller's tree),
    serialises that copy's canonical form whole to digest it, and parses the canonical form
    again as ``signed_xml``. Here the tree is signxml's own parse of the submitted bytes or one
    the caller gives up (``consume_tree``): the signature is removed from it in place, its
    canonical form — the same lxml call with the same arguments, written to a file — streams
    into the digest, and the tree itself is ``signed_xml``: exactly the nodes that were
    canonicalised and digested. For a 64 MiB package that is three copies of its size fewer at
    the peak, and for a small one two serialisations and a parse less of processor time.
    Anything else (never the case after the shape check) is signxml's own code
    (``tests/test_verification_copy.py`` checks the results agree)."""

    def __init__(self, *, data: bytes = b"", excisions: tuple[Excision, ...] = ()) -> None:
        """``excisions``: large attachments the tree lacks, read from ``data`` (the submitted
        bytes) into the digest in their markers' places (:mod:`hub.check.excision`)."""
        super().__init__()
        self._data = data
        self._excisions = excisions

    def _get_cert_validity_error(self, cert: Any, cert_source: str) -> str | None:
        """signxml's own check, which names the certificate (its subject as an RFC 4514 string:
        about a tenth of the whole verification) before it knows whether it needs to; here the
        name is built only for the message of a certificate that fails. The hub verifies at a
        moment inside the signer's validity (:func:`hub.check.verification.verify`), so this
        never fails there; certificate validity is the trust check's."""
        moment = self._get_cert_verification_time()
        if cert.not_valid_before_utc <= moment <= cert.not_valid_after_utc:
            return None
        message: str | None = super()._get_cert_validity_error(cert, cert_source)
        return message

    def _find(
        self, element: etree._Element, query: str, require: bool = True, xpath: str = ""
    ) -> Any:
        """signxml's ``_find``, the path in Clark notation (``{namespace}Name``) made once:
        lxml then parses it from its own cache instead of mapping prefixes on every call — nine
        calls a package, a tenth of signxml's own time."""
        expression = _clark(query, xpath)
        if expression is None:
            return super()._find(element, query, require, xpath)
        result = element.find(expression)
        if require and result is None:
            raise InvalidInput(
                f"Expected to find XML element {query.rpartition(':')[2]} in {element.tag} "
                f"using XPath {expression}"
            )
        return result

    def _findall(self, element: etree._Element, query: str, xpath: str = "") -> list[Any]:
        expression = _clark(query, xpath)
        if expression is None:
            return list(super()._findall(element, query, xpath))
        return element.findall(expression)

    def get_root(self, data: bytes | etree._Element) -> etree._Element:
        """Bytes are parsed (by signxml); a document's root element is used as it is — signxml
        would serialise and re-parse it. Only :func:`hub.check.verification.verify` with
        ``consume_tree`` hands one over, a tree nobody reads afterwards but as the result."""
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
        transforms_node = self._find(reference, "Transforms", require=False)
        transforms = [] if transforms_node is None else self._findall(transforms_node, "Transform")
        names = [t.get("Algorithm") for t in transforms]
        canonical = [t for t in transforms if t.get("Algorithm") != ENVELOPED]
        ours = (
            index == 0
            and reference.get("URI") == ""  # the whole document: the payload is the root
            and self._resolve_reference(root, reference, uri_resolver=uri_resolver) is root
            and names[:1] == [ENVELOPED]
            and len(canonical) <= 1
            and not self.excise_empty_xmlns_declarations
        )
        if ours and canonical:
            try:
                CanonicalizationMethod(canonical[0].get("Algorithm"))
            except ValueError:
                ours = False
        if not ours:
            if self._excisions:
                raise InvalidInput("a package with excised attachments has one plain reference")
            return super()._verify_reference(
                reference, index, root, uri_resolver, c14n_algorithm, signature, signature_key_used
            )
        signature_ref = self._get_signature(root)
        digest_alg = DigestAlgorithm(self._find(reference, "DigestMethod").get("Algorithm"))
        self.check_digest_alg_expected(digest_alg)
        digest_value = self._find(reference, "DigestValue")
        payload = root
        _remove_sig(signature_ref, idempotent=True)
        if canonical:
            algorithm = CanonicalizationMethod(canonical[0].get("Algorithm"))
            prefixes = self._get_inclusive_ns_prefixes(canonical[0])
        else:
            algorithm, prefixes = self.config.default_reference_c14n_method, None
        hasher = Hash(DIGESTS[digest_alg]())
        # what signxml's _c14n passes to etree.tostring(method="c14n")
        options: dict[str, Any] = {
            "exclusive": algorithm.value.startswith("http://www.w3.org/2001/10/xml-exc-c14n#"),
            "with_comments": algorithm.value.endswith("#WithComments"),
            "inclusive_ns_prefixes": prefixes,
        }
        if self._excisions:
            # the tree is small: its canonical form whole, each marker replaced by its run
            canonical = etree.tostring(payload, method="c14n", **options)
            if not excision.digest_spliced(canonical, self._data, self._excisions, hasher.update):
                raise InvalidInput("an excised attachment is not where it was taken from")
        else:
            # written to the hasher (lxml-stubs lack write_c14n's keywords and file argument)
            write_c14n: Any = etree.ElementTree(payload).write_c14n
            write_c14n(_DigestSink(hasher), **options)
        if base64.b64decode(digest_value.text) != hasher.finalize():
            raise InvalidDigest(f"Digest mismatch for reference {index} ({reference.get('URI')})")
        # signed_data (the canonical form) and signature_key (the key as PEM, which signxml
        # exports for every reference) are not kept: the hub reads signed_xml only, and knows
        # the key from the certificate it gave
        return VerifyResult(b"", payload, signature, signature_key=b"")
