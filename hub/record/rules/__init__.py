"""The rules that need the records: duplicate DocumentIds, what a revoke, update or replacement
refers to, and status transitions. Pure judgements over facts (``statuses``, ``changes``,
``plan``) and the one module that reads the facts and writes what was decided (``store``).

Each gives the :class:`Plan` for the submission (who gets it, what its receipt says) or raises
:class:`~hub.errors.PackageRejected` with the contract's code; :mod:`hub.record.records` records a
refusal as a rejection."""

from hub.record.rules.plan import Plan, new_document_plan
from hub.record.rules.store import apply_document, apply_status

__all__ = ["Plan", "apply_document", "apply_status", "new_document_plan"]
