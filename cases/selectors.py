"""Permission-aware reads of case data: the only way views, tasks and exports get case rows.

Visibility is one SQL filter, an ``Exists()`` over the direct foreign-key permission table
(``CaseGroupObjectPermission``) for the groups of the asking user's agency. A member of
another agency gets 404 for what they may not see, never 403: existence is not disclosed.
Superusers get nothing implicitly: they administer the installation, not its cases.

Sharing (a later issue) adds rows to the permission table; it changes data, not this code.
"""

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Permission
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from casebook.auth import role_permissions
from casebook.models import Country
from cases.models import (
    Case,
    CaseGroupObjectPermission,
    CustodyEntry,
    Entity,
    Evidence,
    MatchKey,
    Movement,
    MovementFacilitator,
    Note,
    Relationship,
)

User = AbstractBaseUser | AnonymousUser

# What each action needs: the agency's object permission on the case, and the member's role
# permission (model level). Both must hold.
ACTIONS: dict[str, tuple[str, str]] = {
    "view": ("view_case", "cases.view_case"),
    "contribute": ("contribute_case", "cases.contribute_case"),
    "change": ("change_case", "cases.change_case"),
    "manage": ("manage_case", "cases.manage_case"),
    # Not an action on its own: seeing the victims, witnesses and informants of the case.
    "view_protected": ("view_protected", "cases.view_protected"),
}

_permission_ids: dict[str, int] = {}


def permission_id(codename: str) -> int:
    """The primary key of a ``cases`` permission, cached for the life of the process."""
    if codename not in _permission_ids:
        _permission_ids[codename] = Permission.objects.get(
            content_type__app_label="cases", codename=codename
        ).pk
    return _permission_ids[codename]


def _agency_group_ids(user: Any) -> QuerySet[Any]:
    """The groups through which the user holds grants: those of their active agency."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return CaseGroupObjectPermission.objects.none().values("group_id")
    return user.groups.filter(agency__isnull=False).values("id")


def live_grants(user: Any) -> QuerySet[CaseGroupObjectPermission]:
    """The grants the user holds right now through their agency: the one definition of a
    live grant. An expired share stops here at its expiry, before the clean-up task runs."""
    return CaseGroupObjectPermission.objects.filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()),
        group_id__in=_agency_group_ids(user),
    )


def visible_to(user: Any, *, case_ref: str = "pk", codename: str = "view_case") -> Exists:
    """``Exists()`` that is true for rows whose case (``case_ref``) the user's agency holds
    ``codename`` on. Use it in every read: ``Model.objects.filter(visible_to(user, ...))``."""
    return Exists(
        live_grants(user).filter(
            content_object=OuterRef(case_ref), permission_id=permission_id(codename)
        )
    )


def case_permissions(user: Any, cases: list[Case]) -> dict[int, set[str]]:
    """The actions (``ACTIONS`` keys) the user may take on each case, in one query.

    Intersects the agency's object grants with the member's roles. Used by pages to decide
    which buttons to show; the write paths check again through ``get_case_for_user``.
    """
    result: dict[int, set[str]] = {case.pk: set() for case in cases}
    if not cases:
        return result
    roles = role_permissions(user)
    grants = (
        live_grants(user)
        .filter(content_object__in=[case.pk for case in cases])
        .values_list("content_object_id", "permission__codename")
    )
    by_codename = {codename: action for action, (codename, _perm) in ACTIONS.items()}
    for case_id, codename in grants:
        action = by_codename.get(codename)
        if action and ACTIONS[action][1] in roles:
            result[case_id].add(action)
    return result


def can_see_protected(user: Any, case: Case) -> bool:
    """Whether the user may see protected identities (victims, witnesses, informants) of a
    case: their agency holds ``view_protected`` on it and their role allows it."""
    if "cases.view_protected" not in role_permissions(user):
        return False
    return (
        live_grants(user)
        .filter(content_object=case, permission_id=permission_id("view_protected"))
        .exists()
    )


# --- cases ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseFilters:
    status: str = ""
    kind: str = ""
    country: str = ""
    text: str = ""
    order: str = "-updated_at"


CASE_ORDERINGS = {
    "-updated_at": ("-updated_at", "-id"),
    "updated_at": ("updated_at", "id"),
    "reference": ("reference",),
    "-reference": ("-reference",),
    "title": ("title", "id"),
    "-opened_on": ("-opened_on", "-id"),
    "opened_on": ("opened_on", "id"),
}


def case_list(user: Any, *, filters: CaseFilters | None = None) -> QuerySet[Case]:
    """Cases the user may see, filtered and ordered, with what list pages display."""
    filters = filters or CaseFilters()
    qs = Case.objects.filter(visible_to(user)).select_related(
        "owner_agency", "owner_agency__country"
    )
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.country:
        qs = qs.filter(
            Q(owner_agency__country_id=filters.country)
            | Q(case_countries__country_id=filters.country)
        ).distinct()
    if filters.text:
        qs = qs.filter(Q(title__icontains=filters.text) | Q(reference__icontains=filters.text))
    return qs.order_by(*CASE_ORDERINGS.get(filters.order, CASE_ORDERINGS["-updated_at"]))


def get_case_for_user(user: Any, case_uuid: UUID | str, *, action: str = "view") -> Case:
    """The case if the user may see it (else 404) and take ``action`` on it (else 403).

    The returned case carries ``user_actions``, the set of actions the user may take.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    case = (
        Case.objects.filter(visible_to(user), uuid=case_uuid)
        .select_related("owner_agency", "owner_agency__country", "lead_officer", "created_by")
        .first()
    )
    if case is None:
        raise Http404(_("No such case."))
    case.user_actions = case_permissions(user, [case])[case.pk]  # type: ignore[attr-defined]
    if action not in case.user_actions:  # type: ignore[attr-defined]
        raise PermissionDenied(_("You may not do this on this case."))
    return case


