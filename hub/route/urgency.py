"""Which lane a submission takes inside the hub: urgent (hỏa tốc) or ordinary. Pure.

Triage decides before the package is checked, from its first :data:`SNIFF_BYTES`, so the look
must cost little whatever the bytes are: libxml2's incremental parser reads that prefix (linear
time, comments and CDATA are what they are, not markup), and only ``MessageHeader`` is looked
at. Only scheduling depends on the answer: the package is parsed and checked properly later, and
the lane of its inbox comes from that.
"""

from __future__ import annotations

from collections import OrderedDict

from lxml import etree

from hub.check.schema import EDXML_NS

SNIFF_BYTES = 65536
FEED_BYTES = 1024
"""What the sniff parses at a time, until MessageHeader has ended (a small package's header
ends within its first kilobyte or two; libxml2 parses a whole fed piece before it reports)."""
_N = f"{{{EDXML_NS}}}"
_HEADER = _N + "MessageHeader"
_PRIORITY = _N + "Priority"
_OTHER_INFO = _N + "OtherInfo"
_RESPONSE_FOR = _N + "ResponseFor"
_DOCUMENT_ID = _N + "DocumentId"
_ORGAN_ID = _N + "OrganId"
URGENT_PRIORITIES = frozenset({"3", "4"})
_LOOKED_AT = {
    "edoc": (_HEADER, _PRIORITY),
    "status": (_HEADER, _DOCUMENT_ID, _ORGAN_ID),
}
"""The elements whose end the sniff is told of, by kind: a document's priority, a status's
ResponseFor (every OrganId of a document's From and To would be reported for nothing)."""


class UrgentDocuments:
    """Recent urgent documents, as (sender, DocumentId): a status about one takes the urgent
    lane. Bounded: the oldest are forgotten first (a forgotten one's statuses are merely
    ordinary work)."""

    def __init__(self, most: int = 100_000) -> None:
        self._most = most
        self._keys: OrderedDict[tuple[str, str], None] = OrderedDict()

    def add(self, sender: str, document_id: str) -> None:
        key = (sender, document_id)
        self._keys[key] = None
        self._keys.move_to_end(key)
        while len(self._keys) > self._most:
            self._keys.popitem(last=False)

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __len__(self) -> int:
        return len(self._keys)


def _header_values(head: bytes, kind: str) -> dict[str, str]:
    """Priority, or ResponseFor's OrganId and DocumentId, from MessageHeader in ``head``: fed to
    the parser :data:`FEED_BYTES` at a time, and no further once MessageHeader has ended (it
    comes first: a large package's attachments are not parsed here)."""
    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
        return {}
    parser = etree.XMLPullParser(
        events=("end",),
        tag=_LOOKED_AT.get(kind, _LOOKED_AT["status"]),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
    )
    found: dict[str, str] = {}
    for at in range(0, len(head), FEED_BYTES):
        try:
            parser.feed(head[at : at + FEED_BYTES])
        except etree.XMLSyntaxError:
            broken = True  # what was read before the error still counts; the check comes later
        else:
            broken = False
        for _, element in parser.read_events():
            if not isinstance(element, etree._Element):
                continue
            if element.tag == _HEADER:
                return found
            _note(element, found)
        if broken:
            break
    return found


def _note(element: etree._Element, found: dict[str, str]) -> None:
    parent = element.getparent()
    grand = parent.getparent() if parent is not None else None
    if parent is None or grand is None or grand.tag != _HEADER:
        return
    text = "".join(str(t) for t in element.itertext()).strip()
    if element.tag == _PRIORITY and parent.tag == _OTHER_INFO:
        found.setdefault("priority", text)
    elif parent.tag == _RESPONSE_FOR and element.tag == _DOCUMENT_ID:
        found.setdefault("document_id", text)
    elif parent.tag == _RESPONSE_FOR and element.tag == _ORGAN_ID:
        found.setdefault("organ_id", text)


def lane_of(body: bytes, kind: str, urgent_documents: UrgentDocuments) -> str:
    """``urgent`` or ``ordinary``, from the first :data:`SNIFF_BYTES` of the body."""
    values = _header_values(body[:SNIFF_BYTES], kind)
    if kind == "edoc":
        return "urgent" if values.get("priority") in URGENT_PRIORITIES else "ordinary"
    key = (values.get("organ_id", ""), values.get("document_id", ""))
    return "urgent" if key in urgent_documents else "ordinary"
