"""Writes to cases and everything under them.

Every service takes keyword-only arguments, writes inside one transaction and records the
acting user in the change history. Callers check permissions first, through
``cases.selectors.get_case_for_user(..., action=...)``; services check the data rules
(same case, kinds, dates) and raise ``ValidationError`` with field names, leaving the
database as it was.
"""

import datetime
import hashlib
import mimetypes
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max, Q
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from casebook.models import Agency, Country
from cases import matchkeys
from cases.models import (
    Case,
    CaseCountry,
    CaseGroupObjectPermission,
    CustodyEntry,
    Entity,
    Evidence,
    MatchKey,
    Movement,
    MovementFacilitator,
    Note,
    ReferenceSequence,
    Relationship,
)
from cases.selectors import permission_id

# What the owner agency holds on its own cases.
OWNER_PERMISSIONS = ("view_case", "contribute_case", "change_case", "manage_case", "view_protected")

# What ``case_update`` changes. Not the handling code: raising it decides the fate of shares
# the new code would not allow, so it changes only through
# ``cases.sharing.case_set_handling_code``.
CASE_FIELDS = (
    "title",
    "kind",
    "status",
    "summary",
    "lead_officer",
    "opened_on",
    "closed_on",
)


def _attribute(instance: Any, actor: Any) -> None:
    # simple-history reads the acting user from here, so history is right in tasks and
    # commands too, where there is no request.
    instance._history_user = actor


def _check_lead_officer(lead_officer: Any, agency: Agency) -> None:
    if lead_officer is None:
        return
    member = getattr(lead_officer, "member", None)
    if member is None or member.agency_id != agency.pk or not lead_officer.is_active:
        raise ValidationError(
            {"lead_officer": _("The lead officer must be an active member of the owner agency.")}
        )


def _check_dates(opened_on: datetime.date | None, closed_on: datetime.date | None) -> None:
    today = timezone.localdate()
    if opened_on and opened_on > today:
        raise ValidationError({"opened_on": _("A case cannot be opened in the future.")})
    if closed_on and opened_on and closed_on < opened_on:
        raise ValidationError({"closed_on": _("A case cannot close before it was opened.")})


def next_reference(*, country: Country, year: int) -> str:
    """The next case reference of a country and year, e.g. ``PA-2026-00042``.

    Call inside a transaction: locks the sequence row until commit, so two agencies of one
    country never get the same number, and a number is never handed out twice even if the
    case that got it is deleted later.
    """
    sequence, _created = ReferenceSequence.objects.select_for_update().get_or_create(
        country=country, year=year
    )
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    return f"{country.code}-{year}-{sequence.last_number:05d}"


def grant_owner_permissions(*, case: Case, group: Group) -> None:
    """Give the owner agency's group its permissions on a new case."""
    CaseGroupObjectPermission.objects.bulk_create(
        CaseGroupObjectPermission(
            content_object=case, group=group, permission_id=permission_id(codename)
        )
        for codename in OWNER_PERMISSIONS
    )


def _set_countries(*, case: Case, countries: Iterable[Country], actor: Any) -> None:
    wanted = {country.pk for country in countries}
    existing = {cc.country_id: cc for cc in case.case_countries.all()}
    for code, link in existing.items():
        if code not in wanted:
            _attribute(link, actor)
            link.delete()
    for code in sorted(wanted - existing.keys()):
        link = CaseCountry(case=case, country_id=code)
        _attribute(link, actor)
        link.save()


@transaction.atomic
def case_create(
    *,
    actor: Any,
    agency: Agency,
    title: str,
    kind: str,
    handling_code: str,
    status: str = Case.Status.OPEN,
    summary: str = "",
    countries: Iterable[Country] = (),
    lead_officer: Any = None,
    opened_on: datetime.date | None = None,
    closed_on: datetime.date | None = None,
) -> Case:
    """Create a case owned by ``agency`` and grant the agency its permissions.

    The reference is assigned here from the owner country's sequence for the opening year.
    """
    opened_on = opened_on or timezone.localdate()
    _check_dates(opened_on, closed_on)
    _check_lead_officer(lead_officer, agency)
    case = Case(
        reference=next_reference(country=agency.country, year=opened_on.year),
        title=title,
        kind=kind,
        status=status,
        handling_code=handling_code,
        summary=summary,
        owner_agency=agency,
        lead_officer=lead_officer,
        opened_on=opened_on,
        closed_on=closed_on,
        created_by=actor,
    )
    if status in (Case.Status.CLOSED, Case.Status.ARCHIVED) and case.closed_on is None:
        case.closed_on = timezone.localdate()
    case.full_clean(exclude=["reference", "created_by"])
    _attribute(case, actor)
    case.save()
    _set_countries(case=case, countries=countries, actor=actor)
    grant_owner_permissions(case=case, group=agency.group)
    return case


