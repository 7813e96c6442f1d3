"""Review finding 4: triage's look at unverified bytes is linear and is not fooled by comments.

The old look was a regular expression (``ResponseFor>.*?<DocumentId>`` over 64 KiB with
DOTALL): 2.2 s per crafted status on the event loop, and ``<!--<Priority>3</Priority>-->`` put
an ordinary document into the urgent lane.
"""

from __future__ import annotations

import time
from pathlib import Path

from lxml import etree

from hub.check.schema import EDXML_NS
from hub.route.urgency import FEED_BYTES, SNIFF_BYTES, UrgentDocuments, lane_of

HEAD = (
    f'<?xml version="1.0" encoding="UTF-8"?><edXML xmlns="{EDXML_NS}"><edXMLEnvelope><edXMLHeader>'
)


def document(other_info: str, before: str = "") -> bytes:
    return (
        HEAD
        + f"<MessageHeader>{before}<From><OrganId>000.00.00.G22</OrganId></From>"
        + f"<OtherInfo>{other_info}</OtherInfo></MessageHeader></edXMLHeader></edXMLEnvelope>"
        + "</edXML>"
    ).encode()


def status(organ_id: str, document_id: str) -> bytes:
    return (
        HEAD
        + "<MessageHeader><From><OrganId>000.00.00.H41</OrganId></From>"
        + f"<ResponseFor><OrganId>{organ_id}</OrganId><DocumentId>{document_id}</DocumentId>"
        + "</ResponseFor><StatusCode>01</StatusCode></MessageHeader></edXMLHeader>"
        + "</edXMLEnvelope></edXML>"
    ).encode()


def test_priority_three_and_four_are_urgent() -> None:
    none = UrgentDocuments()
    assert lane_of(document("<Priority>3</Priority>"), "edoc", none) == "urgent"
    assert lane_of(document("<Priority> 4 </Priority>"), "edoc", none) == "urgent"
    assert lane_of(document("<Priority>2</Priority>"), "edoc", none) == "ordinary"
    assert lane_of(document(""), "edoc", none) == "ordinary"


def test_comments_and_cdata_do_not_make_a_package_urgent() -> None:
    none = UrgentDocuments()
    assert lane_of(
        document("<!--<Priority>3</Priority>--><Priority>0</Priority>"), "edoc", none
    ) == ("ordinary")
    assert (
        lane_of(
            document("", before="<Subject><![CDATA[<Priority>3</Priority>]]></Subject>"),
            "edoc",
            none,
        )
        == "ordinary"
    )
    # a Priority outside MessageHeader/OtherInfo (a foreign slot, say) is not the priority
    assert (
        lane_of(document("", before="<x:Priority xmlns:x='urn:x'>3</x:Priority>"), "edoc", none)
        == "ordinary"
    )


def test_a_status_about_an_urgent_document_is_urgent() -> None:
    urgent = UrgentDocuments()
    urgent.add("000.00.00.G22", "G22,2026/12/05,1/CV")
    assert lane_of(status("000.00.00.G22", "G22,2026/12/05,1/CV"), "status", urgent) == "urgent"
    # the same DocumentId from another sender is another document
    assert lane_of(status("000.00.00.X11", "G22,2026/12/05,1/CV"), "status", urgent) == "ordinary"
    assert lane_of(b"\x00\xff not xml", "status", urgent) == "ordinary"


def test_the_urgent_documents_are_bounded() -> None:
    urgent = UrgentDocuments(most=3)
    for n in range(5):
        urgent.add("a", str(n))
    assert len(urgent) == 3
    assert ("a", "0") not in urgent and ("a", "4") in urgent


def test_a_crafted_status_costs_what_an_ordinary_one_of_its_size_does() -> None:
    """Measured as a ratio, not a time: the old pattern was ~1,000 times the ordinary cost."""
    crafted = (HEAD + "<MessageHeader>" + "<ResponseFor>" * (SNIFF_BYTES // 14)).encode()
    plain = (HEAD + "<MessageHeader><Description>" + "x" * SNIFF_BYTES).encode()
    none = UrgentDocuments()

    def cost(body: bytes) -> float:
        best = float("inf")
        for _ in range(5):
            started = time.perf_counter()
            lane_of(body, "status", none)
            best = min(best, time.perf_counter() - started)
        return best

    assert cost(crafted) < 50 * max(cost(plain), 1e-4)


def test_the_look_stops_where_message_header_ends() -> None:
    """What follows MessageHeader — a large package's attachments — is not parsed by the look:
    a priority split across the parser's feeds is still read, and a syntax error after the
    header does not hide it (the real check refuses the package later)."""
    none = UrgentDocuments()
    padding = "<Subject>" + "x" * (FEED_BYTES - 10) + "</Subject>"  # <Priority> straddles a feed
    urgent = document("<Priority>3</Priority>", before=padding)
    assert lane_of(urgent, "edoc", none) == "urgent"
    broken_after = urgent.replace(b"</edXMLEnvelope>", b"<</edXMLEnvelope>")
    assert lane_of(broken_after, "edoc", none) == "urgent"
    # an error inside MessageHeader, before the priority: nothing was read, ordinary
    broken_before = document("<Priority>3</Priority>", before="<From></To>")
    assert lane_of(broken_before, "edoc", none) == "ordinary"


def test_the_national_sdks_packages_are_read_as_a_full_parse_reads_them(samples: Path) -> None:
    """Real headers run over several of the look's feeds (1.5 to 5 KB): a document's priority
    and a status's ResponseFor are what parsing the whole package finds (edoc_new, with stray
    bytes before its declaration, is read as nothing: ordinary, and refused by the check)."""
    n = f"{{{EDXML_NS}}}"
    for path in sorted(samples.glob("*.edxml")):
        body = path.read_bytes()
        if not body.startswith(b"<"):
            assert lane_of(body, "edoc", UrgentDocuments()) == "ordinary", path.name
            continue
        header = etree.fromstring(body).find(f"{n}edXMLEnvelope/{n}edXMLHeader/{n}MessageHeader")
        assert header is not None, path.name
        if path.name.startswith("edoc_"):
            priority = header.findtext(f"{n}OtherInfo/{n}Priority", "").strip()
            expected = "urgent" if priority in ("3", "4") else "ordinary"
            assert lane_of(body, "edoc", UrgentDocuments()) == expected, path.name
            continue
        organ_id = header.findtext(f"{n}ResponseFor/{n}OrganId", "").strip()
        document_id = header.findtext(f"{n}ResponseFor/{n}DocumentId", "").strip()
        assert organ_id and document_id, path.name
        urgent = UrgentDocuments()
        assert lane_of(body, "status", urgent) == "ordinary", path.name
        urgent.add(organ_id, document_id)
        assert lane_of(body, "status", urgent) == "urgent", path.name
