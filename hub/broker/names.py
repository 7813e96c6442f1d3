"""The contract's RabbitMQ names, in one place."""

from __future__ import annotations

import re

SUBMIT_EXCHANGE = "lienthong.submit"
DELIVER_EXCHANGE = "lienthong.deliver"
INGRESS_QUEUE = "lienthong.ingress"
DEAD_QUEUE = "lienthong.dead"

EDOC_KEY = "edoc"
STATUS_KEY = "status"


def inbox(organ_id: str) -> str:
    return f"lienthong.inbox.{organ_id}"


def urgent_inbox(organ_id: str) -> str:
    return f"lienthong.inbox.{organ_id}.urgent"


def inbox_key(organ_id: str, *, urgent: bool) -> str:
    return f"{organ_id}.urgent" if urgent else organ_id


def agency_permissions(organ_id: str) -> dict[str, str]:
    """Least privilege: write to ``lienthong.submit``, read its own inboxes, configure nothing."""
    own = re.escape(inbox(organ_id))
    return {
        "configure": "^$",
        "write": f"^{re.escape(SUBMIT_EXCHANGE)}$",
        "read": f"^{own}(\\.urgent)?$",
    }
