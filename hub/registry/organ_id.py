"""Agency identifiers (OrganId, mã định danh), QĐ 20/2020/QĐ-TTg and QCVN 102:2016."""

from __future__ import annotations

import re

from hub.errors import RegistryError

STRICT = re.compile(r"[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2}")
"""The national form ``V1V2V3.Z1Z2.Y1Y2.MX1X2``, e.g. ``000.00.00.G22``."""

LEGACY = re.compile(r"[0-9A-Za-z._-]{1,35}")
"""What the schemas accept: real traffic carries ids that do not follow the strict form."""


URGENT_SUFFIX = ".urgent"


def is_strict(organ_id: str) -> bool:
    return STRICT.fullmatch(organ_id) is not None


def check_organ_id(organ_id: str, *, legacy: bool = False) -> str:
    """Return ``organ_id`` when it may be registered, else raise :class:`RegistryError`.

    A non-conforming (legacy) id is accepted only when the operator asks for it explicitly.
    """
    if is_strict(organ_id):
        return organ_id
    if not legacy:
        raise RegistryError(
            f"OrganId {organ_id!r} is not of the national form 000.00.00.G22 "
            "(three digits, two, two, a capital letter and two digits, dot-separated); "
            "to register a legacy id that real traffic uses, add --legacy"
        )
    if LEGACY.fullmatch(organ_id) is None:
        raise RegistryError(
            f"OrganId {organ_id!r} cannot be registered even as a legacy id: "
            "use 1 to 35 characters from 0-9 A-Z a-z . _ -"
        )
    check_queue_names(organ_id)
    return organ_id


def check_queue_names(identifier: str) -> None:
    """An id whose inbox would be another's urgent inbox is refused: the inbox of
    ``X.urgent`` is ``lienthong.inbox.X.urgent``, the urgent inbox of ``X`` (its routing key and
    its broker read permission too). So no id ends in ``.urgent``, in any case."""
    if identifier.lower().endswith(URGENT_SUFFIX):
        raise RegistryError(
            f"{identifier!r} cannot be registered: ids ending in '.urgent' would take the urgent "
            f"inbox of {identifier[: -len(URGENT_SUFFIX)]!r} (lienthong.inbox.<id>.urgent)"
        )
