"""What lives under a case: entities, relationships, movements, notes, evidence and
custody, and what an entity is linked to within its case."""

from dataclasses import dataclass
from uuid import UUID

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casebook import access
from casebook.models import Country
from cases import protection
from cases.models import (
    CustodyEntry,
    Entity,
    Evidence,
    MatchKey,
    Movement,
    MovementFacilitator,
    Note,
    Relationship,
)
from cases.permissions import CaseAccess
from cases.selectors.cases import _case_access, case_country_list
from cases.selectors.visible import visible_entities, visible_movements, visible_relationships

# Why a member who sees a relationship, a movement or an entity's links masked may not
# change or remove them.
LINKED_TO_PROTECTED = gettext_lazy(
    "This involves a protected identity: only those who may see it may change or remove it."
)

# --- what lives under a case ------------------------------------------------------------
# Each reader takes the ``CaseAccess`` returned by ``get_case_access`` (so the permission
# check has happened) or, for direct fetches by public id, the user; those return the record
# with the ``CaseAccess`` it was read under.
#
# Protected identities are masked here (``cases.protection``): for a member who may not see
# them (``not access.sees_protected``), every entity, relationship, movement
# and evidence file these querysets return has the identifying values of victims, witnesses
# and informants (and of what they hold) replaced by pseudonyms, however the queryset is then
# filtered, ordered or iterated. ``values()``/``values_list()`` read raw columns: ids only.


# The order of a case's entities, per viewer: by what the viewer may see. For a member who
# sees protected identities masked, by kind and id only: an order by name or number would
# tell where a victim's real name sorts among the others (and, with a probe entity renamed
# again and again, the name itself). For one who sees them, by kind and name.
MASKED_ENTITY_ORDER = ("kind", "id")
OPEN_ENTITY_ORDER = ("kind", "name", "identifier", "id")


def entity_ordering(access: CaseAccess) -> tuple[str, ...]:
    """THE order of entities for the member of ``access``: every list, drop-down and export
    of entities is ordered by it (``order_entities``), never by a template or form."""
    if access.sees_protected:
        return OPEN_ENTITY_ORDER
    return MASKED_ENTITY_ORDER


def order_entities(queryset: QuerySet[Entity], access: CaseAccess) -> QuerySet[Entity]:
    """``queryset`` (entities of the case) in ``entity_ordering(access)``."""
    return queryset.order_by(*entity_ordering(access))


def entity_list(access: CaseAccess) -> QuerySet[Entity]:
    """The case's entities with their holders, masked for the member of ``access``, in the
    viewer's order (``entity_ordering``)."""
    entities = Entity.objects.filter(case=access.case).select_related("holder")
    return protection.masked_entities(order_entities(entities, access), access)


def get_entity_for_user(
    user: User, case_uuid: UUID | str, entity_uuid: UUID | str, *, action: str = "view"
) -> tuple[CaseAccess, Entity]:
    """An entity of a case the user may act on, with the access it was read under; 404 if
    the entity is not in that case.

    Masked if protected and the user may not see protected identities; then 403 for any
    action but "view": editing requires seeing what one edits.
    """
    case_access = _case_access(user, case_uuid, action=action)
    case = case_access.case
    entity = entity_list(case_access).filter(uuid=entity_uuid).first()
    if entity is None:
        raise Http404(_("No such entity."))
    if action != "view" and protection.is_masked(entity):
        raise PermissionDenied(_("Only those who may see this protected identity may change it."))
    access.record(action=action, object_type="entity", case=case, object_uuid=entity.uuid)
    entity.case = case
    return case_access, entity


def get_entity_for_removal(
    user: User, case_uuid: UUID | str, entity_uuid: UUID | str
) -> tuple[CaseAccess, Entity]:
    """``get_entity_for_user(..., action="contribute")`` for removing the entity: 403 also if
    the removal would remove a relationship or a facilitator link that the user sees masked
    (one that involves a protected identity): removing those requires seeing them."""
    case_access, entity = get_entity_for_user(user, case_uuid, entity_uuid, action="contribute")
    if case_access.sees_protected:
        return case_access, entity
    links = [*entity_relationships(case_access, entity), *entity_movements(case_access, entity)]
    if protection.any_masked(links):
        raise PermissionDenied(LINKED_TO_PROTECTED)
    return case_access, entity


def relationship_list(access: CaseAccess) -> QuerySet[Relationship]:
    """The case's relationships with both ends (and their holders: whether an end is
    protected depends on them), masked for the member of ``access``."""
    return protection.masked_relationships(
        Relationship.objects.filter(case=access.case).select_related(
            "source__holder", "target__holder"
        ),
        access,
    )


def get_relationship_for_user(
    user: User, case_uuid: UUID | str, relationship_uuid: UUID | str, *, action: str = "view"
) -> tuple[CaseAccess, Relationship]:
    case_access = _case_access(user, case_uuid, action=action)
    case = case_access.case
    relationship = relationship_list(case_access).filter(uuid=relationship_uuid).first()
    if relationship is None:
        raise Http404(_("No such relationship."))
    # Masked viewers see the row (pseudonyms): refused, not hidden.
    if action != "view" and protection.is_masked(relationship):
        raise PermissionDenied(LINKED_TO_PROTECTED)
    access.record(
        action=action, object_type="relationship", case=case, object_uuid=relationship.uuid
    )
    relationship.case = case
    return case_access, relationship


