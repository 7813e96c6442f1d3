"""The record stage's one write path: decided :class:`~hub.record.outcomes.Outcome` rows
inserted in one statement (``outcomes_insert``) — one submission's as a batch's — and the
rules' :data:`~hub.record.rules.Effect` rows after them. Ids come first, from the sequences
(:func:`reserve`, or :func:`lookup` for a batch), so that every row of an outcome can be
written together."""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from hub.audit import events
from hub.db import DB, Q
from hub.record.outcomes import Outcome
from hub.record.rules import Effect
from hub.record.rules.plan import (
    AddVersion,
    AnswerRequest,
    AskToAnswer,
    ChangeRecipient,
    RecordStatus,
    SetState,
)

DeliveryIds = dict[tuple[str, str], int]
"""The ids PostgreSQL gave an outcome's deliveries, by (recipient, kind)."""


async def reserve(db: DB, *, document: bool) -> tuple[int, int | None]:
    """Ids for one package and, if it starts one, its document."""
    row = await db.fetchrow(Q.ids_reserve, document)
    assert row is not None
    return int(row["package_id"]), row["document_ref"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Lookup:
    """What ``batch_lookup`` found: what exists already, and ids for the batch's rows."""

    messages: frozenset[tuple[str, str]]
    """(submitter, message_id) recorded already."""
    documents: frozenset[tuple[str, str]]
    """(sender, DocumentId) recorded already."""
    package_ids: list[int]
    document_refs: list[int]


async def lookup(
    db: DB, messages: Sequence[tuple[str, str]], documents: Sequence[tuple[str, str]]
) -> Lookup:
    """Which of a batch's messages and new documents exist, and as many ids as it has."""
    found = await db.fetch(
        Q.batch_lookup,
        [submitter for submitter, _ in messages],
        [message_id for _, message_id in messages],
        [sender for sender, _ in documents],
        [document_id for _, document_id in documents],
        len(messages),
        len(documents),
    )
    return Lookup(
        messages=frozenset((r["a"], r["b"]) for r in found if r["what"] == "package"),
        documents=frozenset((r["a"], r["b"]) for r in found if r["what"] == "document"),
        package_ids=[int(r["id"]) for r in found if r["what"] == "package_id"],
        document_refs=[int(r["id"]) for r in found if r["what"] == "document_id"],
    )


def _columns(rows: Sequence[Sequence[object]], width: int) -> list[list[object]]:
    """Rows turned into ``width`` column arrays (empty arrays for no rows)."""
    return [[row[i] for row in rows] for i in range(width)]


async def write(db: DB, outcomes: Sequence[Outcome]) -> list[DeliveryIds]:
    """Insert every row of ``outcomes`` in one statement (its own transaction when no other is
    open): packages, new documents with their first versions and recipients, receipts,
    deliveries and links. The delivery ids, in the outcomes' order."""
    staged = [
        (o.package_id, o.package.body)
        for o in outcomes
        if o.package.body is not None and len(o.package.body) >= STAGE_MIN
    ]
    if staged:
        async with db.transaction():  # the staging table lives until this transaction ends
            return await _write_staged(db, outcomes, staged)
    return await _write(db, outcomes, set())


STAGE_MIN = 4 << 20
"""Bodies of this many bytes or more reach PostgreSQL by COPY, a slice at a time: as a
statement's parameter, asyncpg held 2.9 times a 64 MiB body in buffers while sending it."""
SLICE = 4 << 20


async def _write_staged(
    db: DB, outcomes: Sequence[Outcome], staged: list[tuple[int, bytes]]
) -> list[DeliveryIds]:
    """:func:`write`, the large bodies copied into a temporary table first (binary COPY,
    streamed) and moved into their ``package`` rows by PostgreSQL in the same transaction."""
    await db.execute(Q.staged_body_create)
    await db.copy_to_table(
        "staged_body",
        source=_copy_rows(staged),
        columns=["package_id", "body"],
        format="binary",
        schema_name="pg_temp",
    )
    ids = await _write(db, outcomes, {package_id for package_id, _ in staged})
    await db.execute(Q.staged_body_move)
    return ids


async def _copy_rows(rows: list[tuple[int, bytes]]) -> AsyncIterator[bytes]:
    """PostgreSQL's binary COPY format for (bigint, bytea) rows, each body in slices."""
    yield b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
    for package_id, body in rows:
        yield struct.pack("!hiqi", 2, 8, package_id, len(body))
        for at in range(0, len(body), SLICE):
            yield body[at : at + SLICE]
    yield struct.pack("!h", -1)


async def _write(db: DB, outcomes: Sequence[Outcome], staged: set[int]) -> list[DeliveryIds]:
    packages = [
        (o.package_id, *o.package.columns(staged=o.package_id in staged), o.document_ref)
        for o in outcomes
    ]
    documents = [(o.new_document, o.package_id) for o in outcomes if o.new_document is not None]
    recipients = [
        (document.ref, organ_id, package_id)
        for document, package_id in documents
        for organ_id in document.recipients
    ]
    deliveries = [
        (
            o.package_id,
            d.recipient,
            d.kind,
            d.message_id,
            d.urgent,
            d.document_id,
            d.routing_key,
            d.addressed_to,
        )
        for o in outcomes
        for d in o.deliveries
    ]
    links = events.links(o.link for o in outcomes)
    found = await db.fetch(
        Q.outcomes_insert,
        *_columns(packages, 21),
        [d.ref for d, _ in documents],
        [d.sender for d, _ in documents],
        [d.document_id for d, _ in documents],
        [package_id for _, package_id in documents],
        [d.priority for d, _ in documents],
        [d.subject for d, _ in documents],
        *_columns(recipients, 3),
        [o.package_id for o in outcomes],
        [o.receipt for o in outcomes],
        *_columns(deliveries, 8),
        *events.arrays(links),
    )
    ids: dict[int, DeliveryIds] = {o.package_id: {} for o in outcomes}
    for r in found:
        if r["id"] is not None:
            ids[r["package_id"]][(r["recipient"], r["kind"])] = int(r["id"])
    return [ids[o.package_id] for o in outcomes]


async def apply(db: DB, package_id: int, effects: Sequence[Effect]) -> None:
    """What the rules decided besides the outcome, in order (after :func:`write`: the rows
    refer to the package)."""
    for effect in effects:
        match effect:
            case SetState(document_ref=ref, state=state):
                await db.execute(Q.document_set_state, ref, state)
            case AddVersion(document_ref=ref, relation=relation):
                await db.execute(Q.document_version_insert, ref, package_id, relation)
            case ChangeRecipient(document_ref=ref, organ_id=organ_id, added=added):
                query = Q.document_recipient_add if added else Q.document_recipient_remove
                await db.execute(query, ref, organ_id, package_id)
            case AskToAnswer(document_ref=ref, recipient=recipient, kind=kind):
                await db.execute(Q.change_request_supersede, ref, recipient, package_id)
                await db.execute(Q.change_request_insert, ref, recipient, package_id, kind)
            case AnswerRequest(request_id=request_id, answer=answer):
                await db.execute(Q.change_request_answer, request_id, answer, package_id)
            case RecordStatus(document_ref=ref, recipient=recipient, status=status):
                await db.execute(
                    Q.status_insert,
                    ref,
                    package_id,
                    status.sender,
                    recipient,
                    status.status_code,
                    status.description,
                    status.staff,
                    status.timestamp,
                )