@transaction.atomic
def case_update(
    *, actor: Any, case: Case, countries: Iterable[Country] | None = None, **changes: Any
) -> Case:
    """Change a case's core fields (any of ``CASE_FIELDS``) and countries involved.

    Not its handling code (``TypeError``): that goes through
    ``cases.sharing.case_set_handling_code``, which decides on the shares it would not allow.
    """
    if "handling_code" in changes:
        raise TypeError("change the handling code with cases.sharing.case_set_handling_code")
    unknown = set(changes) - set(CASE_FIELDS)
    if unknown:
        raise TypeError(f"not case fields: {sorted(unknown)}")
    for field, value in changes.items():
        setattr(case, field, value)
    closing = case.status in (Case.Status.CLOSED, Case.Status.ARCHIVED)
    if closing and case.closed_on is None:
        case.closed_on = timezone.localdate()
    if not closing:
        case.closed_on = None
    _check_dates(case.opened_on, case.closed_on)
    _check_lead_officer(case.lead_officer, case.owner_agency)
    case.full_clean(exclude=["reference", "created_by"])
    _attribute(case, actor)
    case.save()
    if countries is not None:
        _set_countries(case=case, countries=countries, actor=actor)
    return case


# --- entities ------------------------------------------------------------------------------

ENTITY_FIELDS = (
    "role",
    "name",
    "aliases",
    "birth_date",
    "nationality",
    "identifier",
    "identifier_country",
    "subtype",
    "holder",
    "latitude",
    "longitude",
    "description",
)


def entity_match_keys(entity: Entity) -> list[matchkeys.MatchKey]:
    """The match keys of an entity; raises ``ValidationError`` keyed by field if a value is
    malformed (an invalid phone for its country, a bad IBAN or national ID...)."""
    try:
        return matchkeys.keys_for_entity(
            kind=entity.kind,
            name=entity.name,
            aliases=entity.aliases,
            birth_date=entity.birth_date,
            identifier=entity.identifier,
            identifier_country=entity.identifier_country,
            subtype=entity.subtype,
            default_region=entity.case.owner_agency.country_id,
        )
    except matchkeys.IdentifierError as error:
        raise ValidationError({error.field: str(error.message)}) from error


def _check_entity(entity: Entity) -> list[matchkeys.MatchKey]:
    if entity.birth_date and entity.birth_date > timezone.localdate():
        raise ValidationError({"birth_date": _("A birth date cannot be in the future.")})
    if entity.holder_id is not None:
        holder = entity.holder
        if holder is None or holder.case_id != entity.case_id:
            raise ValidationError({"holder": _("The holder must belong to the same case.")})
        if holder.kind not in (Entity.Kind.PERSON, Entity.Kind.ORGANISATION):
            raise ValidationError({"holder": _("Only a person or an organisation holds this.")})
        if entity.pk is not None and holder.pk == entity.pk:
            raise ValidationError({"holder": _("An entity cannot hold itself.")})
    # Field validators give the coordinate errors by field; the database constraints stay
    # as the last line of defence.
    entity.full_clean(exclude=["case", "created_by", "holder"], validate_constraints=False)
    from cases import hits

    keys = entity_match_keys(entity)
    hits.check_key_count([key.key for key in keys])  # each key is a guess at other cases
    return keys


def _store_match_keys(entity: Entity, keys: list[matchkeys.MatchKey]) -> int:
    """Store the entity's keys; returns how many it did not have before."""
    wanted = {key.key for key in keys}
    MatchKey.objects.filter(entity=entity).exclude(key__in=wanted).delete()
    existing = set(MatchKey.objects.filter(entity=entity).values_list("key", flat=True))
    new = sorted(wanted - existing)
    MatchKey.objects.bulk_create(
        MatchKey(entity=entity, case_id=entity.case_id, key=key) for key in new
    )
    return len(new)


