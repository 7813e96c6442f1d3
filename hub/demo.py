"""``make demo``: a development hub with two sample agencies, set up idempotently.

Runs the migrations, creates the development CA and the hub's key, and registers
000.00.00.G22 (Văn phòng Chính phủ) and 000.00.00.H41 (UBND tỉnh Nghệ An) with keys and
certificates issued by the development CA. Their credentials are kept (mode 0600) under
LIENTHONG_HOME/agencies/<OrganId>/credentials.json, so a second run finds them and changes
nothing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

from rich.console import Console

from hub import home, registry
from hub.config import Settings
from hub.db import Q
from hub.db.migrate import migrate
from hub.session import open_session

SAMPLE_AGENCIES = (
    ("000.00.00.G22", "Văn phòng Chính phủ"),
    ("000.00.00.H41", "UBND tỉnh Nghệ An"),
)


def sample_agencies(environ: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """The two sample agencies, or others named in LIENTHONG_DEMO_AGENCIES
    (``id=name;id=name``) — tests use that so they never touch a developer's demo users."""
    value = environ.get("LIENTHONG_DEMO_AGENCIES", "").strip()
    if not value:
        return SAMPLE_AGENCIES
    pairs = [item.split("=", 1) for item in value.split(";") if item.strip()]
    return tuple((organ.strip(), name.strip()) for organ, name in pairs)


async def run(settings: Settings, *, once: bool, console: Console) -> None:
    del once  # the demo exits when set-up is done; the exchange comes with the adapters
    changed = False
    report = await migrate(settings.database_url)
    if report.created_database or report.applied:
        changed = True
        console.print(
            f"database {report.database}: schema version {report.current_version}"
            + (" (created)" if report.created_database else "")
        )
    made = home.init_dev_ca(settings)
    async with open_session(settings) as session:
        trusted, _ = await registry.trust_ca(session.db, made.ca.cert, source="development")
        if made.created_ca or made.created_hub or trusted:
            changed = True
            console.print(f"development CA and hub key under {settings.home}")
        for organ_id, name in sample_agencies(os.environ):
            saved = settings.agencies_dir / organ_id / "credentials.json"
            if await session.db.fetchrow(Q.agency_get, organ_id) is not None:
                console.print(f"agency {organ_id} ({name}) is registered; credentials in {saved}")
                continue
            credentials = await registry.add_agency(
                session.db,
                session.management,
                session.channel,
                settings,
                registry.AgencyRequest(organ_id=organ_id, name=name, issue=True),
            )
            home.write_private(
                saved, json.dumps(credentials.as_json(), ensure_ascii=False, indent=2).encode()
            )
            changed = True
            console.print(
                f"registered agency {organ_id} ({name}): RabbitMQ user {credentials.amqp_user}, "
                f"inboxes lienthong.inbox.{organ_id}[.urgent], key {credentials.key_path}; "
                f"credentials in {saved}"
            )
    console.print("the hub is set up" if changed else "the hub was already set up: nothing changed")
