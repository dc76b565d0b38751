"""Writes to relationships, movements and notes of a case."""

import datetime
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from casebook.audit import attribute_to
from cases import outbox
from cases.models import (
    Case,
    CaseEvent,
    Entity,
    Movement,
    MovementFacilitator,
    Note,
    Relationship,
)
from cases.permissions import CaseAccess
from cases.services.guards import acting_member, record_author


def _check_same_case(case: Case, **entities: Entity | None) -> None:
    for field, entity in entities.items():
        if entity is not None and entity.case_id != case.pk:
            raise ValidationError({field: _("This entity belongs to another case.")})


@transaction.atomic
def relationship_add(
    *,
    access: CaseAccess,
    source: Entity,
    target: Entity,
    kind: str,
    started_on: datetime.date | None = None,
    ended_on: datetime.date | None = None,
    evidence_note: str = "",
    source_reliability: str = Relationship.SourceReliability.X,
    information_assessment: str = Relationship.InformationAssessment.FOUR,
) -> Relationship:
    """Link two entities of the case of ``access`` (whose user must be allowed to
    contribute)."""
    actor, case = acting_member(access, "contribute"), access.case
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
    attribute_to(relationship, actor)
    relationship.save()
    outbox.case_changed(
        case=case, what=CaseEvent.What.RELATIONSHIP, actor=actor, object_uuid=relationship.uuid
    )
    return relationship


@transaction.atomic
def relationship_remove(*, access: CaseAccess, relationship: Relationship) -> None:
    actor = record_author(access, relationship)
    case_id, relationship_uuid = relationship.case_id, relationship.uuid
    attribute_to(relationship, actor)
    relationship.delete()
    outbox.case_changed(
        case=case_id, what=CaseEvent.What.RELATIONSHIP, actor=actor, object_uuid=relationship_uuid
    )


@transaction.atomic
def movement_add(
    *,
    access: CaseAccess,
    origin: Entity,
    destination: Entity,
    moved_on: datetime.date,
    means: str,
    people_count: int,
    facilitators: Iterable[Entity] = (),
    description: str = "",
) -> Movement:
    """Record people moved between two locations of the case of ``access`` (whose user
    must be allowed to contribute)."""
    actor, case = acting_member(access, "contribute"), access.case
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
    attribute_to(movement, actor)
    movement.save()
    for facilitator in facilitators:
        link = MovementFacilitator(movement=movement, entity=facilitator)
        attribute_to(link, actor)
        link.save()
    outbox.case_changed(
        case=case, what=CaseEvent.What.MOVEMENT, actor=actor, object_uuid=movement.uuid
    )
    return movement


@transaction.atomic
def movement_remove(*, access: CaseAccess, movement: Movement) -> None:
    actor = record_author(access, movement)
    for link in MovementFacilitator.objects.filter(movement=movement):
        attribute_to(link, actor)
        link.delete()
    case_id, movement_uuid = movement.case_id, movement.uuid
    attribute_to(movement, actor)
    movement.delete()
    outbox.case_changed(
        case=case_id, what=CaseEvent.What.MOVEMENT, actor=actor, object_uuid=movement_uuid
    )


@transaction.atomic
def note_add(*, access: CaseAccess, body: str, noted_on: datetime.date | None = None) -> Note:
    actor, case = acting_member(access, "contribute"), access.case
    body = body.strip()
    if not body:
        raise ValidationError({"body": _("A note cannot be empty.")})
    note = Note(case=case, body=body, author=actor, noted_on=noted_on or timezone.localdate())
    if note.noted_on > timezone.localdate():
        raise ValidationError({"noted_on": _("A note cannot be dated in the future.")})
    attribute_to(note, actor)
    note.save()
    outbox.case_changed(case=case, what=CaseEvent.What.NOTE, actor=actor, object_uuid=note.uuid)
    return note
