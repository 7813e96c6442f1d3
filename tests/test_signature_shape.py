"""Review finding 5: nothing the signature does not cover is forwarded, or read.

An enveloped ``URI=""`` signature covers neither the ``ds:Signature`` element nor comments. On
the old code, a ``ds:Object`` holding a forged MessageHeader and an extra attachment, a comment
cutting the subject short, and ``BNV<!-- -->.VP`` — each added after signing — were accepted
and forwarded; two canonicalization transforms crashed the check (finding 7).
"""

from __future__ import annotations

import datetime as dt

from lxml import etree

from adapters.sdk.items import Document
from adapters.sdk.reading import verify_document
from hub.check import decision
from hub.check.xmldsig import DS_NS
from hub.errors import Code
from hub.registry import issuing
from tests import pure

DS = f"{{{DS_NS}}}"


def signature_of(root: etree._Element) -> etree._Element:
    found = root.find(f".//{DS}Signature")
    assert found is not None
    return found


def refused(data: bytes, keys: pure.Keys) -> decision.Rejection:
    result = pure.decide(data, keys.snapshot())
    assert isinstance(result, decision.Rejection), "accepted"
    return result


def test_an_object_in_the_signature_is_refused() -> None:
    keys = pure.keys()

    def smuggle(root: etree._Element) -> None:
        holder = etree.SubElement(signature_of(root), DS + "Object")
        forged = etree.SubElement(holder, f"{pure.N}MessageHeader")
        etree.SubElement(
            etree.SubElement(forged, f"{pure.N}From"), f"{pure.N}OrganId"
        ).text = "000.00.00.X99"
        etree.SubElement(holder, f"{pure.N}Attachment").text = "ZXh0cmE="

    rejection = refused(pure.sign(pure.unsigned(), keys, after=smuggle), keys)
    assert rejection.code is Code.SIGNATURE_INVALID and "Object" in rejection.detail


def test_foreign_elements_and_text_in_the_signature_are_refused() -> None:
    keys = pure.keys()

    def key_info_extra(root: etree._Element) -> None:
        key_info = signature_of(root).find(DS + "KeyInfo")
        assert key_info is not None
        etree.SubElement(key_info, f"{pure.N}Subject").text = "forged"

    def text(root: etree._Element) -> None:
        signature_of(root).find(DS + "SignedInfo").tail = "read me"  # type: ignore[union-attr]

    rejection = refused(pure.sign(pure.unsigned(), keys, after=key_info_extra), keys)
    assert rejection.code is Code.SIGNATURE_INVALID
    # text between the signature's parts: already outside the XML-DSig schema
    rejection = refused(pure.sign(pure.unsigned(), keys, after=text), keys)
    assert rejection.code in (Code.SCHEMA_INVALID, Code.SIGNATURE_INVALID)


def test_a_comment_added_after_signing_is_refused() -> None:
    keys = pure.keys()

    def cut_subject(root: etree._Element) -> None:
        subject = pure.message_header(root).find(f"{pure.N}Subject")
        assert subject is not None
        text = subject.text or ""
        subject.text = text[:5]
        comment = etree.Comment(" ")
        comment.tail = text[5:]
        subject.append(comment)

    rejection = refused(pure.sign(pure.unsigned(), keys, after=cut_subject), keys)
    assert rejection.code is Code.SIGNATURE_INVALID and "comment" in rejection.detail


def test_two_canonicalizations_are_refused_not_a_crash() -> None:
    keys = pure.keys()

    def twice(root: etree._Element) -> None:
        transforms = signature_of(root).find(f"{DS}SignedInfo/{DS}Reference/{DS}Transforms")
        assert transforms is not None
        etree.SubElement(transforms, DS + "Transform").set(
            "Algorithm", "http://www.w3.org/2001/10/xml-exc-c14n#"
        )

    rejection = refused(pure.sign(pure.unsigned(), keys, after=twice), keys)
    assert rejection.code is Code.SIGNATURE_INVALID


def test_the_sdk_reads_only_what_the_signature_covers() -> None:
    keys = pure.keys()
    data = pure.sign(pure.unsigned(subject="Về việc tổ chức hội nghị"), keys)
    signed, problem = verify_document(data, trusted=[keys.ca_cert], accepted_at=None)
    assert problem is None and signed is not None
    document = Document.parse(
        "m", data, urgent=False, verified=True, problem=None, signed_root=signed
    )
    assert document.subject == "Về việc tổ chức hội nghị"
    assert document.sender == pure.SENDER


def test_the_sdk_binds_the_signer_to_the_sender_and_checks_validity_when_accepted() -> None:
    keys = pure.keys()
    ca_key, ca_cert = issuing.make_ca("test CA 2")
    other_key, other_cert = issuing.issue(
        ca_key, ca_cert, issuing.IssueRequest(common_name="b", organ_id=pure.RECIPIENT)
    )
    other = pure.Keys(ca_cert=ca_cert, key=other_key, cert=other_cert)
    data = pure.sign(pure.unsigned(), other)  # From is SENDER, the certificate RECIPIENT's
    signed, problem = verify_document(data, trusted=[other.ca_cert], accepted_at=None)
    assert signed is None and problem is not None and pure.RECIPIENT in problem

    good = pure.sign(pure.unsigned(), keys)
    later = keys.cert.not_valid_after_utc + dt.timedelta(days=1)
    signed, problem = verify_document(good, trusted=[keys.ca_cert], accepted_at=later)
    assert signed is None and problem is not None and "not valid" in problem
