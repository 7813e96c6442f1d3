"""Every check of one submission that needs no database, in the contract's order.

size, well-formedness, forbidden constructs → schema → signature (algorithms, value, references)
→ certificate trust, validity, revocation → sender binding and state → recipients.
What remains (duplicates, references, status rules) needs the records: :mod:`hub.record.records`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import traceback
import zoneinfo
from dataclasses import dataclass, field

import structlog
from cryptography import x509

from hub.check import package, schema, trust, verification, xmlsafe
from hub.check.inspection import inspect
from hub.check.package import BusinessType, DocumentPackage, StatusPackage
from hub.check.schema import Kind
from hub.errors import Code, PackageRejected
from hub.registry import pki

log = structlog.get_logger(__name__)


@dataclass(frozen=True, kw_only=True, slots=True)
class Submission:
    submitter: str
    """The broker's ``user_id`` (checked by RabbitMQ) or the gateway token's agency."""
    message_id: str
    kind: Kind
    body: bytes
    channel: str = "amqp"
    received_at: dt.datetime | None = None

    digest: bytes = field(init=False)
    """SHA-256 of ``body``, computed once (a 50 MB body is hashed in about 100 ms)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "digest", hashlib.sha256(self.body).digest())


def fallback_message_id(body: bytes) -> str:
    """The ``message_id`` of a submission whose sender named none (AMQP without the property,
    the gateway without ``Idempotency-Key``, every national-SDK ``sendEdoc``): its bytes'
    SHA-256, so that sending the same bytes again is the same submission."""
    return "sha256:" + hashlib.sha256(body).hexdigest()


@dataclass(frozen=True, kw_only=True, slots=True)
class Checked:
    """A package that passed every check that needs no database."""

    document: DocumentPackage | None
    status: StatusPackage | None
    signer_fingerprint: bytes | None
    """The verified signer's certificate; ``None`` for an unsigned package accepted on the
    authority of its system's authentication (:attr:`assurance` ``transport``)."""
    recipients: tuple[str, ...]
    """Who gets the package (for a status: decided with the records)."""
    addressed: trust.Addressed = field(default_factory=lambda: trust.Addressed(recipients=()))
    """Closed recipients the package named and the successors they went to."""

    @property
    def document_id(self) -> str:
        return package.about(self.document, self.status).document_id

    @property
    def sender(self) -> str:
        return package.about(self.document, self.status).sender

    @property
    def urgent(self) -> bool:
        return self.document is not None and self.document.urgent

    @property
    def assurance(self) -> str:
        return assurance_of(signed=self.signer_fingerprint is not None)


SIGNATURE = "signature"
TRANSPORT = "transport"


def assurance_of(*, signed: bool) -> str:
    """What an accepted package's origin rests on (contract, version 2: the receipt's
    ``Assurance``): a verified XML-DSig ``signature``, or only its system's authentication
    (``transport``: an unsigned package under ``--unsigned accept``)."""
    return SIGNATURE if signed else TRANSPORT


@dataclass(frozen=True, kw_only=True, slots=True)
class Rejection:
    code: Code
    detail: str
    document_id: str | None = None
    sender: str | None = None


def delivery_recipients(document: DocumentPackage) -> tuple[str, ...]:
    """To, and for an update also those it adds and removes (so they learn of the removal)."""
    recipients = list(document.recipients)
    if document.business_type is BusinessType.UPDATE:
        recipients += [change.organ_id for change in document.receiver_changes]
    return tuple(dict.fromkeys(recipients))


class _Stage:
    """Which check is running, so that a failure nobody foresaw (a bug, an input no test had)
    still ends in a signed rejection with that check's code — never an exception that leaves
    the sender without a receipt. Such failures are logged with their traceback."""

    def __init__(self) -> None:
        self.code = Code.XML_MALFORMED

    def __call__(self, code: Code) -> None:
        self.code = code


def check(
    submission: Submission,
    snapshot: trust.Snapshot,
    *,
    now: dt.datetime,
    max_bytes: int,
) -> Checked:
    """Raise :class:`PackageRejected` at the first failing check, else return what passed."""
    stage = _Stage()
    try:
        return _check(submission, snapshot, now=now, max_bytes=max_bytes, stage=stage)
    except PackageRejected:
        raise
    except Exception as exc:
        log.error(
            "check_failed_unexpectedly",
            message_id=submission.message_id,
            submitter=submission.submitter,
            code=stage.code.value,
            error=repr(exc)[:500],
            traceback=traceback.format_exc(limit=8),
        )
        raise PackageRejected(
            stage.code,
            f"the package could not be checked at this step ({type(exc).__name__}); "
            "the hub's operators can see why in its log",
        ) from exc


