"""Cases: the list, its counts and pages, one case by public id, the dashboard."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import overload
from uuid import UUID

from django.contrib.auth.models import User
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from casebook import access
from casebook.auth import RequestUser
from casebook.models import Country
from cases.models import Case
from cases.permissions import ACTIONS, CaseAccess
from cases.selectors.grants import case_permissions, visible_case_ids, visible_to


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


def case_list(user: RequestUser, *, filters: CaseFilters | None = None) -> QuerySet[Case]:
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


def case_count(user: RequestUser, *, filters: CaseFilters | None = None) -> int:
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

    user: RequestUser
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


def get_case_access(user: User, case_uuid: UUID | str, *, action: str = "view") -> CaseAccess:
    """The case with what the user may do on it, if they may see it (else 404) and take
    ``action`` on it (else 403).

    The read is written to the access log (``casebook.access.record``; a refusal is logged
    by its middleware).
    """
    case_access = _case_access(user, case_uuid, action=action)
    case = case_access.case
    access.record(action=action, object_type="case", case=case, object_uuid=case.uuid)
    return case_access


def _case_access(user: User, case_uuid: UUID | str, *, action: str) -> CaseAccess:
    """``get_case_access`` without the access log, for the selectors of what lives under a
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
    case_access = CaseAccess(
        user=user, case=case, actions=frozenset(case_permissions(user, [case])[case.pk])
    )
    case_access.require(action)
    return case_access


def case_country_list(case: Case) -> QuerySet[Country]:
    """The countries involved in a case (from ``get_case_access``), by name."""
    return case.countries.order_by("name")


def dashboard_counts(user: RequestUser) -> dict[str, int]:
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


def agency_open_cases(user: RequestUser, limit: int = 10) -> list[Case]:
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
