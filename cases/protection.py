"""Protected identities: victims, witnesses and informants, and what identifies them.

An entity is protected when its own role is one of ``Entity.PROTECTED_ROLES``, or when its
holder's is (a victim's phone, passport, account or e-mail identify the victim). Its names,
aliases, birth date, number, coordinates and description are shown only to members who may see
the case's protected identities (``access.sees_protected``, of the ``CaseAccess`` that
``cases.selectors`` build); everyone else sees a stable pseudonym, "Victim 3 of
PA-2026-00042", and no identifying value.

Quasi-identifiers go with them: a masked entity has no nationality, type (``subtype``: a
document's type, a vehicle's, a place's kind) or issuing country either, and a masked evidence
file no size, SHA-256 or custody details (they fingerprint the file). The holder link stays,
between pseudonyms only: "Identity document of Victim 3 of PA-2026-00042" says that Victim 3
holds a document, and nothing of the document can be matched with anything else (no number,
country, type, match key, hash), so the link joins two masked records and no identity. Its
changes in the change history are hidden like the identifying values.

Nothing a masked viewer reads may depend on a hidden value, not even its order: lists of
entities are ordered for the viewer by ``cases.selectors.entity_ordering`` (by kind and id
for those who see pseudonyms), never by a name or number the viewer may not see.

Masking happens where case data is read (``cases.selectors``, its ``history`` included), never
in templates: a masked instance carries no identifying value that a template could print. A
masked instance is marked (``MASKED``) and ``Entity.save`` refuses it, so a pseudonym can never
be written back over a real name.
"""

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from django.db.models import Count, Exists, Model, OuterRef, Q, QuerySet, Subquery
from django.db.models.query import ModelIterable
from django.utils.translation import gettext as _

from cases.models import (
    Case,
    CustodyEntry,
    Entity,
    Evidence,
    Movement,
    MovementFacilitator,
    Relationship,
)
from cases.models.guards import MASKED  # set (True) on every instance masked here
from cases.permissions import CaseAccess

# The fields whose values identify a protected entity, per model: blanked on masked instances
# and hidden in the change history.
ENTITY_FIELDS = (
    "name",
    "aliases",
    "birth_date",
    "identifier",
    "latitude",
    "longitude",
    "description",
    # Quasi-identifiers: with a birth date or a place, enough to single a person out.
    "nationality",
    "identifier_country",
    "subtype",
)
PROTECTED_FIELDS: dict[type[Model], frozenset[str]] = {
    # The holder link is shown as it is now (between pseudonyms), never its changes.
    Entity: frozenset({*ENTITY_FIELDS, "holder"}),
    # Free text about a link or a trip that involves a protected entity.
    Relationship: frozenset({"evidence_note"}),
    Movement: frozenset({"description"}),
    # The exact size and the hash fingerprint the file as well as its name does.
    Evidence: frozenset({"original_name", "description", "content_type", "size", "sha256"}),
}
# What is shown instead of a hidden value in the change history.
HIDDEN_VALUE = "•••"

M = TypeVar("M", bound=Model)


def is_masked(obj: Any) -> bool:
    return bool(getattr(obj, MASKED, False))


def is_protected(entity: Entity) -> bool:
    """Whether the entity is protected: by its own role, or its holder's.

    Reads the holder if it is not loaded (one query): selectors load it with the entity.
    """
    if entity.role in Entity.PROTECTED_ROLES:
        return True
    if entity.holder_id is None:
        return False
    holder = entity.holder
    return holder is not None and holder.role in Entity.PROTECTED_ROLES


def shown_as_protected(entity: Entity) -> bool:
    """Whether to mark the entity "protected" where it is shown, without a query: masked, or
    protected by its role, or by a holder loaded with it."""
    if is_masked(entity) or entity.role in Entity.PROTECTED_ROLES:
        return True
    if entity.holder_id is None or not Entity.holder.is_cached(entity):
        return False
    holder = entity.holder
    return holder is not None and holder.role in Entity.PROTECTED_ROLES


def role_pseudonym(role: str, number: int | None, case_reference: str) -> str:
    """ "Victim 3 of PA-2026-00042" (or "Victim of PA-2026-00042" before it has a number)."""
    role_label = str(dict(Entity.Role.choices).get(role, role))
    if number:
        return _("%(role)s %(number)s of %(reference)s") % {
            "role": role_label,
            "number": number,
            "reference": case_reference,
        }
    return _("%(role)s of %(reference)s") % {"role": role_label, "reference": case_reference}


def held_pseudonym(kind: str, holder_pseudonym: str) -> str:
    """ "Phone number of Victim 3 of PA-2026-00042": what a protected holder holds."""
    kind_label = str(dict(Entity.Kind.choices).get(kind, kind))
    return _("%(kind)s of %(holder)s") % {"kind": kind_label, "holder": holder_pseudonym}


