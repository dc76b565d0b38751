"""Permission-aware reads of case data: the only way views, tasks and exports get case rows.

Visibility is one SQL filter, an ``Exists()`` over the direct foreign-key permission table
(``CaseGroupObjectPermission``) for the groups of the asking user's agency. A member of
another agency gets 404 for what they may not see, never 403: existence is not disclosed.
Superusers get nothing implicitly: they administer the installation, not its cases.

Sharing (a later issue) adds rows to the permission table; it changes data, not this code.
"""

import datetime
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, overload
from uuid import UUID

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Permission
from django.core.exceptions import PermissionDenied
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
)
from django.db.models.signals import m2m_changed
from django.dispatch import receiver
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from casebook import access
from casebook.auth import role_permissions
from casebook.models import Agency, Country
from cases import protection
from cases.models import (
    Case,
    CaseGroupObjectPermission,
    CaseShare,
    CommonKey,
    CustodyEntry,
    Entity,
    Evidence,
    Hit,
    HitDismissal,
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


def _agency_group_ids(user: Any) -> list[int]:
    """The groups through which the user holds grants: those of their active agency.

    Read once per user object (that is, once per request) and given to the queries as
    values, not as a subquery: PostgreSQL then plans with the number of grants of that very
    group. Behind a subquery it assumes an average agency's, and for an agency that sees
    5,000 of 50,000 cases it sorts all 5,000 for a page of 25 instead of walking the
    ``updated_at`` index (bench/sharing.py: 15,000 buffers instead of 1,000). The cache is
    dropped when the user's groups change through ``user.groups`` (``m2m_changed`` below).
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    cached: list[int] | None = getattr(user, "_casebook_group_ids", None)
    if cached is None:
        cached = list(user.groups.filter(agency__isnull=False).values_list("id", flat=True))
        user._casebook_group_ids = cached
    return cached


@receiver(m2m_changed, sender=get_user_model().groups.through)
def _forget_group_ids(sender: Any, instance: Any, action: str, **kwargs: Any) -> None:
    """A user's groups changed: read them again on the next query."""
    if action in ("post_add", "post_remove", "post_clear"):
        instance.__dict__.pop("_casebook_group_ids", None)


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


def visible_case_ids(user: Any, *, codename: str = "view_case") -> QuerySet[Any]:
    """The ids of the cases the user's agency holds ``codename`` on, as a subquery: the set
    that ``visible_to`` tests row by row, from the same live grants. Cheaper than going
    through the cases when the ids are all that is needed (counting them, driving a query)."""
    grants = live_grants(user).filter(permission_id=permission_id(codename))
    return grants.values("content_object_id")


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

    def narrows(self) -> bool:
        """Whether the filters leave out some of the cases the user may see."""
        return bool(self.status or self.kind or self.country or self.text)


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
    """Cases the user may see, filtered and ordered, with what list pages display. The read
    is written to the access log, with the filters (``casebook.access.record``)."""
    filters = filters or CaseFilters()
    access.record(action="view", object_type="case_list", detail=_filters_detail(filters))
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


def _filters_detail(filters: CaseFilters) -> str:
    """The filters that differ from the defaults, as "name=value" pairs."""
    defaults = CaseFilters()
    return " ".join(
        f"{name}={value}"
        for name, value in vars(filters).items()
        if value != getattr(defaults, name)
    )


def case_count(user: Any, *, filters: CaseFilters | None = None) -> int:
    """``case_list(user, filters=filters).count()``. When no filter narrows the list, counted
    on the grants (``visible_case_ids``: each live grant names one case) without reading the
    cases."""
    filters = filters or CaseFilters()
    if filters.narrows():
        return case_list(user, filters=filters).count()
    return visible_case_ids(user).distinct().count()


@dataclass(frozen=True)
class CaseResults:
    """``case_list(user, filters=filters)`` for a ``Paginator``, in three small queries.

    Counted with ``case_count``; a slice (``results[1225:1250]``) reads the page's ids in
    list order first, a sort of narrow rows, then those cases with what list pages display,
    so a deep page costs a sort of ids, not of whole rows.
    """

    user: Any
    filters: CaseFilters = CaseFilters()

    def count(self) -> int:
        return case_count(self.user, filters=self.filters)

    def __len__(self) -> int:
        return self.count()

    def __iter__(self) -> Iterator[Case]:
        return iter(case_list(self.user, filters=self.filters))

    @overload
    def __getitem__(self, index: int) -> Case: ...

    @overload
    def __getitem__(self, index: slice) -> list[Case]: ...

    def __getitem__(self, index: int | slice) -> Case | list[Case]:
        if isinstance(index, int):
            found = self[index : index + 1]
            if not found:
                raise IndexError(index)
            return found[0]
        cases = case_list(self.user, filters=self.filters)
        ids = list(cases.values_list("pk", flat=True)[index])
        if not ids:
            return []
        by_id = {case.pk: case for case in cases.filter(pk__in=ids).order_by()}
        # A case whose grant ended between the two reads is left out, never shown.
        return [by_id[pk] for pk in ids if pk in by_id]


def get_case_for_user(user: Any, case_uuid: UUID | str, *, action: str = "view") -> Case:
    """The case if the user may see it (else 404) and take ``action`` on it (else 403).

    The returned case carries ``user_actions``, the set of actions the user may take. The
    read is written to the access log (``casebook.access.record``; a refusal is logged by
    its middleware).
    """
    case = _case_for_user(user, case_uuid, action=action)
    access.record(action=action, object_type="case", case=case, object_uuid=case.uuid)
    return case


def _case_for_user(user: Any, case_uuid: UUID | str, *, action: str) -> Case:
    """``get_case_for_user`` without the access log, for the selectors of what lives under a
    case: they log the object that was read instead."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    # A 404 or 403 below is logged as a refusal of this action ("contribute", "change"...).
    access.attempting(action)
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
#
# Protected identities are masked here (``cases.protection``): for a member who may not see
# them (``"view_protected" not in case.user_actions``), every entity, relationship, movement
# and evidence file these querysets return has the identifying values of victims, witnesses
# and informants (and of what they hold) replaced by pseudonyms, however the queryset is then
# filtered, ordered or iterated. ``values()``/``values_list()`` read raw columns: ids only.


def entity_list(case: Case) -> QuerySet[Entity]:
    """The case's entities with their holders, masked for the member who fetched the case."""
    return protection.masked_entities(
        Entity.objects.filter(case=case).select_related("holder"), case
    )


def get_entity_for_user(
    user: Any, case_uuid: UUID | str, entity_uuid: UUID | str, *, action: str = "view"
) -> Entity:
    """An entity of a case the user may act on; 404 if the entity is not in that case.

    Masked if protected and the user may not see protected identities; then 403 for any
    action but "view": editing requires seeing what one edits.
    """
    case = _case_for_user(user, case_uuid, action=action)
    entity = entity_list(case).filter(uuid=entity_uuid).first()
    if entity is None:
        raise Http404(_("No such entity."))
    if action != "view" and protection.is_masked(entity):
        raise PermissionDenied(_("Only those who may see this protected identity may change it."))
    access.record(action=action, object_type="entity", case=case, object_uuid=entity.uuid)
    entity.case = case
    return entity


def relationship_list(case: Case) -> QuerySet[Relationship]:
    """The case's relationships with both ends (and their holders: whether an end is
    protected depends on them), masked for the member who fetched the case."""
    return protection.masked_relationships(
        Relationship.objects.filter(case=case).select_related("source__holder", "target__holder"),
        case,
    )


def relationships_with_ends(case: Case, entities: Sequence[Entity]) -> list[Relationship]:
    """``relationship_list(case)``, for a page that has read the case's entities already with
    ``entity_list(case)``: each end is taken from ``entities`` (masked as that list is)
    instead of being read and masked again, which doubled the model instances of a case page.
    """
    by_pk = {entity.pk: entity for entity in entities}
    relationships = list(Relationship.objects.filter(case=case))
    ends = {r.source_id for r in relationships} | {r.target_id for r in relationships}
    if not ends <= by_pk.keys():
        return list(relationship_list(case))
    mask = not protection.may_see_protected(case)
    for relationship in relationships:
        relationship.case = case
        relationship.source = by_pk[relationship.source_id]
        relationship.target = by_pk[relationship.target_id]
        if mask:
            protection.mask_relationship(relationship, case)
    return relationships


def get_relationship_for_user(
    user: Any, case_uuid: UUID | str, relationship_uuid: UUID | str, *, action: str = "view"
) -> Relationship:
    case = _case_for_user(user, case_uuid, action=action)
    relationship = relationship_list(case).filter(uuid=relationship_uuid).first()
    if relationship is None:
        raise Http404(_("No such relationship."))
    access.record(
        action=action, object_type="relationship", case=case, object_uuid=relationship.uuid
    )
    relationship.case = case
    return relationship


def movement_list(case: Case) -> QuerySet[Movement]:
    """The case's movements with their places and facilitators (and their holders), masked
    for the member who fetched the case."""
    facilitators = Prefetch("facilitators", queryset=protection.facilitator_queryset(case))
    return protection.masked_movements(
        Movement.objects.filter(case=case)
        .select_related("origin__holder", "destination__holder")
        .prefetch_related(facilitators),
        case,
    )


def get_movement_for_user(
    user: Any, case_uuid: UUID | str, movement_uuid: UUID | str, *, action: str = "view"
) -> Movement:
    case = _case_for_user(user, case_uuid, action=action)
    movement = movement_list(case).filter(uuid=movement_uuid).first()
    if movement is None:
        raise Http404(_("No such movement."))
    access.record(action=action, object_type="movement", case=case, object_uuid=movement.uuid)
    movement.case = case
    return movement


def note_list(case: Case) -> QuerySet[Note]:
    return Note.objects.filter(case=case).select_related("author")


def evidence_list(case: Case) -> QuerySet[Evidence]:
    """The case's evidence files; protected ones masked for the member who fetched the case."""
    return protection.masked_evidence(
        Evidence.objects.filter(case=case).select_related("uploaded_by"), case
    )


def get_evidence_for_user(
    user: Any,
    case_uuid: UUID | str,
    evidence_uuid: UUID | str,
    *,
    action: str = "view",
    logged_as: str = "",
) -> Evidence:
    """An evidence file of a case the user may act on; 404 if it is not in that case. The
    access log records ``logged_as`` (e.g. "download"), by default ``action``.

    A protected file is masked for a user who may not see protected identities, and its
    download (``logged_as="download"``) is a 404: its content would show what its name hides.
    """
    case = _case_for_user(user, case_uuid, action=action)
    evidence = evidence_list(case).filter(uuid=evidence_uuid).first()
    if evidence is None or (logged_as == "download" and protection.is_masked(evidence)):
        raise Http404(_("No such evidence file."))
    access.record(
        action=logged_as or action, object_type="evidence", case=case, object_uuid=evidence.uuid
    )
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
    """The entity's own match keys; never another case's (hit/no-hit is a separate read).
    None for a masked entity: its keys are its identifying values."""
    if protection.is_masked(entity):
        return MatchKey.objects.none()
    return MatchKey.objects.filter(entity=entity).order_by("key")


# --- sharing -------------------------------------------------------------------------------


def share_list(case: Case) -> QuerySet[CaseShare]:
    """Every share of a case (from ``get_case_for_user(..., action="manage")``), open and
    ended, newest first, with what the sharing page shows."""
    return CaseShare.objects.filter(case=case).select_related(
        "agency__country", "granted_by", "granted_by_agency", "ended_by"
    )


def get_share_for_user(user: Any, case_uuid: UUID | str, share_uuid: UUID | str) -> CaseShare:
    """A share of a case the user may manage (404 / 403 as ``get_case_for_user``); 404 if the
    share is not one of that case's. Whether the user may revoke it is the service's to say."""
    case = _case_for_user(user, case_uuid, action="manage")
    share = share_list(case).filter(uuid=share_uuid).first()
    if share is None:
        raise Http404(_("No such share."))
    access.record(action="manage", object_type="share", case=case, object_uuid=share.uuid)
    share.case = case
    return share


def share_target_agencies(case: Case, agency: Agency) -> list[Agency]:
    """The agencies a share form offers: all but the case's owner and the sharing agency
    (by country, then name)."""
    return list(
        Agency.objects.exclude(pk__in=[case.owner_agency_id, agency.pk])
        .select_related("country")
        .order_by("country__name", "name")
    )


# --- cross-case hits (detection and writes in ``cases.hits``) ------------------------------
# A hit between two cases the member may both see is a link between the two entities
# (``entity_matches``); a hit with a case they may not see is listed (``hit_list``) with only
# the other agency to contact. Nothing here counts or reads anything else of the other case.


def _protected_q(prefix: str = "") -> Q:
    """Entities (at ``prefix``) that are protected: by their role, or their holder's."""
    roles = sorted(Entity.PROTECTED_ROLES)
    return Q(**{f"{prefix}role__in": roles}) | Q(**{f"{prefix}holder__role__in": roles})


def _may_see_protected_of(user: Any, prefix: str, case_ref: str) -> Q:
    """Entities at ``prefix`` the user may see unmasked: unprotected ones, and protected ones
    of cases on which the user may see protected identities."""
    if "cases.view_protected" not in role_permissions(user):
        return ~_protected_q(prefix)
    return ~_protected_q(prefix) | Q(visible_to(user, case_ref=case_ref, codename="view_protected"))


def _unmasked_entity(user: Any, entity_ref: str, case_ref: str) -> Q:
    """``_may_see_protected_of`` for the entity named by the outer row's foreign key
    ``entity_ref``, as a subquery: on the hits query, two entities and their holders joined
    for it made PostgreSQL spend ten times longer planning than running the query."""
    protected = Exists(Entity.objects.filter(_protected_q(), pk=OuterRef(entity_ref)))
    if "cases.view_protected" not in role_permissions(user):
        return ~Q(protected)
    return ~Q(protected) | Q(visible_to(user, case_ref=case_ref, codename="view_protected"))


@dataclass(frozen=True)
class HitRow:
    """A hit as one member is told about it: their own entity (with its case) and, of the
    other side, only the agency to contact and the date. Nothing else of the other case is
    read from the database."""

    uuid: UUID
    created_at: datetime.datetime
    entity: Entity
    key_kind: str
    agency_name: str
    agency_acronym: str
    country_name: str
    contact_point: str
    dismissed: bool


def _hits_for(user: Any, *, show_dismissed: bool = False) -> QuerySet[Hit]:
    """Hits the user's agency is told about: one side's case is owned by the agency and seen
    by the user, the other is a case the user may not see; and the user may see their side's
    entity unmasked (a match on a protected identity is for those who may see it only).
    Members of agencies a case is shared with are not told of its hits: its owner is.
    Newest first; annotated with ``sees_case`` (the user's side is ``entity``/``case``) and
    ``dismissed`` (by the user's agency), without the agency's dismissed hits unless
    ``show_dismissed``."""
    member = getattr(user, "member", None) if getattr(user, "is_authenticated", False) else None
    if member is None or "cases.view_case" not in role_permissions(user):
        nothing = Value(False, output_field=BooleanField())
        return Hit.objects.none().annotate(sees_case=nothing, dismissed=nothing)
    agency_id = member.agency_id
    # own_first/own_second below name the owner agency through the cases' joins; an
    # ``IN (cases owned)`` filter in front of them hashed every case the agency owns.
    queryset = Hit.objects.annotate(
        sees_case=visible_to(user, case_ref="case"),
        sees_other=visible_to(user, case_ref="other_case"),
        dismissed=Exists(HitDismissal.objects.filter(hit=OuterRef("pk"), agency_id=agency_id)),
    )
    own_first = Q(
        case__owner_agency_id=agency_id, sees_case=True, sees_other=False
    ) & _unmasked_entity(user, "entity_id", "case")
    own_second = Q(
        other_case__owner_agency_id=agency_id, sees_case=False, sees_other=True
    ) & _unmasked_entity(user, "other_id", "other_case")
    queryset = queryset.filter(own_first | own_second)
    if not show_dismissed:
        queryset = queryset.filter(dismissed=False)
    return queryset.order_by("-created_at", "-id")


class HitList(Sequence[HitRow]):
    """The hits a member is told about as ``HitRow``s, newest first. Counted and sliced like
    a queryset (``Paginator`` takes it): a slice, or iterating, costs three queries whatever
    its length."""

    _FIELDS = (
        "uuid",
        "created_at",
        "key",
        "entity_id",
        "other_id",
        "sees_case",
        "dismissed",
        "case__owner_agency_id",
        "other_case__owner_agency_id",
    )

    def __init__(self, queryset: QuerySet[Hit]) -> None:
        self.queryset = queryset

    def __len__(self) -> int:
        return self.queryset.count()

    def __iter__(self) -> Iterator[HitRow]:
        return iter(self[:])

    @overload
    def __getitem__(self, index: int) -> HitRow: ...

    @overload
    def __getitem__(self, index: slice) -> list[HitRow]: ...

    def __getitem__(self, index: int | slice) -> HitRow | list[HitRow]:
        if isinstance(index, int):
            if index < 0:
                raise IndexError("HitList takes no negative index")
            found = self[index : index + 1]
            if not found:
                raise IndexError(index)
            return found[0]
        from cases.hits import key_kind_label

        rows = list(self.queryset.values(*self._FIELDS)[index])
        own_ids, agency_ids = [], []
        for row in rows:
            mine_first = row["sees_case"]
            own_ids.append(row["entity_id"] if mine_first else row["other_id"])
            agency_ids.append(
                row["other_case__owner_agency_id"] if mine_first else row["case__owner_agency_id"]
            )
        entities = Entity.objects.select_related("case", "holder").in_bulk(own_ids)
        agencies = Agency.objects.select_related("country").in_bulk(agency_ids)
        result = []
        for row, own_id, agency_id in zip(rows, own_ids, agency_ids, strict=True):
            agency = agencies[agency_id]
            result.append(
                HitRow(
                    uuid=row["uuid"],
                    created_at=row["created_at"],
                    entity=entities[own_id],
                    key_kind=key_kind_label(row["key"]),
                    agency_name=agency.name,
                    agency_acronym=agency.acronym,
                    country_name=agency.country.name,
                    contact_point=agency.contact_point,
                    dismissed=row["dismissed"],
                )
            )
        return result


def hit_list(user: Any, *, show_dismissed: bool = False, entity: Entity | None = None) -> HitList:
    """What the user is told about cross-case matches with cases they may not see (see
    ``_hits_for``), optionally for one of their entities only (from ``get_entity_for_user``)."""
    queryset = _hits_for(user, show_dismissed=show_dismissed)
    if entity is not None:
        queryset = queryset.filter(
            Q(entity=entity, sees_case=True) | Q(other=entity, sees_case=False)
        )
    return HitList(queryset)


def get_hit_for_user(user: Any, hit_uuid: UUID | str) -> Hit:
    """A hit the user is told about (dismissed or not); 404 for any other, as for an unknown
    id, so that a hit's existence is never disclosed through its id."""
    hit = _hits_for(user, show_dismissed=True).filter(uuid=hit_uuid).first()
    if hit is None:
        raise Http404(_("No such hit."))
    return hit


def entity_matches(user: Any, entity: Entity) -> list[Entity]:
    """The entities of other cases the user may see that share a match key with ``entity``
    (from ``get_entity_for_user``), with their cases: shown as links. Matches with cases the
    user may not see are hits (``hit_list``), never counted here. None when ``entity`` is
    protected and the user may not see the protected identities of its case, and protected
    entities of other cases only to users who may see those: a link between a protected
    identity and a visible entity would show the protected value."""
    from cases.protection import is_protected, may_see_protected

    if is_protected(entity) and not may_see_protected(entity.case):
        return []
    linked = Q(pk__in=Hit.objects.filter(other=entity).values("entity_id")) | Q(
        pk__in=Hit.objects.filter(entity=entity).values("other_id")
    )
    return list(
        Entity.objects.filter(linked)
        .filter(visible_to(user, case_ref="case"))
        .filter(_may_see_protected_of(user, "", "case"))
        .exclude(case_id=entity.case_id)
        .select_related("case", "case__owner_agency", "holder")
        .order_by("case__reference", "kind", "name", "id")
    )


def common_key_list(user: Any) -> QuerySet[CommonKey]:
    """The common keys (over ``CASEBOOK_HIT_KEY_LIMIT``) held by an entity of a case the
    supervisor's agency owns and whose value the supervisor may see (the key of a protected
    identity only to those who may see it), with ``marked_by_agency``: confirmed by a member
    of the same agency. 403 for members who are not supervisors."""
    member = getattr(user, "member", None) if getattr(user, "is_authenticated", False) else None
    if member is None or not member.is_supervisor or not user.is_active:
        raise PermissionDenied(_("Only supervisors review common keys."))
    holders = (
        MatchKey.objects.filter(key=OuterRef("key"), case__owner_agency_id=member.agency_id)
        .filter(visible_to(user, case_ref="case"))
        .filter(_may_see_protected_of(user, "entity__", "case"))
    )
    return (
        CommonKey.objects.filter(Exists(holders))
        .annotate(
            marked_by_agency=ExpressionWrapper(
                Q(marked_common_by__member__agency_id=member.agency_id),
                output_field=BooleanField(),
            )
        )
        .select_related("marked_common_by")
        .order_by("-first_seen_at", "key")
    )


def get_common_key_for_supervisor(user: Any, key_uuid: UUID | str) -> CommonKey:
    """A common key of ``common_key_list(user)``; 404 for any other (403 as that list)."""
    common_key = common_key_list(user).filter(uuid=key_uuid).first()
    if common_key is None:
        raise Http404(_("No such common key."))
    return common_key
