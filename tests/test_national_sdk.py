"""The national SDK (VNPT SDKVXP 2.0.1, Java) against lienthong with only its endpoint, systemid
and secret changed; packages built by the national edXML library; the unsigned policy."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from pathlib import Path

import httpx
import pytest

from hub.check.signing import sign_package
from hub.registry import systems
from hub.vxp import secrets
from tests.conftest import random_organ_id
from tests.harness import Agency, World, parse_receipt, running_hub
from tests.national_sdk import Driver, compile_driver, sdk_headers, without_placeholder


@pytest.fixture(scope="session")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Driver:
    return compile_driver(tmp_path_factory.mktemp("vxp-driver"))


def doc_id(sender: str) -> str:
    return f"{sender},{dt.date.today():%Y/%m/%d},{uuid.uuid4().hex[:6]}/VT"


async def national_document(
    driver: Driver,
    folder: Path,
    sender: Agency,
    to: list[str],
    *,
    sign: bool = True,
    priority: int = 0,
) -> tuple[Path, str]:
    """A new document as the national library builds it; signed by ``sender`` (its placeholder
    replaced by a real signature) unless ``sign`` is false."""
    document_id = doc_id(sender.organ_id)
    built = await driver.run(
        "build-edoc",
        str(folder),
        sender.organ_id,
        ",".join(to),
        document_id,
        "V/v thử nghiệm SDK quốc gia",
        str(priority),
    )
    path = Path(built["path"])
    if sign:
        path.write_bytes(
            sign_package(without_placeholder(path.read_bytes()), sender.key, sender.cert)
        )
    return path, document_id


async def national_status(
    driver: Driver, folder: Path, sender: Agency, document_sender: str, document_id: str, code: str
) -> Path:
    built = await driver.run(
        "build-status", str(folder), sender.organ_id, document_sender, document_id, code
    )
    path = Path(built["path"])
    path.write_bytes(sign_package(path.read_bytes(), sender.key, sender.cert))
    return path


def sdk(base: str, system: systems.SystemCredentials) -> list[str]:
    return [f"{base}/vxp", system.system_id, system.vxp_secret]


async def test_two_national_sdk_systems_exchange_a_document(
    world: World, driver: Driver, tmp_path: Path
) -> None:
    a = await world.system(f"vxp.a.{uuid.uuid4().hex[:6]}")
    b = await world.system(f"vxp.b.{uuid.uuid4().hex[:6]}")
    sender = await world.agency(random_organ_id(), host=a)
    recipient = await world.agency(random_organ_id(), host=b)
    async with running_hub(world.settings, http=True) as base:
        path, document_id = await national_document(driver, tmp_path, sender, [recipient.organ_id])
        sent = await driver.run("send", *sdk(base, a), sender.organ_id, "edoc", str(path))
        assert (sent["status"], sent["errorCode"]) == ("OK", "0"), sent
        assert sent["docId"]

        listed = await driver.run("list", *sdk(base, b), "edoc")
        assert listed["status"] == "OK", listed
        [item] = listed["items"]
        assert (item["from"], item["to"], item["messageType"]) == (
            sender.organ_id,
            recipient.organ_id,
            "edoc",
        )
        assert item["status"] == "pending"

        got = await driver.run("get", *sdk(base, b), item["id"], str(tmp_path / "got"))
        assert got["status"] == "OK", got
        assert Path(got["filePath"]).read_bytes() == path.read_bytes()  # byte for byte
        downloaded = await driver.run("download", *sdk(base, b), item["id"], str(tmp_path / "dl"))
        assert downloaded["status"] == "SUCCESS", downloaded
        assert Path(downloaded["filePath"]).read_bytes() == path.read_bytes()

        processing = await driver.run("update", *sdk(base, b), item["id"], "processing")
        assert processing["status"] == "OK", processing
        still = await driver.run("list", *sdk(base, b), "edoc")
        assert [i["status"] for i in still["items"]] == ["processing"]
        done = await driver.run("update", *sdk(base, b), item["id"], "done")
        assert done["status"] == "OK", done
        assert (await driver.run("list", *sdk(base, b), "edoc"))["items"] == []
        unknown = await driver.run("update", *sdk(base, b), "no-such-message", "done")
        assert (unknown["status"], unknown["errorCode"]) == ("FAIL", "NOT_FOUND")

        status = await national_status(
            driver, tmp_path, recipient, sender.organ_id, document_id, "01"
        )
        answered = await driver.run(
            "send", *sdk(base, b), recipient.organ_id, "status", str(status)
        )
        assert answered["status"] == "OK", answered

        statuses = await driver.run("list", *sdk(base, a), "status")
        assert [(i["from"], i["messageType"]) for i in statuses["items"]] == [
            (recipient.organ_id, "status")
        ]
        counted = await driver.run("count", *sdk(base, a), "status")
        assert (counted["status"], counted["count"]) == ("OK", 1)

        mine = await driver.run("sent", *sdk(base, a))
        assert mine["status"] == "OK", mine
        [row] = [r for r in mine["items"] if r["senderDocId"] == sent["docId"]]
        assert (row["fromCode"], row["toCode"], row["sendStatus"], row["receiveStatus"]) == (
            sender.organ_id,
            recipient.organ_id,
            "done",
            "01",
        )
        assert row["title"] == "V/v thử nghiệm SDK quốc gia"

        directory = await driver.run("agencies", *sdk(base, a))
        assert directory["status"] == "OK"
        assert {sender.organ_id, recipient.organ_id} <= {i["code"] for i in directory["items"]}

        # the receipt reached system A's inbox too
        receipts = await driver.run("list", *sdk(base, a), "receipt")
        assert [i["messageType"] for i in receipts["items"]] == ["receipt"]


async def test_a_python_sdk_agency_and_a_national_sdk_agency_answer_each_other(
    world: World, driver: Driver, tmp_path: Path
) -> None:
    python_side = await world.agency(random_organ_id())  # AMQP, its own system
    national = await world.system(f"vxp.n.{uuid.uuid4().hex[:6]}")
    java_side = await world.agency(random_organ_id(), host=national)
    async with running_hub(world.settings, http=True) as base:
        # Python → national
        body = world.document(python_side, [java_side])
        sent = await world.send(python_side, body)
        receipt = (await world.receipts(python_side, [sent]))[sent]
        assert receipt.outcome == "accepted"
        listed = await driver.run("list", *sdk(base, national), "edoc")
        [item] = listed["items"]
        got = await driver.run("get", *sdk(base, national), item["id"], str(tmp_path / "in"))
        assert Path(got["filePath"]).read_bytes() == body
        await driver.run("update", *sdk(base, national), item["id"], "done")
        status = await national_status(
            driver, tmp_path, java_side, python_side.organ_id, receipt.document_id or "", "01"
        )
        answered = await driver.run(
            "send", *sdk(base, national), java_side.organ_id, "status", str(status)
        )
        assert answered["status"] == "OK", answered
        arrived = [m for m in await world.drain(python_side, wait=1.0) if m.type == "status"]
        assert [m.body for m in arrived] == [status.read_bytes()]

        # national → Python
        path, document_id = await national_document(
            driver, tmp_path, java_side, [python_side.organ_id]
        )
        back = await driver.run("send", *sdk(base, national), java_side.organ_id, "edoc", str(path))
        assert back["status"] == "OK", back
        delivered = [m for m in await world.drain(python_side, wait=1.0) if m.type == "edoc"]
        assert [m.body for m in delivered] == [path.read_bytes()]
        reply = world.status(python_side, java_side.organ_id, document_id, "01")
        replied = await world.send(python_side, reply, kind="status")
        assert (await world.receipts(python_side, [replied]))[replied].outcome == "accepted"
        seen = await driver.run("list", *sdk(base, national), "status")
        assert [(i["from"], i["messageType"]) for i in seen["items"]] == [
            (python_side.organ_id, "status")
        ]
        mine = await driver.run("sent", *sdk(base, national), back["docId"])
        assert [(r["toCode"], r["receiveStatus"]) for r in mine["items"]] == [
            (python_side.organ_id, "01")
        ]


async def test_what_is_not_the_system_is_refused_in_the_sdks_shape(
    world: World, driver: Driver, tmp_path: Path
) -> None:
    system = await world.system(f"vxp.r.{uuid.uuid4().hex[:6]}")
    sender = await world.agency(random_organ_id(), host=system)
    recipient = await world.agency(random_organ_id())
    async with (
        running_hub(world.settings, http=True) as base,
        httpx.AsyncClient(base_url=base, timeout=30) as client,
    ):
        wrong = await driver.run("list", f"{base}/vxp", system.system_id, "not-the-secret", "edoc")
        assert (wrong["status"], wrong["errorCode"]) == ("FAIL", "UNAUTHORIZED"), wrong
        assert "secret" in wrong["errorDesc"]

        # a JVM whose clock reads 14 hours ahead of the hub's zone
        stale = await driver.run("list", *sdk(base, system), "edoc", zone="Pacific/Kiritimati")
        assert (stale["status"], stale["errorCode"]) == ("FAIL", "STALE_REQUEST"), stale
        assert "5 minutes" in stale["errorDesc"]

        replayed = await driver.run("replay", *sdk(base, system))
        assert replayed["first"] == "OK"
        assert (replayed["status"], replayed["errorCode"]) == ("FAIL", "REPLAYED_REQUEST")
        assert "new KnobstickServiceImp" in replayed["errorDesc"]

        # the body changed after it was signed (as the SDK would sign it)
        path, _ = await national_document(driver, tmp_path, sender, [recipient.organ_id])
        package = path.read_bytes()
        headers = sdk_headers(
            system_id=system.system_id,
            secret=system.vxp_secret,
            values={"from": sender.organ_id, "servicetype": "eDoc", "messagetype": "edoc"},
            body=package,
        )
        altered = await client.post(
            "/vxp/sendEdoc", content=package.replace(b"V/v", b"V/V", 1), headers=headers
        )
        assert altered.json()["status"] == "FAIL" and altered.json()["ErrorCode"] == "BODY_MISMATCH"
        # the very same request with the body as signed (and the SDK's trailing CRLF) is taken
        fine = await client.post("/vxp/sendEdoc", content=package + b"\r\n", headers=headers)
        assert fine.json()["status"] == "OK", fine.text
        again = await client.post("/vxp/sendEdoc", content=package + b"\r\n", headers=headers)
        assert again.json()["ErrorCode"] == "REPLAYED_REQUEST"
        # a signed value that is not what the request carries
        forged = dict(
            sdk_headers(system_id=system.system_id, secret=system.vxp_secret, values={"docId": "x"})
        )
        forged["XroadVnpt-docId"] = "y"
        changed = await client.post("/vxp/getEdoc", headers=forged)
        assert changed.json()["status"] == "FAIL" and "changed" in changed.json()["ErrorDesc"]
        missing = await client.post("/vxp/getReceivedEdocList")
        assert missing.status_code == 401 and missing.json()["status"] == "FAIL"
        denied = await client.post(
            "/vxp/registerAgency",
            headers=sdk_headers(system_id=system.system_id, secret=system.vxp_secret, values={}),
        )
        assert denied.json()["ErrorCode"] == "FORBIDDEN"


async def test_unsigned_packages_are_refused_then_accepted_as_transport(
    world: World, driver: Driver, tmp_path: Path
) -> None:
    system = await world.system(f"vxp.u.{uuid.uuid4().hex[:6]}")
    sender = await world.agency(random_organ_id(), host=system)
    recipient = await world.agency(random_organ_id())
    async with (
        running_hub(world.settings, http=True) as base,
        httpx.AsyncClient(base_url=base, timeout=30) as client,
    ):
        path, _ = await national_document(
            driver, tmp_path, sender, [recipient.organ_id], sign=False
        )
        refused = await driver.run("send", *sdk(base, system), sender.organ_id, "edoc", str(path))
        assert (refused["status"], refused["errorCode"]) == ("FAIL", "SIGNATURE_MISSING"), refused

        await systems.set_policy(world.session.db, system.system_id, "accept")
        await asyncio.sleep(1.5)  # the hub follows the registry within a second or so
        path, document_id = await national_document(
            driver, tmp_path, sender, [recipient.organ_id], sign=False
        )
        accepted = await driver.run("send", *sdk(base, system), sender.organ_id, "edoc", str(path))
        assert (accepted["status"], accepted["errorCode"]) == ("OK", "0"), accepted

        [delivered] = [m for m in await world.drain(recipient, wait=1.0) if m.type == "edoc"]
        assert delivered.body == path.read_bytes()
        receipts = await driver.run("list", *sdk(base, system), "receipt")
        bodies = []
        for item in receipts["items"]:
            got = await driver.run("get", *sdk(base, system), item["id"], str(tmp_path / "r"))
            bodies.append(Path(got["filePath"]).read_bytes())
        outcomes = {parse_receipt(b).outcome: b for b in bodies}
        assert b"<Assurance>transport</Assurance>" in outcomes["accepted"]
        assert b"Assurance" not in outcomes["rejected"]

        timeline = await client.get(
            f"/api/v1/documents/{document_id}",
            headers={"Authorization": f"Bearer {system.http_token}"},
        )
        [accepted_event] = [
            e for e in timeline.json()["documents"][0]["events"] if e["event"] == "accepted"
        ]
        assert (accepted_event["assurance"], accepted_event["channel"]) == ("transport", "vxp")
        metrics = (await client.get("/metrics")).text
        assert f'lienthong_accepted_unsigned_total{{system="{system.system_id}"}} 1.0' in metrics

        # a signed package is still verified in full: a signature by another agency is refused
        other = await world.agency(random_organ_id())
        forged, _ = await national_document(
            driver, tmp_path, sender, [recipient.organ_id], sign=False
        )
        forged.write_bytes(
            sign_package(without_placeholder(forged.read_bytes()), other.key, other.cert)
        )
        mismatch = await driver.run(
            "send", *sdk(base, system), sender.organ_id, "edoc", str(forged)
        )
        assert (mismatch["status"], mismatch["errorCode"]) == ("FAIL", "SENDER_MISMATCH"), mismatch


async def test_the_secret_is_sealed_and_rotates_with_a_grace_period(world: World) -> None:
    system = await world.system(f"vxp.s.{uuid.uuid4().hex[:6]}")
    row = await world.session.db.fetchrow(
        "SELECT vxp_secret, vxp_sealed FROM system WHERE system_id = $1", system.system_id
    )
    assert row["vxp_secret"] is None
    assert system.vxp_secret.encode() not in bytes(row["vxp_sealed"])  # not readable from the DB
    box = secrets.SecretBox.of(world.settings)
    async with (
        running_hub(world.settings, http=True) as base,
        httpx.AsyncClient(base_url=base, timeout=30) as client,
    ):

        async def status_with(secret: str) -> str:
            headers = sdk_headers(
                system_id=system.system_id, secret=secret, values={"nonce": uuid.uuid4().hex}
            )
            answer = (await client.post("/vxp/countReceiveEdoc", headers=headers)).json()
            return str(answer["status"] if answer["status"] == "OK" else answer["ErrorCode"])

        assert await status_with(system.vxp_secret) == "OK"
        rotated = await secrets.rotate(world.session.db, box, system.system_id)
        assert await status_with(rotated.secret) == "OK"
        assert await status_with(system.vxp_secret) == "OK"  # within the grace period
        final = await secrets.rotate(world.session.db, box, system.system_id, grace=dt.timedelta(0))
        assert await status_with(final.secret) == "OK"
        assert await status_with(rotated.secret) == "UNAUTHORIZED"
        assert await status_with(system.vxp_secret) == "UNAUTHORIZED"
    events = await world.session.db.fetch(
        "SELECT kind FROM event WHERE kind = 'system_secret_rotated'"
    )
    assert len(events) == 2
