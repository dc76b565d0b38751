"""Writes to a case itself: creating it (with its reference and the owner's grants) and
changing its core fields. See ``cases.services`` for the contract of every service."""

import datetime
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from casebook.audit import attribute_to
from casebook.auth import ADD_CASE, may
from casebook.models import Agency, Country
from cases import outbox
from cases.models import (
    Case,
    CaseCountry,
    CaseEvent,
    CaseGroupObjectPermission,
    ReferenceSequence,
)
from cases.permissions import OWNER_PERMISSIONS, CaseAccess, permission_id
from cases.services.guards import acting_member

# What ``case_update`` changes. Not the handling code: raising it decides the fate of shares
# the new code would not allow, so it changes only through
# ``services.case_set_handling_code``.
CASE_FIELDS = (
    "title",
    "kind",
    "status",
    "summary",
    "lead_officer",
    "opened_on",
    "closed_on",
)


def _check_lead_officer(lead_officer: User | None, agency: Agency) -> None:
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


def references_reserve(*, slots: Sequence[tuple[str, int]]) -> list[str]:
    """Case references for new cases, one per (owner country code, opening year) of ``slots``,
    in order: e.g. ``[("PA", 2026), ("PA", 2026)]`` gives ``["PA-2026-00042", "PA-2026-00043"]``.

    Takes one block of numbers per country and year from its sequence row, locked until the
    caller's transaction ends (call inside one), so that no other writer gets the same number;
    a number is never handed out twice, even if the case that got it is deleted later or never
    written (a gap). Rows are locked in (country, year) order, so that two callers never wait
    for each other's locks in a circle.
    """
    wanted = Counter(slots)
    next_number: dict[tuple[str, int], int] = {}
    for (country, year), count in sorted(wanted.items()):
        sequence, _created = ReferenceSequence.objects.select_for_update().get_or_create(
            country_id=country, year=year
        )
        next_number[(country, year)] = sequence.last_number + 1
        sequence.last_number += count
        sequence.save(update_fields=["last_number"])
    references = []
    for country, year in slots:
        references.append(f"{country}-{year}-{next_number[(country, year)]:05d}")
        next_number[(country, year)] += 1
    return references


def next_reference(*, country: Country, year: int) -> str:
    """The next case reference of a country and year, e.g. ``PA-2026-00042``.

    Call inside a transaction: locks the sequence row until commit, so two agencies of one
    country never get the same number, and a number is never handed out twice even if the
    case that got it is deleted later (``references_reserve`` with one slot).
    """
    return references_reserve(slots=[(country.code, year)])[0]


def owner_grant_rows(*, case_id: int, group_id: int) -> list[CaseGroupObjectPermission]:
    """The grant rows, unsaved, that give an owner agency's group (``group_id``) its
    permissions (``OWNER_PERMISSIONS``) on a new case: for a writer that saves many cases'
    rows in one bulk insert. ``grant_owner_permissions`` saves them for one case."""
    return [
        CaseGroupObjectPermission(
            content_object_id=case_id, group_id=group_id, permission_id=permission_id(codename)
        )
        for codename in OWNER_PERMISSIONS
    ]


def grant_owner_permissions(*, case: Case, group: Group) -> None:
    """Give the owner agency's group its permissions on a new case."""
    CaseGroupObjectPermission.objects.bulk_create(
        owner_grant_rows(case_id=case.pk, group_id=group.pk)
    )


def _set_countries(*, case: Case, countries: Iterable[Country], actor: User) -> None:
    wanted = {country.pk for country in countries}
    existing = {cc.country_id: cc for cc in case.case_countries.all()}
    for code, link in existing.items():
        if code not in wanted:
            attribute_to(link, actor)
            link.delete()
    for code in sorted(wanted - existing.keys()):
        link = CaseCountry(case=case, country_id=code)
        attribute_to(link, actor)
        link.save()


@transaction.atomic
def case_create(
    *,
    actor: User,
    agency: Agency,
    title: str,
    kind: str,
    handling_code: str,
    status: str = Case.Status.OPEN,
    summary: str = "",
    countries: Iterable[Country] = (),
    lead_officer: User | None = None,
    opened_on: datetime.date | None = None,
    closed_on: datetime.date | None = None,
) -> Case:
    """Create a case owned by ``agency`` and grant the agency its permissions.

    The reference is assigned here from the owner country's sequence for the opening year.
    ``actor`` must be an active member of ``agency`` whose roles let them open cases
    (``PermissionDenied`` otherwise).
    """
    member = getattr(actor, "member", None)
    if member is None or member.agency_id != agency.pk or not may(actor, ADD_CASE):
        raise PermissionDenied(_("You may not open cases."))
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
    attribute_to(case, actor)
    case.save()
    _set_countries(case=case, countries=countries, actor=actor)
    grant_owner_permissions(case=case, group=agency.group)
    outbox.case_changed(case=case, what=CaseEvent.What.CASE, actor=actor, object_uuid=case.uuid)
    return case


@transaction.atomic
def case_update(
    *, access: CaseAccess, countries: Iterable[Country] | None = None, **changes: Any
) -> Case:
    """Change a case's core fields (any of ``CASE_FIELDS``) and countries involved; the user
    of ``access`` must be allowed to change the case (``PermissionDenied`` otherwise).

    Not its handling code (``TypeError``): that goes through
    ``services.case_set_handling_code``, which decides on the shares it would not allow.
    """
    actor, case = acting_member(access, "change"), access.case
    if "handling_code" in changes:
        raise TypeError("change the handling code with services.case_set_handling_code")
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
    attribute_to(case, actor)
    case.save()
    if countries is not None:
        _set_countries(case=case, countries=countries, actor=actor)
    outbox.case_changed(case=case, what=CaseEvent.What.CASE, actor=actor, object_uuid=case.uuid)
    return case