def pseudonym(entity: Entity, case_reference: str) -> str:
    """The stable display name of a protected entity for those who may not see it, never
    built from a value that could identify it: what a protected holder holds is named after
    the holder ("Passport of Victim 3 of ..."), anything else from its own role and
    ``protected_number``."""
    holder = entity.holder if entity.holder_id is not None else None
    if holder is not None and holder.role in Entity.PROTECTED_ROLES:
        return held_pseudonym(entity.kind, pseudonym(holder, case_reference))
    return role_pseudonym(entity.role, entity.protected_number, case_reference)


def blank_entity(entity: Entity, *, label: str) -> Entity:
    """Replace the identifying values of ``entity`` (the same instance) with ``label`` as its
    name and nothing else, and mark it masked. For when the caller already knows the entity
    must be masked and what it is called (the change history)."""
    entity.name = label
    entity.aliases = ""
    entity.birth_date = None
    entity.identifier = ""
    entity.latitude = None
    entity.longitude = None
    entity.description = ""
    entity.nationality = ""
    entity.identifier_country = ""
    entity.subtype = ""
    setattr(entity, MASKED, True)
    return entity


def mask_entity(entity: Entity, *, case_reference: str | None = None) -> Entity:
    """The entity as a member who may not see protected identities sees it: the SAME
    instance, with its identifying values replaced by its pseudonym if it is protected, and
    its holder masked too if the holder is protected. Unprotected entities are unchanged.

    ``case_reference`` defaults to the entity's case's (which should be loaded).
    """
    if is_masked(entity):
        return entity
    reference = case_reference if case_reference is not None else entity.case.reference
    holder = entity.holder if entity.holder_id is not None else None
    # The pseudonym of what a victim holds is built from the holder's number, not its name,
    # so it does not matter which of the two is masked first.
    if is_protected(entity):
        blank_entity(entity, label=pseudonym(entity, reference))
    if holder is not None and holder.role in Entity.PROTECTED_ROLES:
        mask_entity(holder, case_reference=reference)
    return entity


def mask_entities(entities: Iterable[Entity], access: CaseAccess) -> list[Entity]:
    """The entities of the case as the member of ``access`` may see them (masked unless
    ``access.sees_protected``)."""
    entities = list(entities)
    if access.sees_protected:
        return entities
    return [mask_entity(entity, case_reference=access.case.reference) for entity in entities]


def touches_protected(*entities: Entity | None) -> bool:
    return any(entity is not None and is_protected(entity) for entity in entities)


def any_masked(objects: Iterable[Any]) -> bool:
    """Whether any of ``objects`` was masked for the viewer: changing or removing them (or
    what would remove them) requires seeing them."""
    return any(is_masked(obj) for obj in objects)


def mask_relationship(relationship: Relationship, case: Case) -> Relationship:
    """Both ends masked; the evidence note blanked if either end is protected."""
    protected = touches_protected(relationship.source, relationship.target)
    mask_entity(relationship.source, case_reference=case.reference)
    mask_entity(relationship.target, case_reference=case.reference)
    if protected:
        relationship.evidence_note = ""
        setattr(relationship, MASKED, True)
    return relationship


def mask_movement(movement: Movement, case: Case) -> Movement:
    """Both places masked; the description blanked if a place or a facilitator is protected
    (``protected_facilitators``, annotated by ``masked_movements``). Facilitators themselves
    are masked by the prefetch queryset ``masked_movements`` sets up."""
    protected = touches_protected(movement.origin, movement.destination) or bool(
        getattr(movement, "protected_facilitators", True)
    )
    mask_entity(movement.origin, case_reference=case.reference)
    mask_entity(movement.destination, case_reference=case.reference)
    if protected:
        movement.description = ""
        setattr(movement, MASKED, True)
    return movement


def evidence_pseudonym(number: int | None) -> str:
    if number:
        return _("Protected evidence file %(number)s") % {"number": number}
    return _("Protected evidence file")


def mask_evidence(evidence: Evidence, number: int | None = None) -> Evidence:
    """A protected evidence file as those who may not see protected identities see it: no
    name, description, content type, size or SHA-256 (``size`` is None: pages show nothing);
    ``number`` is its rank among the case's protected files (``protected_rank``, annotated
    by ``masked_evidence``, when not given)."""
    if not evidence.protected or is_masked(evidence):
        return evidence
    if number is None:
        number = getattr(evidence, "protected_rank", None)
    evidence.original_name = evidence_pseudonym(number)
    evidence.description = ""
    evidence.content_type = "file"
    evidence.size = None  # type: ignore[assignment]  # hidden on a masked copy
    evidence.sha256 = ""
    setattr(evidence, MASKED, True)
    return evidence


