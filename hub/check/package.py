"""edXML packages as frozen value objects, read from a schema-valid tree.

Reading happens only after schema validation, so required elements are present; values the
hub depends on (sender, recipients, DocumentId, BussinessDocType, Priority, StatusCode) come
from here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from lxml import etree

from hub.check.schema import EDXML_NS

_N = f"{{{EDXML_NS}}}"


def _path(*steps: str) -> str:
    return "/".join(_N + step for step in steps)


class BusinessType(IntEnum):
    NEW = 0
    REVOKE = 1
    UPDATE = 2
    REPLACE = 3


URGENT_PRIORITIES = frozenset({3, 4})  # hỏa tốc, hỏa tốc hẹn giờ


@dataclass(frozen=True, kw_only=True, slots=True)
class ReceiverChange:
    organ_id: str
    added: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class Replacement:
    document_id: str
    organ_ids: Sequence[str] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class DocumentPackage:
    sender: str
    recipients: tuple[str, ...]
    document_id: str
    business_type: BusinessType
    priority: int
    subject: str | None
    referenced_document_id: str | None
    """``TraceHeaderList/Bussiness/DocumentId``: the document an update changes."""
    receiver_changes: tuple[ReceiverChange, ...]
    replacements: tuple[Replacement, ...]

    @property
    def urgent(self) -> bool:
        return self.priority in URGENT_PRIORITIES


@dataclass(frozen=True, kw_only=True, slots=True)
class StatusPackage:
    sender: str
    document_sender: str
    """``ResponseFor/OrganId``: the agency that sent the document the status is about."""
    document_id: str
    status_code: str
    description: str | None
    staff: str | None
    timestamp: str


def about(
    document: DocumentPackage | None, status: StatusPackage | None
) -> DocumentPackage | StatusPackage:
    """Whichever of the two a submission turned out to be (both have DocumentId and sender)."""
    found = document if document is not None else status
    assert found is not None
    return found


def _text(element: etree._Element, path: str) -> str | None:
    """The text of the element at ``path``, whole: all of it, around any comment or child
    (``findtext`` would stop at the first comment)."""
    found = element.find(path)
    if found is None:
        return None
    return "".join(str(t) for t in found.itertext()).strip()


def _required(element: etree._Element, path: str) -> str:
    value = _text(element, path)
    if value is None:  # the schema makes this unreachable; keep the type honest
        raise ValueError(f"{path} missing after schema validation")
    return value


def read_document(root: etree._Element) -> DocumentPackage:
    header = root.find(_path("edXMLEnvelope", "edXMLHeader"))
    assert header is not None
    message = header.find(_N + "MessageHeader")
    assert message is not None
    business = header.find(_path("TraceHeaderList", "Bussiness"))
    assert business is not None
    recipients: list[str] = []
    for value in message.iterfind(_path("To", "OrganId")):
        organ = "".join(str(t) for t in value.itertext()).strip()
        if organ not in recipients:
            recipients.append(organ)
    changes = tuple(
        ReceiverChange(
            organ_id=_required(receiver, _N + "OrganId"),
            added=_required(receiver, _N + "ReceiverType") == "1",
        )
        for receiver in business.iterfind(
            _path("BussinessDocumentInfo", "ReceiverList", "Receiver")
        )
    )
    replacements = tuple(
        Replacement(
            document_id=_required(info, _N + "DocumentId"),
            organ_ids=tuple(
                "".join(str(t) for t in o.itertext()).strip()
                for o in info.iterfind(_path("OrganIdList", "OrganId"))
            ),
        )
        for info in business.iterfind(_path("ReplacementInfoList", "ReplacementInfo"))
    )
    priority = _text(message, _path("OtherInfo", "Priority"))
    return DocumentPackage(
        sender=_required(message, _path("From", "OrganId")),
        recipients=tuple(recipients),
        document_id=_required(message, _N + "DocumentId"),
        business_type=BusinessType(int(_required(business, _N + "BussinessDocType"))),
        priority=int(priority) if priority else 0,
        subject=_text(message, _N + "Subject"),
        referenced_document_id=_text(business, _N + "DocumentId"),
        receiver_changes=changes,
        replacements=replacements,
    )


def read_status(root: etree._Element) -> StatusPackage:
    message = root.find(_path("edXMLEnvelope", "edXMLHeader", "MessageHeader"))
    assert message is not None
    staff = message.find(_N + "StaffInfo")
    return StatusPackage(
        sender=_required(message, _path("From", "OrganId")),
        document_sender=_required(message, _path("ResponseFor", "OrganId")),
        document_id=_required(message, _path("ResponseFor", "DocumentId")),
        status_code=_required(message, _N + "StatusCode"),
        description=_text(message, _N + "Description"),
        staff=_text(staff, _N + "Staff") if staff is not None else None,
        timestamp=_required(message, _N + "Timestamp"),
    )
