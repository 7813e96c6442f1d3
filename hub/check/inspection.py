"""The pure checks of one submission, in the contract's order, up to the signature.

``inspect`` takes bytes and what the submission says it is, and returns the parsed package or
raises :class:`PackageRejected` with the first failing check's code. It does no I/O: trust,
registry and records are decided by the pipeline with what this returns.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree

from hub.check import excision, package, schema, signature_shape, xmlsafe
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
    excisions: tuple[excision.Excision, ...] = ()
    """Large attachments not in :attr:`tree` (:mod:`hub.check.excision`): their text there is
    a marker; the signature's digest and the base64 check read them from the bytes."""

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
    tree, excisions = _parse(data, max_bytes=max_bytes)
    stage(Code.SCHEMA_INVALID)
    schema.validate(
        tree,
        kind,
        runs={e.marker: functools.partial(excision.runs, data, e) for e in excisions},
    )
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
            excisions=excisions,
        )
    return Inspected(
        kind=kind,
        tree=tree,
        signature=located,
        document=None,
        status=package.read_status(root),
        excisions=excisions,
    )


def _parse(
    data: bytes, *, max_bytes: int
) -> tuple[etree._ElementTree, tuple[excision.Excision, ...]]:
    """The package's tree, its large attachments excised where that reads the same package
    (:mod:`hub.check.excision`); else, or when the excised bytes fail to parse, parsed whole (so
    that a rejection names the place in the bytes as submitted)."""
    if len(data) >= excision.EXCISE_MIN:
        # before excision.find, which takes one step per '<'
        xmlsafe.check_size(data, max_bytes=max_bytes)
        xmlsafe.check_bounds(data)
        small, excisions = excision.find(data)
        if excisions:
            try:
                tree = xmlsafe.parse(small, max_bytes=max_bytes)
            except PackageRejected:
                pass
            else:
                if excision.bind(tree.getroot(), excisions, schema.ATTACHMENT_TEXT):
                    return tree, excisions
    return xmlsafe.parse(data, max_bytes=max_bytes), ()
