"""The tamper-evident event log: every kind of SQL tampering is caught by `lienthong audit verify`.

Links are appended through hub.audit.events against the real PostgreSQL; the tampering is plain SQL
with the append-only triggers switched off (as someone with the database's superuser would).
"""

from __future__ import annotations

import asyncio
import json

import asyncpg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.audit import audit, chain, events, seal
from hub.config import Settings
from hub.record.receipt import HubSigner
from hub.registry import registry
from tests.harness import init_home, lienthong


@pytest.fixture
async def db(settings: Settings):
    conn = await asyncpg.connect(settings.database_url)
    yield conn
    await conn.close()


@pytest.fixture
async def signer(settings: Settings, db: asyncpg.Connection) -> HubSigner:
    made = init_home(settings)
    await registry.trust_ca(db, made.ca.cert, source="development")
    return HubSigner(key=made.hub.key, cert=made.hub.cert)


async def fill(db: asyncpg.Connection, chains: dict[str, int]) -> None:
    for name, count in chains.items():
        for n in range(count):
            await events.append(
                db,
                kind="accepted",
                actor=name,
                organ_id=name,  # no document_id: the agency's own chain, not a lane
                payload={"package": n, "digest": f"{n:064x}", "about": f"{name},{n}/CV"},
            )


async def tamper(db: asyncpg.Connection, sql: str, *args: object) -> None:
    async with db.transaction():
        await db.execute("SET LOCAL session_replication_role = replica")  # triggers off
        await db.execute(sql, *args)


async def test_an_untouched_log_verifies_and_concurrent_appends_keep_every_chain_whole(
    db, settings, signer, env
) -> None:
    await fill(db, {"000.00.00.A01": 3})
    pool = await asyncpg.create_pool(settings.database_url, min_size=4, max_size=8)
    try:

        async def writer(name: str) -> None:
            async with pool.acquire() as conn:
                await fill(conn, {name: 25})

        # several writers on the same chains at once, and batches touching several chains
        await asyncio.gather(*(writer(f"000.00.00.A0{i % 3}") for i in range(6)))
        async with pool.acquire() as conn:
            await events.append_many(
                conn,
                [
                    events.Event(kind="delivered", actor="hub", organ_id=f"000.00.00.A0{i}")
                    for i in (2, 0, 1)
                ],
            )
    finally:
        await pool.close()
    await seal.seal(db, signer)
    report = await audit.verify(db)
    assert report.ok, report.findings
    assert report.links == 3 + 150 + 3 + 1 and report.seals == 1  # + trusting the CA
    ran = lienthong(env, "audit", "verify")
    assert ran.returncode == 0, ran.stderr
    assert "intact" in ran.stdout and "157 links in 4 chains, 1 seals" in ran.stdout


async def test_a_changed_row_is_caught_and_named(db, signer, env) -> None:
    await fill(db, {"000.00.00.B01": 5, "000.00.00.B02": 2})
    await tamper(
        db,
        "UPDATE event SET payload = jsonb_set(payload, '{digest}', '\"forged\"') "
        "WHERE chain = '000.00.00.B01' AND seq = 3",
    )
    ran = lienthong(env, "audit", "verify")
    assert ran.returncode == 1
    assert "broken: chain 000.00.00.B01 link 3: was changed" in ran.stderr, ran.stderr
    # the actor, the time or the kind: the same
    await tamper(db, "UPDATE event SET actor = 'someone' WHERE chain = '000.00.00.B02' AND seq = 1")
    report = await audit.verify(db)
    assert [str(f).split(":")[0] for f in report.findings] == [
        "chain 000.00.00.B01 link 3",
        "chain 000.00.00.B02 link 1",
    ]


async def test_a_deleted_row_is_caught_in_the_middle_and_at_the_end(db, env) -> None:
    await fill(db, {"000.00.00.C01": 5, "000.00.00.C02": 4})
    await tamper(db, "DELETE FROM event WHERE chain = '000.00.00.C01' AND seq = 2")
    await tamper(db, "DELETE FROM event WHERE chain = '000.00.00.C02' AND seq = 4")
    ran = lienthong(env, "audit", "verify")
    assert ran.returncode == 1
    assert "broken: chain 000.00.00.C01 link 3: link 2 is missing before it" in ran.stderr
    assert "chain 000.00.00.C02 link 4: is missing: the chain's head is link 4" in ran.stderr


async def test_an_inserted_row_is_caught(db, env) -> None:
    await fill(db, {"000.00.00.D01": 4})
    # a row slipped in between 2 and 3: the later rows are renumbered to make room
    await tamper(db, "UPDATE event SET seq = seq + 100 WHERE chain = '000.00.00.D01' AND seq > 2")
    await tamper(db, "UPDATE event SET seq = seq - 99 WHERE chain = '000.00.00.D01' AND seq > 100")
    await tamper(
        db,
        "INSERT INTO event (chain, seq, kind, actor, organ_id, payload, prev_hash, hash) "
        "SELECT chain, 3, 'accepted', actor, organ_id, '{}', hash, hash FROM event "
        "WHERE chain = '000.00.00.D01' AND seq = 2",
    )
    await tamper(db, "UPDATE chain_head SET seq = 5 WHERE chain = '000.00.00.D01'")
    ran = lienthong(env, "audit", "verify")
    assert ran.returncode == 1
    assert "broken: chain 000.00.00.D01 link 3: was changed" in ran.stderr, ran.stderr


