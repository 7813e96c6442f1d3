"""Processing statuses per (document, recipient), QCVN 102:2016 and Nghị định 30/2020. Pure.

    01 đã đến ──► 02 từ chối tiếp nhận (final)
       │
       └──► 03 đã tiếp nhận ──► 04 phân công ──► 05 đang xử lý ──► 06 hoàn thành

01 may be skipped; a step may be skipped forward (03 → 05), never taken backward; 02 only
before 03. 13 lấy lại comes from the sender; 15 đồng ý / 16 từ chối only answer a pending
revoke, update or take-back. The same status repeated is idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass

PROGRESS = {"01": 1, "03": 3, "04": 4, "05": 5, "06": 6}
REFUSE = "02"
TAKE_BACK = "13"
ANSWERS = frozenset({"15", "16"})
NAMES = {
    "01": "đã đến (arrived)",
    "02": "từ chối tiếp nhận (refused)",
    "03": "đã tiếp nhận (accepted)",
    "04": "phân công (assigned)",
    "05": "đang xử lý (in progress)",
    "06": "hoàn thành (completed)",
    "13": "lấy lại (taken back)",
    "15": "đồng ý (agreed to the change)",
    "16": "từ chối (refused the change)",
}


@dataclass(frozen=True, kw_only=True, slots=True)
class Verdict:
    legal: bool
    repeat: bool = False
    reason: str = ""


def name(code: str | None) -> str:
    return "no status yet" if code is None else f"{code} {NAMES.get(code, '')}".strip()


def processing_step(current: str | None, code: str) -> Verdict:
    """May a recipient whose last processing status is ``current`` now report ``code``?"""
    if code == current:
        return Verdict(legal=True, repeat=True)
    if current == REFUSE:
        return Verdict(legal=False, reason="the recipient refused it (02), which is final")
    if current == "06":
        return Verdict(legal=False, reason="it is completed (06), which is final")
    if code == REFUSE:
        if current in (None, "01"):
            return Verdict(legal=True)
        return Verdict(legal=False, reason="02 can only follow 01 or come first, before 03")
    step = PROGRESS.get(code)
    if step is None:
        return Verdict(legal=False, reason=f"{code} is not a processing status")
    if current is None or step > PROGRESS[current]:
        return Verdict(legal=True)
    return Verdict(legal=False, reason="statuses may skip forward but never go backward")