def movement_list(access: CaseAccess) -> QuerySet[Movement]:
    """The case's movements with their places and facilitators (and their holders), masked
    for the member of ``access``."""
    facilitators = Prefetch(
        "facilitators", queryset=order_entities(protection.facilitator_queryset(access), access)
    )
    return protection.masked_movements(
        Movement.objects.filter(case=access.case)
        .select_related("origin__holder", "destination__holder")
        .prefetch_related(facilitators),
        access,
    )


def get_movement_for_user(
    user: User, case_uuid: UUID | str, movement_uuid: UUID | str, *, action: str = "view"
) -> tuple[CaseAccess, Movement]:
    case_access = _case_access(user, case_uuid, action=action)
    case = case_access.case
    movement = movement_list(case_access).filter(uuid=movement_uuid).first()
    if movement is None:
        raise Http404(_("No such movement."))
    if action != "view" and protection.is_masked(movement):
        raise PermissionDenied(LINKED_TO_PROTECTED)
    access.record(action=action, object_type="movement", case=case, object_uuid=movement.uuid)
    movement.case = case
    return case_access, movement


def note_list(access: CaseAccess) -> QuerySet[Note]:
    return Note.objects.filter(case=access.case).select_related("author")


def evidence_list(access: CaseAccess) -> QuerySet[Evidence]:
    """The case's evidence files; protected ones masked for the member of ``access``."""
    return protection.masked_evidence(
        Evidence.objects.filter(case=access.case).select_related("uploaded_by"), access
    )


def get_evidence_for_user(
    user: User,
    case_uuid: UUID | str,
    evidence_uuid: UUID | str,
    *,
    action: str = "view",
    logged_as: str = "",
) -> tuple[CaseAccess, Evidence]:
    """An evidence file of a case the user may act on; 404 if it is not in that case. The
    access log records ``logged_as`` (e.g. "download"), by default ``action``.

    A protected file is masked for a user who may not see protected identities, and its
    download (``logged_as="download"``) is a 404: its content would show what its name hides.
    A refusal of it is logged as a refused ``logged_as`` (a refused download, not a view).
    """
    if logged_as:
        access.attempting_overall(logged_as)
    case_access = _case_access(user, case_uuid, action=action)
    case = case_access.case
    evidence = evidence_list(case_access).filter(uuid=evidence_uuid).first()
    if evidence is None or (logged_as == "download" and protection.is_masked(evidence)):
        raise Http404(_("No such evidence file."))
    access.record(
        action=logged_as or action, object_type="evidence", case=case, object_uuid=evidence.uuid
    )
    evidence.case = case
    return case_access, evidence


@dataclass(frozen=True)
class CaseRecords:
    """Everything under a case as the member who fetched it may see it (masked as the
    readers above mask it): what the case page shows and the export writes."""

    countries: list[Country]
    entities: list[Entity]
    relationships: list[Relationship]
    movements: list[Movement]
    notes: list[Note]  # newest first
    evidence: list[Evidence]


def case_records(access: CaseAccess) -> CaseRecords:
    """The records of the case (of ``access``, from ``get_case_access``), in a fixed number
    of queries whatever their number, read by the same cross-case readers every channel uses
    (``cases.selectors.visible``); relationship ends are the entities read here."""
    user, case_ids, known = access.user, [access.case.pk], {access.case.pk: access}
    # Each row gets ``access.case`` itself (the readers take the cases of ``known``).
    entities = visible_entities(user, case_ids=case_ids, viewer_order=True, accesses=known)
    by_pk = {entity.pk: entity for entity in entities}
    return CaseRecords(
        countries=list(case_country_list(access.case)),
        entities=entities,
        relationships=visible_relationships(user, case_ids=case_ids, ends=by_pk, accesses=known),
        movements=visible_movements(user, case_ids=case_ids, accesses=known),
        notes=list(note_list(access).order_by("-noted_on", "-id")),
        evidence=list(evidence_list(access)),
    )


def custody_list(evidence: Evidence) -> QuerySet[CustodyEntry]:
    """The chain of custody of ``evidence`` (from ``get_evidence_for_user``), oldest first;
    without details (hashes, sizes) if the file is masked for the user."""
    return protection.masked_custody(
        CustodyEntry.objects.filter(evidence=evidence).select_related("actor"), evidence
    )


# --- what an entity is linked to -----------------------------------------------------------
# Each takes an entity returned by ``get_entity_for_user`` with the access it came with (so
# the permission check has happened) and reads within that entity's case only.


def entity_holdings(access: CaseAccess, entity: Entity) -> QuerySet[Entity]:
    """What the entity holds: phones, accounts, documents... whose holder it is."""
    return entity_list(access).filter(holder=entity)


def entity_relationships(access: CaseAccess, entity: Entity) -> QuerySet[Relationship]:
    """Relationships from or to the entity."""
    return relationship_list(access).filter(Q(source=entity) | Q(target=entity))


def entity_movements(access: CaseAccess, entity: Entity) -> QuerySet[Movement]:
    """Movements that start or end at the entity, or that it facilitated."""
    facilitated = Exists(MovementFacilitator.objects.filter(movement=OuterRef("pk"), entity=entity))
    return movement_list(access).filter(Q(origin=entity) | Q(destination=entity) | facilitated)


def match_key_list(entity: Entity) -> QuerySet[MatchKey]:
    """The entity's own match keys; never another case's (hit/no-hit is a separate read).
    None for a masked entity: its keys are its identifying values."""
    if protection.is_masked(entity):
        return MatchKey.objects.none()
    return MatchKey.objects.filter(entity=entity).order_by("key")
