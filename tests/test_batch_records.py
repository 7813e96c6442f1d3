"""The group commit writes what one-by-one recording writes: the same packages, documents,
versions, recipients, receipts, deliveries and event links — against the real PostgreSQL.

The same submissions are recorded twice from the same starting state (each run inside a
transaction that is rolled back): once through ``records.record`` one by one, once through
``batch_records.record_many`` in batches, and the rows are compared with database ids replaced
by the (submitter, message_id) they stand for.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import asyncpg
import pytest

from adapters.sdk.items import Receipt
from hub import home
from hub.check.decision import Checked, Rejection, Submission, decide
from hub.check.schema import Kind
from hub.db import create_pool, not_transient
from hub.record import receipt, records
from hub.record.batch_records import Pending, batchable, record_many
from hub.record.group_commit import GroupCommit
from hub.registry import registry_cache
from tests.conftest import random_organ_id
from tests.harness import World, verify_receipt

NOW = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)  # inside the test certificates' validity


class Rollback(Exception):
    pass


async def dump(db: asyncpg.Connection[Any]) -> dict[str, list[tuple[object, ...]]]:
    """Every row the recording wrote, ids replaced by what they stand for."""
    messages = {
        r["id"]: (r["submitter"], r["message_id"])
        for r in await db.fetch("SELECT id, submitter, message_id FROM package")
    }
    documents = {
        r["id"]: (r["sender"], r["document_id"])
        for r in await db.fetch("SELECT id, sender, document_id FROM document")
    }

    def clean_payload(raw: str) -> str:
        payload = json.loads(raw)
        if "package" in payload:
            payload["package"] = messages[payload["package"]]
        payload.pop("receipt", None)  # an ECDSA signature differs each time it is made
        return json.dumps(payload, sort_keys=True)

    def message_id(value: str) -> str:  # lt-<package id>-<kind>-<recipient>
        _, package_id, rest = value.split("-", 2)
        return f"{messages[int(package_id)]}-{rest}"

    receipts = {}
    for r in await db.fetch("SELECT package_id, xml FROM receipt"):
        parsed = Receipt.parse(r["xml"])
        receipts[messages[r["package_id"]]] = (
            parsed.outcome,
            parsed.code,
            parsed.detail,
            parsed.document_id,
        )
    return {
        "package": sorted(
            (
                r["submitter"],
                r["message_id"],
                r["channel"],
                r["kind"],
                bytes(r["digest"]),
                r["size_bytes"],
                r["body"] is not None,
                r["document_id"],
                r["sender"],
                r["business_doc_type"],
                r["priority"],
                r["outcome"],
                r["code"],
                r["detail"],
                r["signer"] is not None,
                r["received_at"],
                tuple(r["recipients"]),
                r["received_lane"],
                documents.get(r["document_ref"]),
            )
            for r in await db.fetch("SELECT * FROM package")
        ),
        "document": sorted(
            (r["sender"], r["document_id"], messages[r["package_id"]], r["priority"], r["subject"])
            for r in await db.fetch("SELECT * FROM document")
        ),
        "document_version": sorted(
            (documents[r["document_ref"]], messages[r["package_id"]], r["relation"])
            for r in await db.fetch("SELECT * FROM document_version")
        ),
        "document_recipient": sorted(
            (documents[r["document_ref"]], r["recipient"], messages[r["added_by"]])
            for r in await db.fetch("SELECT * FROM document_recipient")
        ),
        "receipt": sorted(receipts.items()),
        "delivery": sorted(
            (
                messages[r["package_id"]],
                r["recipient"],
                r["kind"],
                message_id(r["message_id"]),
                r["urgent"],
                r["document_id"],
                r["routing_key"],
                r["state"],
            )
            for r in await db.fetch("SELECT * FROM delivery")
        ),
        "event": sorted(
            (
                r["chain"],
                r["seq"],
                r["kind"],
                r["document_id"],
                r["organ_id"],
                r["actor"],
                clean_payload(r["payload"]),
            )
            for r in await db.fetch("SELECT * FROM event WHERE kind IN ('accepted', 'rejected')")
        ),
    }


async def recorded_as(
    db: asyncpg.Connection[Any],
    write: Callable[[asyncpg.Connection[Any]], Awaitable[list[records.Recorded]]],
) -> tuple[list[records.Recorded], dict[str, list[tuple[object, ...]]]]:
    """What ``write`` returns and leaves in the database, rolled back afterwards."""
    kept: list[tuple[list[records.Recorded], dict[str, list[tuple[object, ...]]]]] = []
    with pytest.raises(Rollback):
        async with db.transaction():
            result = await write(db)
            kept.append((result, await dump(db)))
            raise Rollback
    return kept[0]


def outcome(recorded: records.Recorded) -> tuple[object, ...]:
    return (
        recorded.code,
        recorded.detail,
        recorded.replay,
        sorted(
            (o.recipient, o.kind, o.urgent, o.document_id, o.body)
            for o in recorded.outbound
            if o.kind != "receipt"
        ),
        sorted(o.recipient for o in recorded.outbound if o.kind == "receipt"),
    )


async def test_a_batch_writes_what_one_by_one_recording_writes(world: World, settings) -> None:
    a, b, c = [await world.agency(random_organ_id()) for _ in range(3)]
    db = await asyncpg.connect(settings.database_url)
    identity = home.load_hub_identity(settings)
    signer = receipt.HubSigner(key=identity.key, cert=identity.cert)
    try:
        snapshot = await registry_cache.load(db)

        def submission(sender, body: bytes, message_id: str) -> Submission:
            return Submission(
                submitter=sender.organ_id, message_id=message_id, kind=Kind.EDOC, body=body
            )

        reused_id = f"{a.organ_id},2026/12/01,1/REUSED"
        first_batch = [
            submission(a, world.document(a, [b]), "m-plain"),
            submission(a, world.document(a, [b, c]), "m-two"),
            submission(b, world.document(b, [c], priority=3), "m-urgent"),
            submission(a, world.document(a, [c], document_id=reused_id), "m-original"),
            submission(c, world.document(c, [a], signer=b), "m-mismatch"),  # SENDER_MISMATCH
            submission(a, world.document(a, ["999.99.99.Z99"]), "m-unknown"),
            submission(b, b"<edXML>not closed", "m-malformed"),
        ]
        original = first_batch[3].body
        second_batch = [
            first_batch[0],  # the same message again: replayed
            submission(a, original, "m-same-again"),  # the same document, same content
            submission(a, world.document(a, [b], document_id=reused_id), "m-duplicate"),
            submission(c, world.document(c, [a, b]), "m-late"),
        ]
        batches = [
            [
                Pending(
                    submission=s,
                    result=decide(s, snapshot, now=NOW, max_bytes=1 << 24),
                    now=NOW,
                    lane="urgent" if s.message_id == "m-urgent" else "ordinary",
                )
                for s in batch
            ]
            for batch in (first_batch, second_batch)
        ]
        assert all(batchable(p.result) for batch in batches for p in batch)
        codes = [
            p.result.code.value if isinstance(p.result, Rejection) else None for p in batches[0]
        ]
        assert codes == [
            None,
            None,
            None,
            None,
            "SENDER_MISMATCH",
            "RECIPIENT_UNKNOWN",
            "XML_MALFORMED",
        ]
        assert isinstance(batches[1][2].result, Checked)

        async def one_by_one(conn: asyncpg.Connection[Any]) -> list[records.Recorded]:
            return [
                await records.record(
                    conn, p.submission, p.result, signer=signer, now=p.now, lane=p.lane
                )
                for batch in batches
                for p in batch
            ]

        async def batched(conn: asyncpg.Connection[Any]) -> list[records.Recorded]:
            done: list[records.Recorded] = []
            for batch in batches:
                done += await record_many(conn, batch, signer=signer)
            return done

        single, single_rows = await recorded_as(db, one_by_one)
        group, group_rows = await recorded_as(db, batched)
    finally:
        await db.close()

    for table in single_rows:
        assert group_rows[table] == single_rows[table], table
    assert [outcome(r) for r in group] == [outcome(r) for r in single]
    by_message = dict(
        zip([p.submission.message_id for b in batches for p in b], group, strict=True)
    )
    assert by_message["m-duplicate"].code is not None
    assert by_message["m-duplicate"].code.value == "DUPLICATE_DOCUMENT"
    assert "already accepted" in by_message["m-same-again"].detail
    assert group[7].replay  # m-plain again
    for recorded in group:
        verify_receipt(recorded.receipt, identity.cert)
    assert len(single_rows["delivery"]) == 17  # 7 to recipients, 10 receipts (not the replay's)
    assert len(single_rows["package"]) == 10


async def test_a_bad_submission_fails_its_batch_with_an_error_that_splits_it(
    world: World, settings
) -> None:
    """A row PostgreSQL refuses (here a signer certificate nobody registered) fails the whole
    batch with an error the pipeline does not call transient, so its group commit tries each
    submission alone and only that one's caller fails."""
    a, b = [await world.agency(random_organ_id()) for _ in range(2)]
    db = await asyncpg.connect(settings.database_url)
    identity = home.load_hub_identity(settings)
    signer = receipt.HubSigner(key=identity.key, cert=identity.cert)
    try:
        snapshot = await registry_cache.load(db)
        pending = []
        for n in range(2):
            body = world.document(a, [b])
            submission = Submission(
                submitter=a.organ_id, message_id=f"m-{n}", kind=Kind.EDOC, body=body
            )
            result = decide(submission, snapshot, now=NOW, max_bytes=1 << 24)
            assert isinstance(result, Checked)
            if n == 1:
                result = replace(result, signer_fingerprint=bytes(32))
            pending.append(Pending(submission=submission, result=result, now=NOW))
        with pytest.raises(asyncpg.ForeignKeyViolationError) as caught:
            await record_many(db, pending, signer=signer)
        assert not_transient(caught.value)
        [alone] = await record_many(db, pending[:1], signer=signer)
        assert alone.code is None and not alone.replay
    finally:
        await db.close()


