"""The folder bridge and the agency commands, as an agency's staff would run them."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.conftest import random_organ_id
from tests.harness import World, free_port, parse_receipt, running_hub


def start_bridge(
    env: dict[str, str], organ_id: str, folder: Path, log: Path
) -> subprocess.Popen[bytes]:
    with log.open("ab") as handle:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tools.cli",
                "bridge",
                "folder",
                "--agency",
                organ_id,
                "--dir",
                str(folder),
            ],
            env={**os.environ, **env},
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def kill(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def save_credentials(world: World, *agencies) -> None:
    for agency in agencies:
        path = world.settings.agencies_dir / agency.organ_id / "credentials.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(agency.credentials.as_json()))


async def wait_for(check, timeout: float = 60) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if check():
            return
        await asyncio.sleep(0.2)
    raise AssertionError("timed out")


async def test_a_bridge_killed_mid_batch_loses_and_duplicates_nothing(
    world: World, settings, env, tmp_path
) -> None:
    sender, recipient = await world.agency(random_organ_id()), await world.agency(random_organ_id())
    save_credentials(world, sender, recipient)
    out_dir, in_dir = tmp_path / "g", tmp_path / "h"
    (out_dir / "outbox").mkdir(parents=True)
    batch = 24
    bodies = {}
    for number in range(batch):
        body = world.document(sender, [recipient], attachments=[])
        bodies[f"cv-{number:03d}.edxml"] = body
    unsigned = world.document_spec(sender, [recipient], attachments=[])
    from adapters.sdk import build_document

    bodies["unsigned.edxml"] = build_document(unsigned)  # the bridge signs it with the key
    bodies["spoofed.edxml"] = world.document(recipient, [sender])  # claims to be the recipient
    for name, body in bodies.items():
        (out_dir / "outbox" / name).write_bytes(body)
    async with running_hub(settings):
        sending = start_bridge(env, sender.organ_id, out_dir, tmp_path / "g.log")
        receiving = start_bridge(env, recipient.organ_id, in_dir, tmp_path / "h.log")
        # kill both in the middle of the batch, then start them again
        await wait_for(lambda: len(list((out_dir / "sent").glob("*.edxml"))) >= 6)
        kill(sending)
        await wait_for(lambda: len(list((in_dir / "inbox").glob("*.edoc.xml"))) >= 3)
        kill(receiving)
        assert list((out_dir / "outbox").iterdir()), "the batch was not interrupted"
        sending = start_bridge(env, sender.organ_id, out_dir, tmp_path / "g.log")
        receiving = start_bridge(env, recipient.organ_id, in_dir, tmp_path / "h.log")
        try:
            await wait_for(lambda: not list((out_dir / "outbox").iterdir()), timeout=90)
            await wait_for(
                lambda: len(list((in_dir / "inbox").glob("*.edoc.xml"))) >= batch + 1, timeout=90
            )
            await asyncio.sleep(2)  # anything late or twice would show now
        finally:
            kill(sending)
            kill(receiving)
    sent = sorted(p.name for p in (out_dir / "sent").glob("*.edxml"))
    rejected = sorted(p.name for p in (out_dir / "rejected").glob("*.edxml"))
    assert rejected == ["spoofed.edxml"]
    assert len(sent) == batch + 1
    for name in sent + rejected:
        receipt = parse_receipt(
            (
                out_dir / ("sent" if name in sent else "rejected") / f"{name}.receipt.xml"
            ).read_bytes()
        )
        assert receipt.outcome == ("accepted" if name in sent else "rejected")
    assert (
        parse_receipt((out_dir / "rejected" / "spoofed.edxml.receipt.xml").read_bytes()).code
        == "SENDER_MISMATCH"
    )
    delivered = [p.read_bytes() for p in (in_dir / "inbox").glob("*.edoc.xml")]
    assert len(delivered) == batch + 1  # each once
    assert {b for b in delivered} >= {bodies[n] for n in bodies if n.startswith("cv-")}
    assert not list((in_dir / "inbox").glob(".*.tmp"))
    # the sender's bridge received the recipient's automatic 01 for every document
    arrived = list((out_dir / "inbox").glob("*.status.xml"))
    assert len(arrived) == batch + 1


async def test_agency_commands_send_inbox_status(world: World, settings, env, tmp_path) -> None:
    sender, recipient = await world.agency(random_organ_id()), await world.agency(random_organ_id())
    save_credentials(world, sender, recipient)
    files = []
    for number in range(3):
        path = tmp_path / f"doc-{number}.edxml"
        path.write_bytes(world.document(sender, [recipient]))
        files.append(path)

    def lienthong(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tools.cli", *args],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=120,
        )

    async with running_hub(settings, http=True) as base:
        host, port = base.removeprefix("http://").split(":")
        env = {**env, "LIENTHONG_HTTP": f"{host}:{port}"}
        sent = await asyncio.to_thread(lienthong, "send", *map(str, files), "--as", sender.organ_id)
        assert sent.returncode == 0, sent.stderr
        assert sent.stdout.count(": accepted") == 3
        read = await asyncio.to_thread(
            lienthong, "inbox", "--as", recipient.organ_id, "--save", str(tmp_path / "in")
        )
        assert read.returncode == 0, read.stderr
        assert read.stdout.count("edoc ") == 3
        # it says loudly that what it printed was taken, and where it was kept
        assert "3 message(s) taken from the inbox" in read.stderr and "acknowledged" in read.stderr
        assert len(list((tmp_path / "in" / "inbox").glob("*.edoc.xml"))) == 3
        document_id = read.stdout.split("edoc", 1)[1].split()[1]
        answered = await asyncio.to_thread(
            lienthong, "status", document_id, "--code", "03", "--as", recipient.organ_id
        )
        assert answered.returncode == 0, answered.stderr + answered.stdout
        assert "03: accepted" in answered.stdout
        statuses = await asyncio.to_thread(lienthong, "inbox", "--as", sender.organ_id)
        assert statuses.stdout.count(" 01 from ") == 3 and statuses.stdout.count(" 03 from ") == 1
        missing = await asyncio.to_thread(lienthong, "send", str(files[0]), "--as", "000.00.99.Z99")
        assert missing.returncode == 1 and "no credentials" in missing.stderr
        # errors name their real cause
        nofile = await asyncio.to_thread(
            lienthong, "send", str(tmp_path / "nope.edxml"), "--as", sender.organ_id
        )
        assert nofile.returncode == 1 and "cannot read" in nofile.stderr, nofile.stderr
        unknown = await asyncio.to_thread(
            lienthong, "status", "no-such-document", "--code", "03", "--as", recipient.organ_id
        )
        assert unknown.returncode == 1 and "not found" in unknown.stderr
        # --json for scripts
        again = tmp_path / "again.edxml"
        again.write_bytes(world.document(sender, [recipient]))
        sent = await asyncio.to_thread(
            lienthong, "send", str(again), "--as", sender.organ_id, "--json"
        )
        [one] = json.loads(sent.stdout)
        assert one["outcome"] == "accepted" and one["file"] == str(again)
        read = await asyncio.to_thread(
            lienthong, "inbox", "--as", recipient.organ_id, "--json", "--no-arrived"
        )
        assert [item["type"] for item in json.loads(read.stdout)] == ["edoc"]
    unreachable = {**env, "LIENTHONG_HTTP": f"127.0.0.1:{free_port()}"}
    lost = subprocess.run(
        [
            sys.executable,
            "-m",
            "tools.cli",
            "status",
            "d-1",
            "--code",
            "03",
            "--as",
            recipient.organ_id,
        ],
        env={**os.environ, **unreachable},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert lost.returncode == 1 and "cannot reach the hub's HTTP API" in lost.stderr