def mask_custody_entry(entry: CustodyEntry, _case: Case | None = None) -> CustodyEntry:
    """A custody entry of a masked evidence file: its detail (hashes and sizes) blanked."""
    entry.detail = ""
    setattr(entry, MASKED, True)
    return entry


# --- querysets that mask what they return --------------------------------------------------


# Django's iterables are generic only in django-stubs: subscripted for mypy, plain at run time
# (where ``ModelIterable[Any]`` would raise). Any model: the mask is set per queryset.
if TYPE_CHECKING:
    _ModelIterable = ModelIterable[Any]
else:
    _ModelIterable = ModelIterable


class _MaskingIterable(_ModelIterable):
    """Yields model instances after ``mask`` (set on a per-case subclass) has masked them.

    Used as the queryset's iterable class so that every way of getting instances out of the
    queryset (iteration, ``get()``, ``first()``, ``iterator()``, form choices) masks them,
    and so that it survives ``filter()``/``order_by()``: clones keep the iterable class.
    ``values()``/``values_list()`` return raw columns: use them for ids and keys only.
    """

    case: Case
    mask: Callable[[Any, Case], Any]

    def __iter__(self) -> Iterator[Any]:
        for obj in super().__iter__():
            if hasattr(obj, "case_id") and obj.case_id == self.case.pk:
                obj.case = self.case
            yield type(self).mask(obj, self.case)


def _masking(queryset: QuerySet[M], case: Case, mask: Callable[[Any, Case], Any]) -> QuerySet[M]:
    iterable = type(
        "MaskingIterable", (_MaskingIterable,), {"case": case, "mask": staticmethod(mask)}
    )
    clone = queryset.all()
    clone._iterable_class = iterable
    return clone


def _mask_one_entity(entity: Entity, case: Case) -> Entity:
    if entity.holder_id is not None and entity.holder is not None:
        entity.holder.case = case
    return mask_entity(entity, case_reference=case.reference)


def masked_entities(queryset: QuerySet[Entity], access: CaseAccess) -> QuerySet[Entity]:
    """``queryset`` (entities of the case, holders loaded) returning masked entities unless
    the member of ``access`` may see protected identities."""
    if access.sees_protected:
        return queryset
    return _masking(queryset, access.case, _mask_one_entity)


def masked_relationships(
    queryset: QuerySet[Relationship], access: CaseAccess
) -> QuerySet[Relationship]:
    """``queryset`` (relationships of the case, ends and their holders loaded) returning
    masked relationships unless the member of ``access`` may see protected identities."""
    if access.sees_protected:
        return queryset
    return _masking(queryset, access.case, mask_relationship)


def _protected_entity_q(prefix: str) -> Q:
    return Q(**{f"{prefix}role__in": Entity.PROTECTED_ROLES}) | Q(
        **{f"{prefix}holder__role__in": Entity.PROTECTED_ROLES}
    )


def masked_movements(queryset: QuerySet[Movement], access: CaseAccess) -> QuerySet[Movement]:
    """``queryset`` (movements of the case, places and their holders loaded, facilitators
    prefetched through ``facilitator_queryset(access)``) returning masked movements unless
    the member of ``access`` may see protected identities."""
    if access.sees_protected:
        return queryset
    protected_facilitators = Exists(
        MovementFacilitator.objects.filter(movement=OuterRef("pk")).filter(
            _protected_entity_q("entity__")
        )
    )
    return _masking(
        queryset.annotate(protected_facilitators=protected_facilitators),
        access.case,
        mask_movement,
    )


def facilitator_queryset(access: CaseAccess) -> QuerySet[Entity]:
    """The queryset to prefetch movements' facilitators with: holders loaded, masked unless
    the member of ``access`` may see protected identities."""
    return masked_entities(Entity.objects.select_related("holder"), access)


def masked_evidence(queryset: QuerySet[Evidence], access: CaseAccess) -> QuerySet[Evidence]:
    """``queryset`` (evidence of the case) returning protected files masked unless the member
    of ``access`` may see protected identities. Adds ``protected_rank`` (a subquery)."""
    if access.sees_protected:
        return queryset
    rank = (
        Evidence.objects.filter(case=OuterRef("case"), protected=True, id__lte=OuterRef("id"))
        .order_by()
        .values("case")
        .annotate(n=Count("id"))
        .values("n")
    )
    return _masking(
        queryset.annotate(protected_rank=Subquery(rank)),
        access.case,
        lambda evidence, _case: mask_evidence(evidence),
    )


def masked_custody(queryset: QuerySet[CustodyEntry], evidence: Evidence) -> QuerySet[CustodyEntry]:
    """``queryset`` (the custody entries of ``evidence``) with their details blanked if the
    evidence file is masked for the member who read it."""
    if not is_masked(evidence):
        return queryset
    return _masking(queryset, evidence.case, mask_custody_entry)