def _assign_protected_number(entity: Entity, *, stored_role: str | None) -> None:
    """Give the entity its pseudonym number ("Victim 3 of ...") when it takes a protected
    role: if it has none yet, or its role changed from ``stored_role`` to another role.

    A number is never given to two entities of the same case and role: the next one is one
    more than any ever given (the history counts removed entities and past roles), and the
    case row is locked so that two writers cannot take the same. An entity that had a number
    for this role before (victim, then suspect, then victim again) gets its number back.
    Call inside a transaction, before saving the entity.
    """
    role = entity.role
    if role not in Entity.PROTECTED_ROLES:
        return
    if entity.protected_number is not None and stored_role == role:
        return
    list(Case.objects.select_for_update().filter(pk=entity.case_id).values_list("pk"))
    historical = Entity.history.model  # type: ignore[attr-defined]
    past = historical.objects.filter(case_id=entity.case_id, role=role)
    if entity.pk is not None:
        own = past.filter(id=entity.pk).aggregate(n=Max("protected_number"))["n"]
        if own is not None:
            entity.protected_number = own
            return
    highest = max(
        past.aggregate(n=Max("protected_number"))["n"] or 0,
        Entity.objects.filter(case_id=entity.case_id, role=role).aggregate(
            n=Max("protected_number")
        )["n"]
        or 0,
    )
    entity.protected_number = highest + 1


def _queue_hits_detect(entity: Entity, *, actor: Any, new_keys: int) -> None:
    """After commit, compare the entity's keys with other cases' (``cases.hits``), within the
    actor's and their agency's hourly budget of new keys (over it, detection is deferred,
    logged and notified; the write is kept). Robust: a failed detection (re-run by
    ``manage.py detect_hits``) never fails the saved write."""
    from cases import hits

    hits.detection_request(actor=actor, entity=entity, new_keys=new_keys)


@transaction.atomic
def entity_add(*, actor: Any, case: Case, kind: str, **values: Any) -> Entity:
    """Add an entity to a case and store its match keys; queues hit detection on commit."""
    unknown = set(values) - set(ENTITY_FIELDS)
    if unknown:
        raise TypeError(f"not entity fields: {sorted(unknown)}")
    entity = Entity(case=case, kind=kind, created_by=actor, **values)
    keys = _check_entity(entity)
    _assign_protected_number(entity, stored_role=None)
    _attribute(entity, actor)
    entity.save()
    new_keys = _store_match_keys(entity, keys)
    _queue_hits_detect(entity, actor=actor, new_keys=new_keys)
    return entity


@transaction.atomic
def entity_update(*, actor: Any, entity: Entity, **changes: Any) -> Entity:
    """Change an entity (not its kind or case) and rebuild its match keys; queues hit
    detection on commit (hits of pairs that no longer share a key are removed)."""
    unknown = set(changes) - set(ENTITY_FIELDS)
    if unknown:
        raise TypeError(f"not entity fields: {sorted(unknown)}")
    stored_role = entity.role  # as fetched: the form edits a copy
    for field, value in changes.items():
        setattr(entity, field, value)
    keys = _check_entity(entity)
    _assign_protected_number(entity, stored_role=stored_role)
    _attribute(entity, actor)
    entity.save()
    new_keys = _store_match_keys(entity, keys)
    _queue_hits_detect(entity, actor=actor, new_keys=new_keys)
    return entity


@transaction.atomic
def entity_remove(*, actor: Any, entity: Entity) -> None:
    """Remove an entity with its relationships. Refused while a movement uses it as a
    place, so that the route record is never silently cut."""
    if Movement.objects.filter(Q(origin=entity) | Q(destination=entity)).exists():
        raise ValidationError(
            _("This place is the start or end of a movement; remove the movement first.")
        )
    for relationship in Relationship.objects.filter(Q(source=entity) | Q(target=entity)):
        _attribute(relationship, actor)
        relationship.delete()
    for link in MovementFacilitator.objects.filter(entity=entity):
        _attribute(link, actor)
        link.delete()
    for held in Entity.objects.filter(holder=entity):
        held.holder = None
        _attribute(held, actor)
        held.save(update_fields=["holder", "updated_at"])
    _attribute(entity, actor)
    entity.delete()


# --- relationships, movements, notes -------------------------------------------------------


def _check_same_case(case: Case, **entities: Entity | None) -> None:
    for field, entity in entities.items():
        if entity is not None and entity.case_id != case.pk:
            raise ValidationError({field: _("This entity belongs to another case.")})


