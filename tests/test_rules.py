"""The record stage's rules without PostgreSQL (hub/record/rules/statuses.py,
hub/record/rules/changes.py and the plans of hub/record/rules/decide.py): every branch judged
from facts; tests/test_lifecycle.py and tests/test_pipeline.py run the same rules against the
real database."""

from __future__ import annotations

import dataclasses

import pytest

from hub.check.decision import Checked, Rejection
from hub.check.package import (
    BusinessType,
    DocumentPackage,
    ReceiverChange,
    Replacement,
    StatusPackage,
)
from hub.errors import Code, PackageRejected
from hub.record.rules.changes import judge_change, judge_replacement, target_of
from hub.record.rules.decide import DocumentFacts, Earlier, plan, plan_document, plan_status
from hub.record.rules.plan import (
    AddVersion,
    AnswerRequest,
    AskToAnswer,
    ChangeRecipient,
    RecordStatus,
    SetState,
)
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


# The decision as a whole (hub/record/rules/decide.py): the plan and what else it writes, or the
# rejection; tests/test_batch_records.py writes the same plans against the real database.

DIGEST = b"\x01" * 32


def test_a_new_document_starts_a_document_unless_its_id_was_used() -> None:
    fresh = plan_document(document(BusinessType.NEW, (A, B)), DocumentFacts(), digest=DIGEST)
    assert fresh.new_document and fresh.deliver_to == (A, B) and fresh.effects == ()
    again = DocumentFacts(earlier=Earlier(digest=DIGEST, message_id="m-1"))
    same = plan_document(document(BusinessType.NEW), again, digest=DIGEST)
    assert not same.new_document and same.deliver_to == () and "already accepted" in same.detail
    other = Earlier(digest=b"\x02" * 32, message_id="m-1")
    detail = refused(
        Code.DUPLICATE_DOCUMENT,
        lambda: plan_document(
            document(BusinessType.NEW), DocumentFacts(earlier=other), digest=DIGEST
        ),
    )
    assert "m-1" in detail and "new DocumentId" in detail


def test_a_replacement_retires_what_it_replaces_and_needs_a_fresh_id() -> None:
    replaces = (Replacement(document_id="d-1", organ_ids=(A,)),)
    facts = DocumentFacts(named={"d-1": DOC})
    decided = plan_document(document(BusinessType.REPLACE, replaces=replaces), facts, digest=DIGEST)
    assert decided.new_document and decided.detail.startswith("replacement ")
    assert decided.effects == (
        SetState(document_ref=7, state="replaced"),
        AddVersion(document_ref=7, relation="replaced-by"),
    )
    taken = dataclasses.replace(facts, earlier=Earlier(digest=DIGEST, message_id="m-2"))
    assert "already in use" in refused(
        Code.DUPLICATE_DOCUMENT,
        lambda: plan_document(
            document(BusinessType.REPLACE, replaces=replaces), taken, digest=DIGEST
        ),
    )


def test_a_revoke_and_an_update_write_their_version_and_ask_for_answers() -> None:
    facts = DocumentFacts(named={"d-1": DOC})
    revoke = plan_document(document(BusinessType.REVOKE, (A,)), facts, digest=DIGEST)
    assert revoke.document_ref == 7 and not revoke.new_document
    assert revoke.effects == (
        SetState(document_ref=7, state="revoked"),
        AddVersion(document_ref=7, relation="revoke"),
        AskToAnswer(document_ref=7, recipient=A, kind="revoke"),
    )
    change = ReceiverChange(organ_id=C, added=True)
    update = plan_document(
        document(BusinessType.UPDATE, (A, C), changes=(change,), referenced="d-1"),
        facts,
        digest=DIGEST,
    )
    assert update.effects == (
        ChangeRecipient(document_ref=7, organ_id=C, added=True),
        AddVersion(document_ref=7, relation="update"),
        AskToAnswer(document_ref=7, recipient=A, kind="update"),
    )


def test_statuses_record_for_whom_they_concern_and_answer_requests() -> None:
    three = status("03")
    step = plan_status(three, StatusFacts(document=DOC, sent_to_author=True, current_status="01"))
    assert step.effects == (RecordStatus(document_ref=7, recipient=A, status=three),)
    take_back = status("13", by=SENDER)
    taken = plan_status(take_back, StatusFacts(document=DOC))
    assert taken.effects == (
        AskToAnswer(document_ref=7, recipient=A, kind="take-back"),
        AskToAnswer(document_ref=7, recipient=B, kind="take-back"),
        RecordStatus(document_ref=7, recipient=A, status=take_back),
        RecordStatus(document_ref=7, recipient=B, status=take_back),
    )
    answer = status("15")
    answered = plan_status(answer, StatusFacts(document=DOC, sent_to_author=True, open_request=9))
    assert answered.effects == (
        AnswerRequest(request_id=9, answer="15"),
        RecordStatus(document_ref=7, recipient=A, status=answer),
    )


def test_a_refusal_by_the_rules_is_a_rejection_with_the_senders_names() -> None:
    checked = Checked(
        document=None, status=status("03"), signer_fingerprint=None, recipients=(SENDER,)
    )
    rejected = plan(checked, StatusFacts(document=None), digest=DIGEST)
    assert isinstance(rejected, Rejection) and rejected.code is Code.STATUS_INVALID
    assert (rejected.document_id, rejected.sender) == ("d-1", A)
    accepted = plan(
        checked,
        StatusFacts(document=DOC, sent_to_author=True, current_status="01"),
        digest=DIGEST,
    )
    assert not isinstance(accepted, Rejection) and accepted.deliver_to == (SENDER,)