async def test_submissions_sharing_a_message_or_a_document_id_queue_in_separate_batches(
    world: World, settings
) -> None:
    """Queued up together — a document; the same document under another message_id; another
    document under the first message_id — they go through the pipeline's group commit in
    separate batches (one statement cannot insert the same message or DocumentId twice): no
    error, each its outcome."""
    a, b = [await world.agency(random_organ_id()) for _ in range(2)]
    pool = await create_pool(settings.database_url)
    identity = home.load_hub_identity(settings)
    signer = receipt.HubSigner(key=identity.key, cert=identity.cert)
    try:
        snapshot = await registry_cache.load(pool)
        body, other_body = world.document(a, [b]), world.document(a, [b])

        def pending(message_id: str, body: bytes) -> Pending:
            submission = Submission(
                submitter=a.organ_id, message_id=message_id, kind=Kind.EDOC, body=body
            )
            return Pending(
                submission=submission,
                result=decide(submission, snapshot, now=NOW, max_bytes=1 << 24),
                now=NOW,
            )

        async def work(batch):
            async with pool.acquire() as conn:
                return await record_many(conn, batch, signer=signer)

        group = GroupCommit(work, keys=lambda p: p.keys, most=8)
        queued = [
            asyncio.create_task(group.submit(pending(m, data)))
            for m, data in (("m-1", body), ("m-2", body), ("m-1", other_body))
        ]
        await asyncio.sleep(0)  # all three queued before the loop takes its first batch
        runner = asyncio.create_task(group.run())
        try:
            first, other, again = await asyncio.wait_for(asyncio.gather(*queued), 30)
        finally:
            runner.cancel()
        assert group.batches == 2  # m-1 alone first; then m-2 and the other m-1 (no key shared)
    finally:
        await pool.close()
    assert first.code is None and not first.replay and len(first.outbound) == 2
    assert other.code is None and "already accepted" in other.detail
    assert again.replay and again.package_id == first.package_id