@transaction.atomic
def relationship_add(
    *,
    actor: Any,
    case: Case,
    source: Entity,
    target: Entity,
    kind: str,
    started_on: datetime.date | None = None,
    ended_on: datetime.date | None = None,
    evidence_note: str = "",
    source_reliability: str = Relationship.SourceReliability.X,
    information_assessment: str = Relationship.InformationAssessment.FOUR,
) -> Relationship:
    """Link two entities of the same case."""
    _check_same_case(case, source=source, target=target)
    if source.pk == target.pk:
        raise ValidationError({"target": _("An entity cannot be linked to itself.")})
    if started_on and ended_on and ended_on < started_on:
        raise ValidationError({"ended_on": _("The end date is before the start date.")})
    relationship = Relationship(
        case=case,
        source=source,
        target=target,
        kind=kind,
        started_on=started_on,
        ended_on=ended_on,
        evidence_note=evidence_note,
        source_reliability=source_reliability,
        information_assessment=information_assessment,
        created_by=actor,
    )
    relationship.full_clean(exclude=["case", "source", "target", "created_by"])
    _attribute(relationship, actor)
    relationship.save()
    return relationship


@transaction.atomic
def relationship_remove(*, actor: Any, relationship: Relationship) -> None:
    _attribute(relationship, actor)
    relationship.delete()


@transaction.atomic
def movement_add(
    *,
    actor: Any,
    case: Case,
    origin: Entity,
    destination: Entity,
    moved_on: datetime.date,
    means: str,
    people_count: int,
    facilitators: Iterable[Entity] = (),
    description: str = "",
) -> Movement:
    """Record people moved between two locations of the case."""
    facilitators = list(facilitators)
    _check_same_case(case, origin=origin, destination=destination)
    for facilitator in facilitators:
        _check_same_case(case, facilitators=facilitator)
    for field, place in (("origin", origin), ("destination", destination)):
        if place.kind != Entity.Kind.LOCATION:
            raise ValidationError({field: _("Choose a location.")})
    if origin.pk == destination.pk:
        raise ValidationError({"destination": _("The destination is the place of origin.")})
    if people_count is None or people_count < 1:
        raise ValidationError({"people_count": _("At least one person must have moved.")})
    if moved_on > timezone.localdate():
        raise ValidationError({"moved_on": _("A movement cannot be in the future.")})
    movement = Movement(
        case=case,
        origin=origin,
        destination=destination,
        moved_on=moved_on,
        means=means,
        people_count=people_count,
        description=description,
        created_by=actor,
    )
    movement.full_clean(exclude=["case", "origin", "destination", "created_by"])
    _attribute(movement, actor)
    movement.save()
    for facilitator in facilitators:
        link = MovementFacilitator(movement=movement, entity=facilitator)
        _attribute(link, actor)
        link.save()
    return movement


@transaction.atomic
def movement_remove(*, actor: Any, movement: Movement) -> None:
    for link in MovementFacilitator.objects.filter(movement=movement):
        _attribute(link, actor)
        link.delete()
    _attribute(movement, actor)
    movement.delete()


@transaction.atomic
def note_add(*, actor: Any, case: Case, body: str, noted_on: datetime.date | None = None) -> Note:
    body = body.strip()
    if not body:
        raise ValidationError({"body": _("A note cannot be empty.")})
    note = Note(case=case, body=body, author=actor, noted_on=noted_on or timezone.localdate())
    if note.noted_on > timezone.localdate():
        raise ValidationError({"noted_on": _("A note cannot be dated in the future.")})
    _attribute(note, actor)
    note.save()
    return note


# --- evidence ------------------------------------------------------------------------------


def _hash_upload(upload: UploadedFile) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    for chunk in upload.chunks():
        digest.update(chunk)
        size += len(chunk)
    upload.seek(0)
    return digest.hexdigest(), size


def check_upload(upload: UploadedFile | None) -> None:
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
    actor: Any,
    case: Case,
    upload: UploadedFile,
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
    """
    from cases import tasks

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
        _attribute(evidence, actor)
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
    transaction.on_commit(lambda: tasks.evidence_verify.delay(evidence.pk))
    return evidence


def evidence_record_download(
    *, actor: Any, evidence: Evidence, remote_addr: str | None = None
) -> CustodyEntry:
    """Append a download to the chain of custody. Call before streaming the file."""
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
