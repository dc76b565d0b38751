"""Writes to the entities of a case: their match keys, pseudonym numbers and the hit
detection each write queues."""

from collections import Counter
from collections.abc import Collection
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from casebook.audit import attribute_to
from cases import matchkeys, outbox, rules
from cases.models import (
    Case,
    CaseEvent,
    Entity,
    MatchKey,
    Movement,
    MovementFacilitator,
    Relationship,
)
from cases.permissions import CaseAccess
from cases.services.guards import acting_member, record_author, require_links_seen
from cases.services.hits import detection_request

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

    keys = entity_match_keys(entity)
    rules.check_key_count([key.key for key in keys])  # each key is a guess at other cases
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


def cases_lock(*, case_ids: Collection[int]) -> None:
    """Lock the rows of the cases until the caller's transaction ends (call inside one), in
    id order so that two writers never wait for each other in a circle. Whoever numbers new
    protected entities of a case holds its lock, so that two writers never take one number."""
    list(Case.objects.select_for_update().filter(pk__in=case_ids).order_by("pk").values_list("pk"))


def protected_numbers_highest(
    *, case_ids: Collection[int], roles: Collection[str] = Entity.PROTECTED_ROLES
) -> Counter[tuple[int, str]]:
    """The highest pseudonym number ever given in each of the cases to each protected role,
    keyed by (case id, role), 0 where none was: of the current entities and of the change
    history (removed entities and past roles count), in two queries whatever the number of
    cases. Hold the cases' lock (``cases_lock``) from before this read until the numbered
    entities are saved; take numbers from the result with ``protected_number_next``."""
    historical = Entity.history.model
    highest: Counter[tuple[int, str]] = Counter()
    for rows in (historical.objects, Entity.objects):
        found = (
            rows.filter(case_id__in=case_ids, role__in=roles)
            .order_by()
            .values_list("case_id", "role")
            .annotate(n=Max("protected_number"))
        )
        for case_id, role, number in found:
            highest[(case_id, role)] = max(highest[(case_id, role)], number or 0)
    return highest


def protected_number_next(highest: Counter[tuple[int, str]], *, case_id: int, role: str) -> int:
    """The pseudonym number of a new entity of ``role`` in case ``case_id``: one more than
    any given before, which ``highest`` (from ``protected_numbers_highest``) then counts as
    given, so that the next entity of the same case and role gets the following one. Pure."""
    highest[(case_id, role)] += 1
    return highest[(case_id, role)]


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
    cases_lock(case_ids=[entity.case_id])
    if entity.pk is not None:
        historical = Entity.history.model
        past = historical.objects.filter(case_id=entity.case_id, role=role, id=entity.pk)
        own = past.aggregate(n=Max("protected_number"))["n"]
        if own is not None:
            entity.protected_number = own
            return
    highest = protected_numbers_highest(case_ids=[entity.case_id], roles=[role])
    entity.protected_number = protected_number_next(highest, case_id=entity.case_id, role=role)


def _queue_hits_detect(entity: Entity, *, actor: User, new_keys: int) -> None:
    """After commit, compare the entity's keys with other cases' (``cases.services.hits``),
    within the actor's and their agency's hourly budget of new keys (over it, detection is deferred,
    logged and notified; the write is kept). Robust: a failed detection (re-run by
    ``manage.py detect_hits``) never fails the saved write."""

    detection_request(actor=actor, entity=entity, new_keys=new_keys)


@transaction.atomic
def entity_add(*, access: CaseAccess, kind: str, **values: Any) -> Entity:
    """Add an entity to the case of ``access`` (whose user must be allowed to contribute)
    and store its match keys; queues hit detection on commit."""
    actor, case = acting_member(access, "contribute"), access.case
    unknown = set(values) - set(ENTITY_FIELDS)
    if unknown:
        raise TypeError(f"not entity fields: {sorted(unknown)}")
    entity = Entity(case=case, kind=kind, created_by=actor, **values)
    keys = _check_entity(entity)
    _assign_protected_number(entity, stored_role=None)
    attribute_to(entity, actor)
    entity.save()
    new_keys = _store_match_keys(entity, keys)
    _queue_hits_detect(entity, actor=actor, new_keys=new_keys)
    outbox.case_changed(case=case, what=CaseEvent.What.ENTITY, actor=actor, object_uuid=entity.uuid)
    return entity


@transaction.atomic
def entity_update(*, access: CaseAccess, entity: Entity, **changes: Any) -> Entity:
    """Change an entity (not its kind or case) and rebuild its match keys; queues hit
    detection on commit (hits of pairs that no longer share a key are removed). The user of
    ``access`` must be allowed to contribute and to see the entity unmasked."""
    actor = record_author(access, entity)
    unknown = set(changes) - set(ENTITY_FIELDS)
    if unknown:
        raise TypeError(f"not entity fields: {sorted(unknown)}")
    stored_role = entity.role  # as fetched: the form edits a copy
    for field, value in changes.items():
        setattr(entity, field, value)
    keys = _check_entity(entity)
    _assign_protected_number(entity, stored_role=stored_role)
    attribute_to(entity, actor)
    entity.save()
    new_keys = _store_match_keys(entity, keys)
    _queue_hits_detect(entity, actor=actor, new_keys=new_keys)
    outbox.case_changed(
        case=entity.case_id, what=CaseEvent.What.ENTITY, actor=actor, object_uuid=entity.uuid
    )
    return entity


@transaction.atomic
def entity_remove(*, access: CaseAccess, entity: Entity) -> None:
    """Remove an entity with its relationships. Refused while a movement uses it as a
    place, so that the route record is never silently cut. The user of ``access`` must be
    allowed to contribute and to see the entity unmasked, and the links its removal removes
    (``PermissionDenied`` otherwise)."""
    actor = record_author(access, entity)
    require_links_seen(access, entity)
    if Movement.objects.filter(Q(origin=entity) | Q(destination=entity)).exists():
        raise ValidationError(
            _("This place is the start or end of a movement; remove the movement first.")
        )
    for relationship in Relationship.objects.filter(Q(source=entity) | Q(target=entity)):
        attribute_to(relationship, actor)
        relationship.delete()
    for link in MovementFacilitator.objects.filter(entity=entity):
        attribute_to(link, actor)
        link.delete()
    for held in Entity.objects.filter(holder=entity):
        held.holder = None
        attribute_to(held, actor)
        held.save(update_fields=["holder", "updated_at"])
    case_id, entity_uuid = entity.case_id, entity.uuid
    attribute_to(entity, actor)
    entity.delete()
    outbox.case_changed(
        case=case_id, what=CaseEvent.What.ENTITY, actor=actor, object_uuid=entity_uuid
    )
