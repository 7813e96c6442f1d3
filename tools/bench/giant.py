"""The largest package (issue 18: 512 MiB "delivered at all"): signed by the bench, sent with the
SDK — which uploads a package this large over the hub's HTTP gateway, not through the broker —
delivered as a claim check, fetched and verified by the recipient's SDK, compared byte for byte.
The hub's memory is read around it."""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from adapters.sdk.endpoint import Endpoint
from adapters.sdk.items import Document
from tools.bench.drive import Party, hub_memory, package, reset_peaks

MIB = 1024 * 1024


async def giant_phase(
    hub_pid: int, base_url: str, sender: Party, recipient: Party, mib: int, ca: Path
) -> dict[str, Any]:
    """``ca``: the CA the recipient's SDK verifies the sender's signature against."""
    # base64 makes 4 bytes of 3; 64 KiB for the envelope and the signature
    document_id, body = package(sender, [recipient], os.urandom((mib * MIB - 65536) * 3 // 4))
    size = len(body)
    reset_peaks(hub_pid)
    before, _ = hub_memory(hub_pid)
    started = time.perf_counter()
    got: Document | None = None
    async with (
        Endpoint.open(replace(sender.config, hub_url=base_url)) as out,
        Endpoint.open(replace(recipient.config, trusted_ca_paths=(ca,))) as into,
    ):
        receipt = await out.send(body, timeout=900)
        accepted_s = time.perf_counter() - started
        async for item in into.inbox(idle_timeout=900):
            if isinstance(item, Document) and item.document_id == document_id:
                got = item
                break
    delivered_s = time.perf_counter() - started
    _, peak = hub_memory(hub_pid)
    return {
        "package_bytes": size,
        "accepted": receipt.outcome == "accepted",
        "detail": receipt.detail,
        "delivered": got is not None and got.body == body,
        "verified": got is not None and got.verified,
        "accepted_s": accepted_s,
        "delivered_s": delivered_s,
        "hub_rss_before": before,
        "hub_peak_after": peak,
        "growth_over_size": (peak - before) / size,
    }
