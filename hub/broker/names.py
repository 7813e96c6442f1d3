"""The contract's RabbitMQ names, in one place."""

from __future__ import annotations

import re

SUBMIT_EXCHANGE = "lienthong.submit"
DELIVER_EXCHANGE = "lienthong.deliver"
INGRESS_QUEUE = "lienthong.ingress"
URGENT_INGRESS_QUEUE = "lienthong.ingress.urgent"
"""Contract, version 2: routing keys ``edoc.urgent`` and ``status.urgent``."""
DEAD_QUEUE = "lienthong.dead"

EDOC_KEY = "edoc"
STATUS_KEY = "status"
EDOC_URGENT_KEY = "edoc.urgent"
STATUS_URGENT_KEY = "status.urgent"


def inbox(organ_id: str) -> str:
    return f"lienthong.inbox.{organ_id}"


def urgent_inbox(organ_id: str) -> str:
    return f"lienthong.inbox.{organ_id}.urgent"


def inbox_key(organ_id: str, *, urgent: bool) -> str:
    return f"{organ_id}.urgent" if urgent else organ_id


def system_permissions(system_id: str) -> dict[str, str]:
    """Least privilege: write to ``lienthong.submit``, read its own inboxes, configure nothing."""
    own = re.escape(inbox(system_id))
    return {
        "configure": "^$",
        "write": f"^{re.escape(SUBMIT_EXCHANGE)}$",
        "read": f"^{own}(\\.urgent)?$",
    }


WORK_QUEUE = "lienthong.work"
URGENT_WORK_QUEUE = "lienthong.work.urgent"
"""Inside the hub: triage moves each submission from ingress to one of these, so urgent
packages (hỏa tốc) overtake a backlog of ordinary ones. Only the hub's user reaches them."""

SUBMITTER_HEADER = "x-lienthong-submitter"
KIND_HEADER = "x-lienthong-kind"
RECEIVED_HEADER = "x-lienthong-received"
REASON_HEADER = "x-lienthong-reason"
DOCUMENT_HEADER = "x-document-id"
RECIPIENT_HEADER = "x-recipient"
"""Version 2: the OrganId an inbox message is for (a system hosts many agencies)."""
ADDRESSED_TO_HEADER = "x-addressed-to"
"""Version 2: the closed OrganId a package named, when it went to the successor."""
BODY_URL_HEADER = "x-body-url"
BODY_SHA256_HEADER = "x-body-sha256"
BODY_SIZE_HEADER = "x-body-size"
"""Version 2 (large packages): an inbox message with an empty body, its bytes fetched from
``x-body-url`` with the recipient system's token (:mod:`hub.broker.claims`)."""