def _check(
    submission: Submission,
    snapshot: trust.Snapshot,
    *,
    now: dt.datetime,
    max_bytes: int,
    stage: _Stage,
) -> Checked:
    inspected = inspect(
        submission.body,
        submission.kind,
        max_bytes=max_bytes,
        stage=stage,
        unsigned_ok=submission.submitter in snapshot.unsigned_accepted,
    )
    signer: x509.Certificate | None = None
    if inspected.signature is None:
        # No XML-DSig at all, from a system whose policy accepts that: the package is taken on
        # the authority of the system's authentication (assurance "transport"), and read whole.
        content = inspected.tree.getroot()
    else:
        stage(Code.SIGNATURE_INVALID)
        # signxml verifies the tree inspection parsed (no second parse), less its signature
        verified = verification.verify(
            submission.body,
            inspected.signature,
            consume_tree=True,
            excisions=inspected.excisions,
        )
        # From here on only the signed content is read.
        content = verified.signed_root
        signer = verified.signer
    # Inspection read the package from its tree before the signature was checked (so that a
    # package both malformed and badly signed is refused for the first, as the contract orders).
    # When the verified content is that same tree (verification consumed it, removing only the
    # signature, through which no path of hub.check.package leads), what it read is what was
    # signed: read once. Otherwise, read again from the signed content.
    same_tree = content is inspected.tree.getroot()
    document, status = (inspected.document, inspected.status) if same_tree else (None, None)
    del inspected
    stage(Code.SCHEMA_INVALID)
    if submission.kind is Kind.EDOC:
        document = document or package.read_document(content)
        status = None
        claimed = document.sender
    else:
        document = None
        status = status or package.read_status(content)
        claimed = status.sender
    stage(Code.CERT_UNTRUSTED)
    fingerprint = None if signer is None else pki.fingerprint(signer)
    owner = claimed if signer is None else trust.check_signer(signer, snapshot, now, fp=fingerprint)
    stage(Code.SENDER_MISMATCH)
    today = local_date(now)
    trust.bind_sender(
        claimed=claimed,
        submitter=submission.submitter,
        owner=owner,
        snapshot=snapshot,
        today=today,
    )
    addressed = trust.Addressed(recipients=())
    if document is not None:
        stage(Code.RECIPIENT_UNKNOWN)
        addressed = trust.resolve_recipients(delivery_recipients(document), snapshot, today)
        if addressed.aliases:
            document = redirected(document, snapshot, today)
    return Checked(
        document=document,
        status=status,
        signer_fingerprint=fingerprint,
        recipients=addressed.recipients,
        addressed=addressed,
    )


HUB_ZONE = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")


def local_date(now: dt.datetime) -> dt.date:
    """The day in Vietnam (identifier changes take effect from a calendar date)."""
    return now.astimezone(HUB_ZONE).date()


def redirected(
    document: DocumentPackage, snapshot: trust.Snapshot, today: dt.date
) -> DocumentPackage:
    """The document as the hub delivers it: each closed recipient (and each closed id an update
    adds or removes) replaced by its successor. The bytes delivered stay as submitted."""

    def successor(organ_id: str) -> str:
        closure = snapshot.closed(organ_id, today)
        return closure.successor if closure is not None else organ_id

    return dataclasses.replace(
        document,
        recipients=tuple(dict.fromkeys(successor(r) for r in document.recipients)),
        receiver_changes=tuple(
            dataclasses.replace(change, organ_id=successor(change.organ_id))
            for change in document.receiver_changes
        ),
    )


def decide(
    submission: Submission, snapshot: trust.Snapshot, *, now: dt.datetime, max_bytes: int
) -> Checked | Rejection:
    """:func:`check`, with a failure turned into the :class:`Rejection` its receipt states."""
    try:
        return check(submission, snapshot, now=now, max_bytes=max_bytes)
    except PackageRejected as exc:
        document_id, sender = identify(submission, max_bytes)
        return Rejection(code=exc.code, detail=exc.detail, document_id=document_id, sender=sender)


def identify(submission: Submission, max_bytes: int) -> tuple[str | None, str | None]:
    """Best-effort DocumentId and sender of a rejected package, for its receipt and records.

    Read from a schema-valid tree even when the signature failed: these values only label the
    rejection, they never route anything.
    """
    try:
        tree = xmlsafe.parse(submission.body, max_bytes=max_bytes)
        schema.validate(tree, submission.kind)
        root = tree.getroot()
        if submission.kind is Kind.EDOC:
            document = package.read_document(root)
            return document.document_id, document.sender
        status = package.read_status(root)
        return status.document_id, status.sender
    except Exception:  # only labels: a package that cannot even be read has none
        return None, None
