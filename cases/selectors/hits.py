"""Cross-case hits and common keys, as each member is told about them."""

import datetime
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import overload
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils.translation import gettext as _

from casebook.auth import RequestUser, role_permissions
from casebook.models import Agency, Member
from cases.models import CommonKey, Entity, Hit, HitDetection, HitDismissal, MatchKey
from cases.permissions import CaseAccess
from cases.protection import is_protected
from cases.rules import key_kind_label
from cases.selectors.grants import visible_to

# --- cross-case hits (detection and writes in ``cases.services.hits``) ----------------------
# A hit between two cases the member may both see is a link between the two entities
# (``entity_matches``); a hit with a case they may not see is listed (``hit_list``) with only
# the other agency to contact. Nothing here counts or reads anything else of the other case.


def _protected_q(prefix: str = "") -> Q:
    """Entities (at ``prefix``) that are protected: by their role, or their holder's."""
    roles = sorted(Entity.PROTECTED_ROLES)
    return Q(**{f"{prefix}role__in": roles}) | Q(**{f"{prefix}holder__role__in": roles})


def _may_see_protected_of(user: RequestUser, prefix: str, case_ref: str) -> Q:
    """Entities at ``prefix`` the user may see unmasked: unprotected ones, and protected ones
    of cases on which the user may see protected identities."""
    if "cases.view_protected" not in role_permissions(user):
        return ~_protected_q(prefix)
    return ~_protected_q(prefix) | Q(visible_to(user, case_ref=case_ref, codename="view_protected"))


def _protected_entity(entity_ref: str) -> Exists:
    """Whether the entity named by the outer row's foreign key ``entity_ref`` is protected."""
    return Exists(Entity.objects.filter(_protected_q(), pk=OuterRef(entity_ref)))


def _may_be_told(agency_id: int, own_ref: str, other_ref: str, other_agency_ref: str) -> Q:
    """Hits an agency may be told of from its own side (``own_ref``): any within the agency;
    with another agency, none whose other side is a protected identity (its owner alone may
    be told), and one on the agency's own protected identity only if its policy allows it.
    Decided when read, from the roles and policy of that moment (``cases.rules.may_be_hit``)."""
    policy_allows = Exists(
        Agency.objects.filter(
            pk=agency_id, protected_match_policy=Agency.ProtectedMatchPolicy.OWNER_DECIDES
        )
    )
    own_side_ok = ~Q(_protected_entity(own_ref)) | Q(policy_allows)
    return Q(**{other_agency_ref: agency_id}) | (~Q(_protected_entity(other_ref)) & own_side_ok)


def _unmasked_entity(user: RequestUser, entity_ref: str, case_ref: str) -> Q:
    """``_may_see_protected_of`` for the entity named by the outer row's foreign key
    ``entity_ref``, as a subquery: on the hits query, two entities and their holders joined
    for it made PostgreSQL spend ten times longer planning than running the query."""
    protected = _protected_entity(entity_ref)
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
    # Who in the member's own agency found it (their write); "" if another agency's member,
    # nobody recorded, or the viewer is not a supervisor.
    triggered_by: str = ""


def _hits_for(user: RequestUser, *, show_dismissed: bool = False) -> QuerySet[Hit]:
    """Hits the user's agency is told about: one side's case is owned by the agency and seen
    by the user, the other is a case the user may not see; and the user may see their side's
    entity unmasked (a match on a protected identity is for those who may see it only).
    Members of agencies a case is shared with are not told of its hits: its owner is. A hit
    with another agency whose other side is a protected identity is never told (its owner
    alone may be, by its policy: ``_may_be_told``). Newest first; annotated with
    ``sees_case`` (the user's side is ``entity``/``case``) and ``dismissed`` (by the user's
    agency), without the agency's dismissed hits unless ``show_dismissed``."""
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
    own_first = (
        Q(case__owner_agency_id=agency_id, sees_case=True, sees_other=False)
        & _unmasked_entity(user, "entity_id", "case")
        & _may_be_told(agency_id, "entity_id", "other_id", "other_case__owner_agency_id")
    )
    own_second = (
        Q(other_case__owner_agency_id=agency_id, sees_case=False, sees_other=True)
        & _unmasked_entity(user, "other_id", "other_case")
        & _may_be_told(agency_id, "other_id", "entity_id", "case__owner_agency_id")
    )
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
        "triggered_by__username",
        "triggered_by__member__agency_id",
    )

    def __init__(self, queryset: QuerySet[Hit], *, supervisor_of: int | None = None) -> None:
        self.queryset = queryset
        # The agency whose members' names are shown as who found a hit (a supervisor's).
        self.supervisor_of = supervisor_of

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
                    triggered_by=(
                        row["triggered_by__username"] or ""
                        if self.supervisor_of is not None
                        and row["triggered_by__member__agency_id"] == self.supervisor_of
                        else ""
                    ),
                )
            )
        return result


