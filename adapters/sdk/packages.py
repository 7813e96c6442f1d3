"""Builders for edXML document and status packages (QCVN 102:2016) over a small frozen model,
so an integrator never writes XML by hand. The output is unsigned: sign it with
:func:`hub.contract.sign_package` (or ``Endpoint.send``, which signs for you)."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from lxml import etree

from hub.contract import EDXML_NS, ReceiverChange, Replacement

NS = EDXML_NS
_E = f"{{{NS}}}"


@dataclass(frozen=True, kw_only=True, slots=True)
class Organization:
    organ_id: str
    name: str | None = None
    in_charge: str | None = None
    address: str | None = None
    email: str | None = None
    telephone: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Attachment:
    name: str
    content: bytes
    content_type: str = "application/pdf"
    description: str | None = None
    content_id: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class DocumentSpec:
    sender: Organization
    recipients: Sequence[Organization]
    document_id: str
    subject: str
    code_number: str = "1"
    code_notation: str = "CV"
    business_type: int = 0
    """0 new, 1 revoke, 2 update, 3 replace."""
    priority: int = 0
    promulgation_place: str = "Hà Nội"
    promulgation_date: dt.date = field(default_factory=dt.date.today)
    type_name: str = "Công văn"
    content: str | None = None
    signer_name: str | None = None
    reason: str | None = None
    referenced_document_id: str | None = None
    receiver_changes: Sequence[ReceiverChange] = ()
    replacements: Sequence[Replacement] = ()
    attachments: Sequence[Attachment] = ()
    staff: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class StatusSpec:
    sender: Organization
    document_sender: str
    document_id: str
    status_code: str
    description: str | None = None
    staff: str | None = None
    department: str | None = None
    timestamp: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    document_code: str | None = None


def _add(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, _E + name)
    if text is not None:
        element.text = text
    return element


def _organization(parent: etree._Element, name: str, organ: Organization) -> None:
    element = _add(parent, name)
    _add(element, "OrganId", organ.organ_id)
    for tag, value in (
        ("OrganizationInCharge", organ.in_charge),
        ("OrganName", organ.name),
        ("OrganAdd", organ.address),
        ("Email", organ.email),
        ("Telephone", organ.telephone),
    ):
        if value is not None:
            _add(element, tag, value)


def _envelope() -> tuple[etree._Element, etree._Element]:
    root = etree.Element(_E + "edXML", nsmap={None: NS})  # type: ignore[dict-item]
    envelope = _add(root, "edXMLEnvelope")
    header = _add(envelope, "edXMLHeader")
    return root, header


def _serialize(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def build_document(spec: DocumentSpec) -> bytes:
    root, header = _envelope()
    message = _add(header, "MessageHeader")
    _organization(message, "From", spec.sender)
    for recipient in spec.recipients:
        _organization(message, "To", recipient)
    _add(message, "DocumentId", spec.document_id)
    code = _add(message, "Code")
    _add(code, "CodeNumber", spec.code_number)
    _add(code, "CodeNotation", spec.code_notation)
    promulgation = _add(message, "PromulgationInfo")
    _add(promulgation, "Place", spec.promulgation_place)
    _add(promulgation, "PromulgationDate", spec.promulgation_date.strftime("%Y/%m/%d"))
    document_type = _add(message, "DocumentType")
    _add(document_type, "Type", "1")
    _add(document_type, "TypeName", spec.type_name)
    _add(message, "Subject", spec.subject)
    if spec.content is not None:
        _add(message, "Content", spec.content)
    if spec.signer_name is not None:
        signer = _add(message, "SignerInfo")
        _add(signer, "FullName", spec.signer_name)
    other = _add(message, "OtherInfo")
    _add(other, "Priority", str(spec.priority))
    trace_list = _add(header, "TraceHeaderList")
    trace = _add(trace_list, "TraceHeader")
    _add(trace, "OrganId", spec.sender.organ_id)
    _add(trace, "Timestamp", dt.datetime.now(dt.UTC).strftime("%Y/%m/%d %H:%M:%S"))
    business = _add(trace_list, "Bussiness")
    if spec.referenced_document_id is not None:
        _add(business, "DocumentId", spec.referenced_document_id)
    _add(business, "BussinessDocType", str(spec.business_type))
    if spec.reason is not None:
        _add(business, "BussinessDocReason", spec.reason)
    _add(business, "Paper", "0")
    if spec.receiver_changes:
        info = _add(business, "BussinessDocumentInfo")
        _add(info, "DocumentInfo", "0")
        _add(info, "DocumentReceiver", "1")
        receivers = _add(info, "ReceiverList")
        for change in spec.receiver_changes:
            receiver = _add(receivers, "Receiver")
            _add(receiver, "OrganId", change.organ_id)
            _add(receiver, "ReceiverType", "1" if change.added else "0")
    if spec.replacements:
        replacements = _add(business, "ReplacementInfoList")
        for replacement in spec.replacements:
            info = _add(replacements, "ReplacementInfo")
            _add(info, "DocumentId", replacement.document_id)
            if replacement.organ_ids:
                organs = _add(info, "OrganIdList")
                for organ in replacement.organ_ids:
                    _add(organs, "OrganId", organ)
    if spec.staff is not None:
        staff = _add(business, "StaffInfo")
        _add(staff, "Staff", spec.staff)
    envelope = header.getparent()
    assert envelope is not None
    if spec.attachments:
        body = _add(envelope, "edXMLBody")
        manifest = _add(body, "edXMLManifest")
        manifest.set("version", "1.0")
        encoded = _add(root, "AttachmentEncoded")
        for index, attachment in enumerate(spec.attachments, start=1):
            content_id = attachment.content_id or f"cid:{index}"
            reference = _add(manifest, "Reference")
            _add(reference, "ContentId", content_id)
            _add(reference, "ContentType", attachment.content_type)
            _add(reference, "AttachmentName", attachment.name)
            item = _add(encoded, "Attachment")
            _add(item, "ContentId", content_id)
            _add(item, "AttachmentName", attachment.name)
            if attachment.description is not None:
                _add(item, "Description", attachment.description)
            _add(item, "ContentType", attachment.content_type)
            _add(
                item, "ContentTransferEncoded", base64.b64encode(attachment.content).decode("ascii")
            )
    return _serialize(root)


def build_status(spec: StatusSpec) -> bytes:
    root, header = _envelope()
    message = _add(header, "MessageHeader")
    _organization(message, "From", spec.sender)
    response = _add(message, "ResponseFor")
    _add(response, "OrganId", spec.document_sender)
    if spec.document_code is not None:
        _add(response, "Code", spec.document_code)
    _add(response, "DocumentId", spec.document_id)
    if spec.staff is not None or spec.department is not None:
        staff = _add(message, "StaffInfo")
        if spec.department is not None:
            _add(staff, "Department", spec.department)
        if spec.staff is not None:
            _add(staff, "Staff", spec.staff)
    _add(message, "StatusCode", spec.status_code)
    if spec.description is not None:
        _add(message, "Description", spec.description)
    _add(message, "Timestamp", spec.timestamp.strftime("%Y/%m/%d %H:%M:%S"))
    return _serialize(root)