async def test_a_chain_rewritten_by_someone_who_knows_the_hash_rule_is_caught_by_its_seal(
    db, signer, env
) -> None:
    name = "000.00.00.E01"
    await fill(db, {name: 4})
    await seal.seal(db, signer)
    # The attacker deletes link 2 and recomputes every later hash and the head: the chain
    # itself is consistent again; only the signed seal still remembers the old heads.
    rows = await db.fetch("SELECT * FROM event WHERE chain = $1 ORDER BY seq", name)
    await tamper(db, "DELETE FROM event WHERE chain = $1", name)
    prev = chain.GENESIS
    kept = [r for r in rows if r["seq"] != 2]
    for seq, row in enumerate(kept, start=1):
        link = audit.stored_link({**dict(row), "seq": seq}).link
        new = chain.next_hash(prev, link.digest())
        await tamper(
            db,
            "INSERT INTO event (chain, seq, kind, document_id, organ_id, actor, payload, "
            "prev_hash, hash, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10)",
            name,
            seq,
            row["kind"],
            row["document_id"],
            row["organ_id"],
            row["actor"],
            json.dumps(link.payload),
            prev,
            new,
            row["created_at"],
        )
        prev = new
    await tamper(db, "UPDATE chain_head SET seq = 3, hash = $2 WHERE chain = $1", name, prev)
    ran = lienthong(env, "audit", "verify")
    assert ran.returncode == 1
    assert f"broken: chain {name} link 4: is missing: seal 1 committed the chain up to it" in (
        ran.stderr
    ), ran.stderr
    report = await audit.verify(db)
    assert len(report.findings) == 1


async def test_a_changed_or_removed_seal_is_caught(db, signer) -> None:
    await fill(db, {"000.00.00.F01": 2})
    await seal.seal(db, signer)
    await fill(db, {"000.00.00.F01": 1})
    await seal.seal(db, signer)
    await fill(db, {"000.00.00.F02": 1})
    await seal.seal(db, signer)
    assert (await audit.verify(db)).ok
    assert await seal.seal(db, signer) is None  # nothing new: no empty seal
    await tamper(
        db,
        "UPDATE seal SET body = convert_to(replace(convert_from(body, 'UTF8'), "
        "'\"at\":\"2026', '\"at\":\"2025'), 'UTF8') WHERE seq = 3",
    )
    await tamper(db, "DELETE FROM seal WHERE seq = 2")
    found = [str(f) for f in (await audit.verify(db)).findings]
    assert found[0].startswith("seal 3: seal 2 is missing before it"), found
    assert any("seal 3: its signature does not verify" in f for f in found), found


async def test_an_agencys_documents_are_spread_over_its_lanes(db, signer) -> None:
    name = "000.00.00.L01"
    for n in range(40):
        await events.append(
            db, kind="accepted", actor=name, organ_id=name, document_id=f"{name},{n}/CV"
        )
        await events.append(
            db, kind="delivered", actor="hub", organ_id=name, document_id=f"{name},{n}/CV"
        )
    chains = await db.fetch(
        "SELECT chain, count(*) AS n FROM event WHERE organ_id = $1 GROUP BY 1", name
    )
    assert len(chains) == events.LANES and all(c["chain"].startswith(name + "#") for c in chains)
    # a document's links stay together in one lane
    lanes = await db.fetch(
        "SELECT count(DISTINCT chain) AS n FROM event WHERE organ_id = $1 GROUP BY document_id",
        name,
    )
    assert {r["n"] for r in lanes} == {1}
    await seal.seal(db, signer)
    assert (await audit.verify(db)).ok


_TEXTS = st.text(max_size=30)
_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | _TEXTS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXTS, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(
    chain_name=_TEXTS,
    kind=_TEXTS,
    document_id=st.none() | _TEXTS,
    organ_id=st.none() | _TEXTS,
    actor=st.none() | _TEXTS,
    payload=st.dictionaries(_TEXTS, _VALUES, max_size=5),
)
def test_a_links_content_written_with_its_payload_is_its_canonical_content(
    chain_name: str,
    kind: str,
    document_id: str | None,
    organ_id: str | None,
    actor: str | None,
    payload: dict[str, object],
) -> None:
    """hub.audit.events serialises a link's payload once, for its row and its hash: the bytes
    hashed are those of chain.Link.content, which ``lienthong audit verify`` recomputes."""
    link = chain.Link(
        chain=chain_name,
        kind=kind,
        document_id=document_id,
        organ_id=organ_id,
        actor=actor,
        payload=payload,
        at="2026-12-05T08:30:00.123456+00:00",
    )
    written = chain.content_with(link, chain.canonical(payload).decode())
    assert written == link.content()
    # and Link.content is what json.dumps writes, as it was when the chains began
    assert (
        link.content()
        == json.dumps(
            {k: v for k, v in link.as_dict().items() if k != "seq"},
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode()
    )
