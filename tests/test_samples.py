"""What each national sample gives today: refused as it is, schema-valid once cleaned."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hub.check import xmlsafe
from hub.check.inspection import inspect
from hub.check.schema import Kind, validate
from hub.errors import Code, PackageRejected

MAX = 64 * 1024 * 1024

# As they are: edoc_new starts with four stray bytes; the other documents carry a Signature
# element outside the XML-DSig namespace; the statuses are not signed at all.
AS_THEY_ARE = {
    "edoc_new.edxml": Code.XML_MALFORMED,
    "edoc_replacement.edxml": Code.SIGNATURE_MISSING,
    "edoc_revocation.edxml": Code.SIGNATURE_MISSING,
    "edoc_update.edxml": Code.SIGNATURE_MISSING,
    "status_acceptance_03.edxml": Code.SIGNATURE_MISSING,
    "status_assignment_04.edxml": Code.SIGNATURE_MISSING,
    "status_cancellation_13.edxml": Code.SIGNATURE_MISSING,
    "status_change-acceptance_15.edxml": Code.SIGNATURE_MISSING,
    "status_change-rejection_16.edxml": Code.SIGNATURE_MISSING,
    "status_finish_06.edxml": Code.SIGNATURE_MISSING,
    "status_inbox_01.edxml": Code.SIGNATURE_MISSING,
    "status_processing_05.edxml": Code.SIGNATURE_MISSING,
    "status_rejection_02.edxml": Code.SIGNATURE_MISSING,
}


def kind_of(name: str) -> Kind:
    return Kind.STATUS if name.startswith("status_") else Kind.EDOC


def cleaned(data: bytes) -> bytes:
    """Without the stray bytes and the placeholder signature."""
    data = data[data.find(b"<?xml") :]
    return re.sub(rb"\s*<Signature>.*?</Signature>", b"", data, flags=re.S)


def test_every_sample_is_covered(samples: Path) -> None:
    assert sorted(p.name for p in samples.glob("*.edxml")) == sorted(AS_THEY_ARE)


@pytest.mark.parametrize("name", sorted(AS_THEY_ARE))
def test_sample_as_it_is_is_refused_with_its_code(samples: Path, name: str) -> None:
    with pytest.raises(PackageRejected) as caught:
        inspect((samples / name).read_bytes(), kind_of(name), max_bytes=MAX)
    assert caught.value.code is AS_THEY_ARE[name]
    assert caught.value.detail  # a message a person can act on


@pytest.mark.parametrize("name", sorted(AS_THEY_ARE))
def test_sample_cleaned_is_schema_valid(samples: Path, name: str) -> None:
    tree = xmlsafe.parse(cleaned((samples / name).read_bytes()), max_bytes=MAX)
    validate(tree, kind_of(name))


def test_a_status_is_not_a_document(samples: Path) -> None:
    tree = xmlsafe.parse(cleaned((samples / "status_inbox_01.edxml").read_bytes()), max_bytes=MAX)
    with pytest.raises(PackageRejected) as caught:
        validate(tree, Kind.EDOC)
    assert caught.value.code is Code.SCHEMA_INVALID
    assert "line " in caught.value.detail


def test_the_stray_bytes_are_named(samples: Path) -> None:
    with pytest.raises(PackageRejected, match=r"4 stray byte\(s\) b'1212'"):
        inspect((samples / "edoc_new.edxml").read_bytes(), Kind.EDOC, max_bytes=MAX)


def test_the_misplaced_signature_namespace_is_named(samples: Path) -> None:
    with pytest.raises(
        PackageRejected, match=re.escape("not 'http://www.w3.org/2000/09/xmldsig#'")
    ):
        inspect((samples / "edoc_update.edxml").read_bytes(), Kind.EDOC, max_bytes=MAX)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("BussinessDocType", "7"),
        ("Priority", "9"),
        ("OrganId", "bad id with spaces"),
        ("DocumentId", " "),
    ],
)
def test_values_the_hub_depends_on_are_strict(samples: Path, field: str, value: str) -> None:
    data = cleaned((samples / "edoc_update.edxml").read_bytes())
    data = re.sub(
        rf"<edXML:{field}>[^<]*</edXML:{field}>".encode(),
        f"<edXML:{field}>{value}</edXML:{field}>".encode(),
        data,
        count=1,
    )
    with pytest.raises(PackageRejected) as caught:
        validate(xmlsafe.parse(data, max_bytes=MAX), Kind.EDOC)
    assert caught.value.code is Code.SCHEMA_INVALID


def test_status_code_outside_the_table_is_invalid(samples: Path) -> None:
    data = cleaned((samples / "status_inbox_01.edxml").read_bytes()).replace(
        b"<edXML:StatusCode>01<", b"<edXML:StatusCode>07<"
    )
    with pytest.raises(PackageRejected) as caught:
        validate(xmlsafe.parse(data, max_bytes=MAX), Kind.STATUS)
    assert caught.value.code is Code.SCHEMA_INVALID


def test_bad_base64_in_an_attachment_is_caught(samples: Path) -> None:
    data = cleaned((samples / "edoc_update.edxml").read_bytes())
    # libxml2's xs:base64Binary check lets a stray character after a long value through
    data = data.replace(b"</edXML:ContentTransferEncoded>", b"*</edXML:ContentTransferEncoded>", 1)
    with pytest.raises(PackageRejected) as caught:
        validate(xmlsafe.parse(data, max_bytes=MAX), Kind.EDOC)
    assert caught.value.code is Code.SCHEMA_INVALID
    assert "base64" in caught.value.detail


def test_schema_messages_stay_short(samples: Path) -> None:
    data = cleaned((samples / "edoc_update.edxml").read_bytes())
    data = data.replace(b'QCVN_102_2016">UEsDB', b'QCVN_102_2016">U=EsDB', 1)
    with pytest.raises(PackageRejected) as caught:
        validate(xmlsafe.parse(data, max_bytes=MAX), Kind.EDOC)
    assert "line 135" in caught.value.detail
    assert len(caught.value.detail) < 1000
