"""The hostile corpus through the real hub: each refused with its exact code, nothing delivered
to anyone, and the hub still serving afterwards."""

from __future__ import annotations

from hub.registry import pki, registry
from tests import corpus
from tests.conftest import SAMPLES, random_organ_id
from tests.harness import World, running_hub, with_limit


async def test_every_hostile_package_is_refused_with_its_code(world: World, settings) -> None:
    a, b, c, s, e = [await world.agency(random_organ_id()) for _ in range(5)]
    expired = corpus.expired_pair(world, past=True)
    future = corpus.expired_pair(world, past=False)
    for _, cert in (expired, future):
        await registry.add_certificate(world.session.db, e.organ_id, pki.pem(cert).encode())  # type: ignore[arg-type]
    await registry.set_state(world.session.db, s.organ_id, "suspended")
    samples = SAMPLES if SAMPLES.is_dir() else None
    cases = corpus.CASES + (corpus.sample_cases() if samples else [])
    assert len(cases) >= 30
    submitters = {"a": a, "b": b, "s": s, "e": e}
    async with running_hub(with_limit(settings, 2 * 1024 * 1024)):
        accepted = world.document(a, [b])
        accepted_id = world.document_spec(a, [b]).document_id  # placeholder, replaced below
        first = await world.send(a, accepted)
        setup = await world.receipts(a, [first])
        assert setup[first].outcome == "accepted", setup[first].detail
        accepted_id = setup[first].document_id or accepted_id
        assert [m.body for m in await world.drain(b, wait=1.0)] == [accepted]
        cast = corpus.Cast(
            world=world,
            a=a,
            b=b,
            c=c,
            s=s,
            e=e,
            expired=expired,
            future=future,
            accepted_id=accepted_id,
            samples=samples,
        )
        sent: dict[str, tuple[corpus.Case, str]] = {}
        for case in cases:
            body = case.build(cast)
            message_id = await world.send(submitters[case.submitter], body, kind=case.kind)
            sent[message_id] = (case, case.submitter)
        got = {}
        for key, agency in submitters.items():
            ids = [m for m, (_, who) in sent.items() if who == key]
            if ids:
                got.update(await world.receipts(agency, ids, timeout=60))
        wrong = {
            case.name: (case.code, got[m].code, got[m].detail)
            for m, (case, _) in sent.items()
            if got[m].outcome != "rejected" or got[m].code != case.code
        }
        assert not wrong, "\n".join(
            f"{n}: expected {w[0]}, got {w[1]} ({w[2]})" for n, w in wrong.items()
        )
        for m, (case, _) in sent.items():
            assert got[m].detail, case.name  # a message a person can act on
        # nothing reached any recipient
        for agency in (a, b, c, s, e):
            leaked = [msg for msg in await world.drain(agency, wait=0.5) if msg.type != "receipt"]
            assert leaked == [], agency.organ_id
        # the hub is still serving
        after = world.document(a, [b, c])
        last = await world.send(a, after)
        assert (await world.receipts(a, [last]))[last].outcome == "accepted"
        assert [m.body for m in await world.drain(b, wait=1.0)] == [after]
