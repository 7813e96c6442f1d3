"""The pure checks of one submission, in the contract's order, up to the signature.

``inspect`` takes bytes and what the submission says it is, and returns the parsed package or
raises :class:`PackageRejected` with the first failing check's code. It does no I/O: trust,
registry and records are decided by the pipeline with what this returns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree

from hub.check import package, schema, signature_shape, xmlsafe
from hub.check.schema import Kind
from hub.errors import Code, PackageRejected


@dataclass(frozen=True, kw_only=True, slots=True)
class Inspected:
    kind: Kind
    tree: etree._ElementTree
    signature: etree._Element | None
    """``None`` only for an unsigned package the submitting system may send (``unsigned_ok``)."""
    document: package.DocumentPackage | None
    status: package.StatusPackage | None

    @property
    def document_id(self) -> str:
        return package.about(self.document, self.status).document_id

    @property
    def sender(self) -> str:
        return package.about(self.document, self.status).sender


def inspect(
    data: bytes,
    kind: Kind,
    *,
    max_bytes: int,
    stage: Callable[[Code], None] = lambda _: None,
    unsigned_ok: bool = False,
) -> Inspected:
    """``stage`` is told which check runs next (:func:`hub.check.decision.check` names a failure
    nobody foresaw after it). ``unsigned_ok``: a package with no XML-DSig signature at all
    passes this step (its system's policy is ``--unsigned accept``); a package that carries one
    is checked as always."""
    tree = xmlsafe.parse(data, max_bytes=max_bytes)
    stage(Code.SCHEMA_INVALID)
    schema.validate(tree, kind)
    root = tree.getroot()
    stage(Code.SIGNATURE_INVALID)
    located: etree._Element | None
    try:
        located = signature_shape.locate(root)
    except PackageRejected as exc:
        if not (unsigned_ok and exc.code is Code.SIGNATURE_MISSING):
            raise
        located = None
    stage(Code.SCHEMA_INVALID)
    if kind is Kind.EDOC:
        return Inspected(
            kind=kind,
            tree=tree,
            signature=located,
            document=package.read_document(root),
            status=None,
        )
    return Inspected(
        kind=kind, tree=tree, signature=located, document=None, status=package.read_status(root)
    )
