"""The record stage's rules without PostgreSQL (hub/record/rules/statuses.py and
hub/record/rules/changes.py): every branch judged from facts; tests/test_lifecycle.py and
tests/test_pipeline.py run the same rules against the real database."""

from __future__ import annotations

import pytest

from hub.check.package import (
    BusinessType,
    DocumentPackage,
    ReceiverChange,
    Replacement,
    StatusPackage,
)
from hub.errors import Code, PackageRejected
from hub.record.rules.changes import judge_change, judge_replacement, target_of
from hub.record.rules.statuses import KnownDocument, StatusFacts, judge

SENDER, A, B, C = "000.00.00.G22", "000.00.00.H41", "000.00.00.H14", "000.00.00.G17"
DOC = KnownDocument(ref=7, state="active", priority=0, recipients=(A, B))


def status(code: str, *, by: str = A, description: str | None = "ok") -> StatusPackage:
    return StatusPackage(
        sender=by,
        document_sender=SENDER,
        document_id="d-1",
        status_code=code,
        description=description,
        staff=None,
        timestamp="2026/12/05 09:00:00",
    )


def document(
    kind: BusinessType,
    to: tuple[str, ...] = (A,),
    *,
    changes: tuple[ReceiverChange, ...] = (),
    replaces: tuple[Replacement, ...] = (),
    referenced: str | None = None,
    priority: int = 0,
) -> DocumentPackage:
    return DocumentPackage(
        sender=SENDER,
        recipients=to,
        document_id="d-2" if kind is BusinessType.REPLACE else "d-1",
        business_type=kind,
        priority=priority,
        subject=None,
        referenced_document_id=referenced,
        receiver_changes=changes,
        replacements=replaces,
    )


def refused(code: Code, call: object) -> str:
    with pytest.raises(PackageRejected) as caught:
        call()  # type: ignore[operator]
    assert caught.value.code is code
    return caught.value.detail


def test_a_status_about_an_unknown_document_is_invalid() -> None:
    detail = refused(Code.STATUS_INVALID, lambda: judge(status("01"), StatusFacts(document=None)))
    assert "never carried" in detail


def test_processing_statuses_follow_the_lifecycle() -> None:
    facts = StatusFacts(document=DOC, sent_to_author=True, current_status="01")
    ruling = judge(status("03"), facts)
    assert ruling.plan.deliver_to == (SENDER,) and ruling.record_for == (A,)
    assert "not allowed" in refused(
        Code.STATUS_INVALID,
        lambda: judge(
            status("01"), StatusFacts(document=DOC, sent_to_author=True, current_status="06")
        ),
    )
    repeat = judge(
        status("01"), StatusFacts(document=DOC, sent_to_author=True, current_status="01")
    )
    assert repeat.plan.deliver_to == () and repeat.record_for == ()


def test_only_recipients_report_and_a_refusal_needs_its_reason() -> None:
    assert "not sent to" in refused(
        Code.STATUS_INVALID, lambda: judge(status("01", by=C), StatusFacts(document=DOC))
    )
    assert "reason" in refused(
        Code.STATUS_INVALID,
        lambda: judge(
            status("02", description=" "), StatusFacts(document=DOC, sent_to_author=True)
        ),
    )


def test_answers_need_an_open_request_unless_they_repeat_the_last() -> None:
    answered = judge(status("15"), StatusFacts(document=DOC, sent_to_author=True, open_request=42))
    assert answered.answers_request == 42 and answered.plan.deliver_to == (SENDER,)
    repeat = judge(status("15"), StatusFacts(document=DOC, sent_to_author=True, last_answer="15"))
    assert repeat.plan.deliver_to == () and repeat.answers_request is None
    assert "none" in refused(
        Code.STATUS_INVALID,
        lambda: judge(
            status("16"), StatusFacts(document=DOC, sent_to_author=True, last_answer="15")
        ),
    )


def test_only_the_sender_takes_back_and_every_recipient_is_asked() -> None:
    ruling = judge(status("13", by=SENDER), StatusFacts(document=DOC))
    assert ruling.take_back_from == ruling.record_for == ruling.plan.deliver_to == (A, B)
    assert "only the sender" in refused(
        Code.STATUS_INVALID, lambda: judge(status("13", by=A), StatusFacts(document=DOC))
    )


def test_an_urgent_document_makes_its_statuses_urgent() -> None:
    urgent = KnownDocument(ref=7, state="active", priority=3, recipients=(A,))
    assert judge(status("01"), StatusFacts(document=urgent, sent_to_author=True)).plan.urgent


def test_a_revoke_goes_to_current_recipients_only() -> None:
    ruling = judge_change(document(BusinessType.REVOKE, (A, B)), DOC)
    assert (ruling.what, ruling.document_ref, ruling.ask_to_answer) == ("revoke", 7, (A, B))
    assert "revocation of d-1" in ruling.plan.detail
    again = judge_change(
        document(BusinessType.REVOKE, (A,)),
        KnownDocument(ref=7, state="revoked", priority=3, recipients=(A,)),
    )
    assert "already revoked" in again.plan.detail and again.plan.urgent
    assert "never sent to" in refused(
        Code.REFERENCE_UNKNOWN, lambda: judge_change(document(BusinessType.REVOKE, (C,)), DOC)
    )
    assert "never sent" in refused(
        Code.REFERENCE_UNKNOWN, lambda: judge_change(document(BusinessType.REVOKE), None)
    )


def test_an_update_may_add_recipients_and_reaches_those_it_changes() -> None:
    update = document(
        BusinessType.UPDATE,
        (A, C),
        changes=(ReceiverChange(organ_id=C, added=True), ReceiverChange(organ_id=B, added=False)),
        referenced="d-1",
    )
    assert target_of(update) == "d-1"
    ruling = judge_change(update, DOC)
    assert ruling.plan.deliver_to == (A, C, B)
    assert ruling.ask_to_answer == (A,)  # C was not a recipient yet: nothing to answer


def test_a_replacement_names_documents_the_sender_sent_to_those_agencies() -> None:
    replacement = document(
        BusinessType.REPLACE,
        replaces=(
            Replacement(document_id="d-1", organ_ids=(A,)),
            Replacement(document_id="d-1", organ_ids=(B,)),
        ),
    )
    assert judge_replacement(replacement, {"d-1": DOC}) == (7,)
    assert "never sent" in refused(
        Code.REFERENCE_UNKNOWN, lambda: judge_replacement(replacement, {"d-1": None})
    )
    stranger = document(
        BusinessType.REPLACE, replaces=(Replacement(document_id="d-1", organ_ids=(C,)),)
    )
    assert "never sent to" in refused(
        Code.REFERENCE_UNKNOWN, lambda: judge_replacement(stranger, {"d-1": DOC})
    )
