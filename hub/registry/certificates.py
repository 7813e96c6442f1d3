"""Agency certificates as operators see them: listed (retired ones too) and retired. A retired
certificate stays on record — documents signed with it keep their evidence — but signs nothing
new and leaves the expiry figures and alerts."""

from __future__ import annotations

from dataclasses import dataclass

from hub.audit import events
from hub.db import DB, Q
from hub.errors import RegistryError
from hub.registry import pki


@dataclass(frozen=True, kw_only=True, slots=True)
class Certificate:
    organ_id: str
    fingerprint: str
    """SHA-256 of the DER certificate, hex."""
    subject: str
    serial: str
    not_before: str
    not_after: str
    key_type: str
    registered_at: str
    retired_at: str | None

    def as_json(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.__slots__}


async def list_certificates(db: DB, organ_id: str | None = None) -> list[Certificate]:
    return [
        Certificate(
            organ_id=r["organ_id"],
            fingerprint=bytes(r["fingerprint"]).hex(),
            subject=r["subject"],
            serial=str(r["serial"]),
            not_before=r["not_before"].isoformat(),
            not_after=r["not_after"].isoformat(),
            key_type=r["key_type"],
            registered_at=r["registered_at"].isoformat(),
            retired_at=r["retired_at"].isoformat() if r["retired_at"] else None,
        )
        for r in await db.fetch(Q.certificate_list, organ_id)
    ]


async def retire(db: DB, fingerprint: str) -> tuple[str, str, bool]:
    """Retire the certificate whose fingerprint starts with ``fingerprint`` (at least 16 hex
    digits). Returns (organ_id, full fingerprint, whether it was retired now: ``False`` when it
    already was)."""
    prefix = pki.fingerprint_prefix(
        fingerprint, what="certificate", listed_by="lienthong agency cert list"
    )
    found = await db.fetch(Q.certificate_by_prefix, prefix)
    if not found:
        raise RegistryError(f"no agency certificate has a fingerprint starting {prefix}")
    if len(found) > 1:
        raise RegistryError(f"{len(found)} certificates start {prefix}: give more digits")
    row = found[0]
    full = bytes(row["fingerprint"])
    async with db.transaction():
        changed = await db.execute(Q.certificate_retire, full)
        retired_now = changed.endswith(" 1")
        if retired_now:
            await events.append(
                db,
                kind="certificate_retired",
                actor="operator",
                organ_id=row["organ_id"],
                payload={"fingerprint": full.hex(), "subject": row["subject"]},
            )
    return row["organ_id"], full.hex(), retired_now
