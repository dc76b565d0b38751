"""The cases app's answers to the core's questions about cases (``casebook.caselookups``)."""

from typing import Any
from uuid import UUID

from django.db.models import QuerySet

from casebook.auth import RequestUser
from casebook.caselookups import CaseLookups
from cases.models import Case
from cases.selectors.grants import visible_to


def _visible_ids_by_reference(user: RequestUser, reference: str) -> list[int]:
    rows = Case.objects.filter(visible_to(user), reference__iexact=reference)
    return list(rows.values_list("pk", flat=True))


def _owned_by(agency_id: int) -> QuerySet[Any]:
    return Case.objects.filter(owner_agency_id=agency_id)


def _id_and_reference(case_uuid: UUID) -> tuple[int, str] | None:
    # The one lookup of a case outside the permission filter. It is safe: the id and
    # reference go into an access-log row only, which the owner agency's supervisors read to
    # see who tried to reach their case; the requester gets the same 404 or 403 whether the
    # case exists or not, and their own supervisors are not shown the reference of a case
    # they may not see (``casebook.selectors.access_log_for_supervisor``).
    return Case.objects.filter(uuid=case_uuid).values_list("pk", "reference").first()


def case_lookups() -> CaseLookups:
    return CaseLookups(
        visible=visible_to,
        visible_ids_by_reference=_visible_ids_by_reference,
        owned_by=_owned_by,
        id_and_reference=_id_and_reference,
    )
