"""Writes to evidence files and their chain of custody."""

import hashlib
import mimetypes

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from casebook.audit import attribute_to
from cases import outbox
from cases.models import (
    CaseEvent,
    CustodyEntry,
    Evidence,
)
from cases.permissions import CaseAccess
from cases.services.guards import acting_member


def _hash_upload(upload: "UploadedFile[bytes]") -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    for chunk in upload.chunks():
        digest.update(chunk)
        size += len(chunk)
    upload.seek(0)
    return digest.hexdigest(), size


def check_upload(upload: "UploadedFile[bytes] | None") -> None:
    """Refuse a missing, empty or oversized upload (field ``file``)."""
    limit = settings.EVIDENCE_MAX_BYTES
    if upload is None:
        raise ValidationError({"file": _("Choose a file.")})
    if not upload.size:
        raise ValidationError({"file": _("The file is empty.")})
    if upload.size > limit:
        raise ValidationError(
            {
                "file": _("The file is larger than the limit of %(limit)s.")
                % {"limit": filesizeformat(limit)}
            }
        )


@transaction.atomic
def evidence_add(
    *,
    access: CaseAccess,
    upload: "UploadedFile[bytes]",
    description: str = "",
    protected: bool = True,
    remote_addr: str | None = None,
) -> Evidence:
    """Store an evidence file with its SHA-256 and open its chain of custody.

    A ``protected`` file (the default: statements, photos and documents usually identify
    someone) shows its name, description and content only to members who may see the
    case's protected identities.

    Call as the outermost transaction (from a view): if this service fails, the stored copy
    is removed again. Queues an independent integrity check of the stored copy after commit.
    The user of ``access`` must be allowed to contribute to its case.
    """
    from cases import tasks  # local import: tasks call services, so they load after them

    actor, case = acting_member(access, "contribute"), access.case

    check_upload(upload)
    sha256, size = _hash_upload(upload)
    if size == 0:
        raise ValidationError({"file": _("The file is empty.")})
    name = (upload.name or "file").rsplit("/", 1)[-1][:255]
    content_type = (
        mimetypes.guess_type(name)[0] or upload.content_type or "application/octet-stream"
    )
    evidence = Evidence(
        case=case,
        original_name=name,
        content_type=content_type[:100],
        size=size,
        sha256=sha256,
        description=description,
        protected=protected,
        uploaded_by=actor,
    )
    evidence.file.save(name, upload, save=False)
    try:
        attribute_to(evidence, actor)
        evidence.save()
        CustodyEntry.objects.create(
            evidence=evidence,
            action=CustodyEntry.Action.UPLOADED,
            actor=actor,
            remote_addr=remote_addr,
            detail=f"sha256={sha256} size={size}",
        )
    except BaseException:
        # The rows roll back with the transaction; the stored copy must go too.
        evidence.file.delete(save=False)
        raise
    outbox.case_changed(
        case=case, what=CaseEvent.What.EVIDENCE, actor=actor, object_uuid=evidence.uuid
    )
    transaction.on_commit(lambda: tasks.evidence_verify.delay(evidence.pk))
    return evidence


def evidence_record_download(
    *, access: CaseAccess, evidence: Evidence, remote_addr: str | None = None
) -> CustodyEntry:
    """Append a download to the chain of custody. Call before streaming the file. A
    protected file is downloaded only by those who may see the case's protected identities
    (``PermissionDenied`` otherwise)."""
    actor = acting_member(access, "view")
    if evidence.case_id != access.case.pk or (evidence.protected and not access.sees_protected):
        raise PermissionDenied(_("You may not do this on this case."))
    return CustodyEntry.objects.create(
        evidence=evidence,
        action=CustodyEntry.Action.DOWNLOADED,
        actor=actor,
        remote_addr=remote_addr,
    )


def evidence_verify_integrity(*, evidence: Evidence) -> CustodyEntry:
    """Re-read the stored copy, compare its SHA-256 and size with what was recorded at
    upload, and append the result to the chain of custody."""
    digest = hashlib.sha256()
    size = 0
    try:
        with evidence.file.open("rb") as stored:
            for chunk in iter(lambda: stored.read(1024 * 1024), b""):
                digest.update(chunk)
                size += len(chunk)
    except FileNotFoundError:
        return CustodyEntry.objects.create(
            evidence=evidence, action=CustodyEntry.Action.MISMATCH, detail="stored file missing"
        )
    ok = digest.hexdigest() == evidence.sha256 and size == evidence.size
    return CustodyEntry.objects.create(
        evidence=evidence,
        action=CustodyEntry.Action.VERIFIED if ok else CustodyEntry.Action.MISMATCH,
        detail=f"sha256={digest.hexdigest()} size={size}",
    )
