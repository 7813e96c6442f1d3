"""The rules that need the records: duplicate DocumentIds, what a revoke, update or replacement
refers to, and status transitions. Pure judgements over facts (``statuses``, ``changes``,
``decide``, ``plan``) and the one module that reads the facts (``facts``).

:func:`plan` gives the :class:`Plan` for a submission (who gets it, what its receipt says, what
else its acceptance writes) or the :class:`~hub.check.decision.Rejection` with the contract's
code; :mod:`hub.record.store` writes the plan."""

from hub.record.rules.decide import DocumentFacts, Earlier, Facts, plan
from hub.record.rules.facts import facts_of
from hub.record.rules.plan import Effect, Plan, new_document_plan

__all__ = [
    "DocumentFacts",
    "Earlier",
    "Effect",
    "Facts",
    "Plan",
    "facts_of",
    "new_document_plan",
    "plan",
]