def case_country_list(case: Case) -> QuerySet[Country]:
    """The countries involved in a case (from ``get_case_for_user``), by name."""
    return case.countries.order_by("name")


def dashboard_counts(user: Any) -> dict[str, int]:
    """Visible cases by status, in one query."""
    rows = (
        Case.objects.filter(visible_to(user))
        .order_by()
        .values("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    counts = dict.fromkeys(Case.Status.values, 0)
    counts.update(dict(rows))
    return counts


OPEN_STATUSES = (Case.Status.OPEN, Case.Status.INVESTIGATION, Case.Status.PROSECUTION)


def agency_open_cases(user: Any, limit: int = 10) -> list[Case]:
    """The latest-changed open cases (open, investigation, prosecution) owned by the user's
    own agency that the user may see, in one query; none for users without an agency."""
    member = getattr(user, "member", None) if getattr(user, "is_authenticated", False) else None
    if member is None:
        return []
    return list(
        Case.objects.filter(
            visible_to(user), owner_agency_id=member.agency_id, status__in=OPEN_STATUSES
        )
        .select_related("owner_agency", "owner_agency__country")
        .order_by("-updated_at", "-id")[:limit]
    )


# --- what lives under a case ------------------------------------------------------------
# Each reader takes the ``Case`` returned by ``get_case_for_user`` (so the permission check
# has happened) or, for direct fetches by public id, the user.


def entity_list(case: Case) -> QuerySet[Entity]:
    return Entity.objects.filter(case=case).select_related("holder")


def get_entity_for_user(
    user: Any, case_uuid: UUID | str, entity_uuid: UUID | str, *, action: str = "view"
) -> Entity:
    """An entity of a case the user may act on; 404 if the entity is not in that case."""
    case = get_case_for_user(user, case_uuid, action=action)
    entity = Entity.objects.filter(case=case, uuid=entity_uuid).select_related("holder").first()
    if entity is None:
        raise Http404(_("No such entity."))
    entity.case = case
    return entity


def relationship_list(case: Case) -> QuerySet[Relationship]:
    return Relationship.objects.filter(case=case).select_related("source", "target")


def get_relationship_for_user(
    user: Any, case_uuid: UUID | str, relationship_uuid: UUID | str, *, action: str = "view"
) -> Relationship:
    case = get_case_for_user(user, case_uuid, action=action)
    relationship = relationship_list(case).filter(uuid=relationship_uuid).first()
    if relationship is None:
        raise Http404(_("No such relationship."))
    relationship.case = case
    return relationship


def movement_list(case: Case) -> QuerySet[Movement]:
    return (
        Movement.objects.filter(case=case)
        .select_related("origin", "destination")
        .prefetch_related("facilitators")
    )


def get_movement_for_user(
    user: Any, case_uuid: UUID | str, movement_uuid: UUID | str, *, action: str = "view"
) -> Movement:
    case = get_case_for_user(user, case_uuid, action=action)
    movement = movement_list(case).filter(uuid=movement_uuid).first()
    if movement is None:
        raise Http404(_("No such movement."))
    movement.case = case
    return movement


def note_list(case: Case) -> QuerySet[Note]:
    return Note.objects.filter(case=case).select_related("author")


def evidence_list(case: Case) -> QuerySet[Evidence]:
    return Evidence.objects.filter(case=case).select_related("uploaded_by")


def get_evidence_for_user(
    user: Any, case_uuid: UUID | str, evidence_uuid: UUID | str, *, action: str = "view"
) -> Evidence:
    case = get_case_for_user(user, case_uuid, action=action)
    evidence = evidence_list(case).filter(uuid=evidence_uuid).first()
    if evidence is None:
        raise Http404(_("No such evidence file."))
    evidence.case = case
    return evidence


def custody_list(evidence: Evidence) -> QuerySet[CustodyEntry]:
    return CustodyEntry.objects.filter(evidence=evidence).select_related("actor")


# --- what an entity is linked to -----------------------------------------------------------
# Each takes an entity returned by ``get_entity_for_user`` (so the permission check has
# happened and ``entity.case`` is loaded) and reads within that entity's case only.


def entity_holdings(entity: Entity) -> QuerySet[Entity]:
    """What the entity holds: phones, accounts, documents... whose holder it is."""
    return entity_list(entity.case).filter(holder=entity)


def entity_relationships(entity: Entity) -> QuerySet[Relationship]:
    """Relationships from or to the entity."""
    return relationship_list(entity.case).filter(Q(source=entity) | Q(target=entity))


def entity_movements(entity: Entity) -> QuerySet[Movement]:
    """Movements that start or end at the entity, or that it facilitated."""
    facilitated = Exists(MovementFacilitator.objects.filter(movement=OuterRef("pk"), entity=entity))
    return movement_list(entity.case).filter(Q(origin=entity) | Q(destination=entity) | facilitated)


def match_key_list(entity: Entity) -> QuerySet[MatchKey]:
    """The entity's own match keys; never another case's (hit/no-hit is a separate read)."""
    return MatchKey.objects.filter(entity=entity).order_by("key")