def hit_list(
    user: RequestUser, *, show_dismissed: bool = False, entity: Entity | None = None
) -> HitList:
    """What the user is told about cross-case matches with cases they may not see (see
    ``_hits_for``), optionally for one of their entities only (from ``get_entity_for_user``)."""
    queryset = _hits_for(user, show_dismissed=show_dismissed)
    if entity is not None:
        queryset = queryset.filter(
            Q(entity=entity, sees_case=True) | Q(other=entity, sees_case=False)
        )
    member = getattr(user, "member", None) if getattr(user, "is_authenticated", False) else None
    supervisor_of = member.agency_id if member is not None and member.is_supervisor else None
    return HitList(queryset, supervisor_of=supervisor_of)


def get_hit_for_user(user: RequestUser, hit_uuid: UUID | str) -> Hit:
    """A hit the user is told about (dismissed or not); 404 for any other, as for an unknown
    id, so that a hit's existence is never disclosed through its id."""
    hit = _hits_for(user, show_dismissed=True).filter(uuid=hit_uuid).first()
    if hit is None:
        raise Http404(_("No such hit."))
    return hit


def entity_matches(access: CaseAccess, entity: Entity) -> list[Entity]:
    """The entities of other cases the user of ``access`` may see that share a match key with
    ``entity`` (from ``get_entity_for_user``, with ``access``), with their cases: shown as
    links. Matches with cases the user may not see are hits (``hit_list``), never counted
    here. None when ``entity`` is protected and the user may not see the protected identities
    of its case, and protected entities of other cases only to users who may see those: a
    link between a protected
    identity and a visible entity would show the protected value."""

    user = access.user
    if is_protected(entity) and not access.sees_protected:
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


def _supervisor(user: RequestUser) -> Member:
    """The user's membership if they are an active supervisor; 403 otherwise."""
    member: Member | None = (
        getattr(user, "member", None) if getattr(user, "is_authenticated", False) else None
    )
    if member is None or not member.is_supervisor or not user.is_active:
        raise PermissionDenied(_("Only supervisors review common keys."))
    return member


def common_key_list(user: RequestUser) -> QuerySet[CommonKey]:
    """The common keys (held in the cases of more than ``CASEBOOK_HIT_KEY_LIMIT`` distinct
    agencies), and the restored ones, held by an entity of a case the supervisor's agency
    owns and whose value the supervisor may see (the key of a protected identity only to
    those who may see it). Annotated with ``own_holders`` (how many such entities of the
    supervisor's own agency hold it: never how many others do), ``marked_by_agency`` and
    ``restored_by_agency`` (confirmed, restored by a member of the same agency; who did it
    elsewhere is not shown). 403 for members who are not supervisors."""
    member = _supervisor(user)
    holders = (
        MatchKey.objects.filter(key=OuterRef("key"), case__owner_agency_id=member.agency_id)
        .filter(visible_to(user, case_ref="case"))
        .filter(_may_see_protected_of(user, "entity__", "case"))
    )
    own_holders = holders.order_by().values("key").annotate(n=Count("entity_id")).values("n")
    return (
        CommonKey.objects.filter(Exists(holders))
        .annotate(
            own_holders=Coalesce(Subquery(own_holders, output_field=IntegerField()), 0),
            marked_by_agency=ExpressionWrapper(
                Q(marked_common_by__member__agency_id=member.agency_id),
                output_field=BooleanField(),
            ),
            restored_by_agency=ExpressionWrapper(
                Q(restored_by__member__agency_id=member.agency_id),
                output_field=BooleanField(),
            ),
        )
        .select_related("marked_common_by", "restored_by")
        .order_by("-first_seen_at", "key")
    )


def detection_list(user: RequestUser) -> QuerySet[HitDetection]:
    """The hit detections of the supervisor's agency that were deferred by the hourly budgets
    (``cases.services.hits.detection_request``): those still waiting, then those run later, newest
    first, with the member and the number of new values; nothing of the entity or its case.
    403 for members who are not supervisors."""
    member = _supervisor(user)
    return (
        HitDetection.objects.filter(agency_id=member.agency_id)
        .exclude(state=HitDetection.State.ALLOWED)
        .select_related("actor")
        .order_by(F("counted_at").desc(nulls_first=True), "-requested_at", "-id")
    )


def get_common_key_for_supervisor(user: RequestUser, key_uuid: UUID | str) -> CommonKey:
    """A common key of ``common_key_list(user)``; 404 for any other (403 as that list)."""
    common_key = common_key_list(user).filter(uuid=key_uuid).first()
    if common_key is None:
        raise Http404(_("No such common key."))
    return common_key
