"""Helpers shared by the sharing tests (``test_share_*.py``, ``test_reshares.py``,
``test_handling_code.py``, ``test_sharing_views.py``): the clock, a share with a purpose, and
what a refused share must leave unchanged. The personas (``cr_supervisor``, ``gt_police``,
``partner``...) are in tests/conftest.py."""

import datetime
from typing import Any

from django.contrib.auth.models import User
from django.urls import reverse

from casebook.models import Agency, Notification
from cases import selectors, services
from cases.models import Case, CaseGroupObjectPermission, CaseShare
from cases.selectors import case_access
from tests.factories import AgencyFactory

Code = Case.HandlingCode
Level = CaseShare.Level
NOW = datetime.datetime(2026, 5, 4, 12, 0, tzinfo=datetime.UTC)
PURPOSE = "Joint investigation of the Darién smuggling route"


def new_agency(**values: Any) -> Agency:
    return AgencyFactory.create(**values)


def share(
    actor: User, case: Case, agency: Agency, level: str = Level.VIEW, **values: Any
) -> CaseShare:
    values.setdefault("purpose", PURPOSE)
    return services.case_share(
        access=case_access(actor, case), agency=agency, level=level, **values
    )


def stored() -> tuple[int, int, int]:
    """What a refused share must not change: shares, grants and notifications."""
    return (
        CaseShare.objects.count(),
        CaseGroupObjectPermission.objects.count(),
        Notification.objects.count(),
    )


def visible_ids(user: User) -> set[int]:
    return set(selectors.case_list(user).values_list("pk", flat=True))


def actions(user: User, case: Case) -> set[str]:
    return selectors.case_permissions(user, [case])[case.pk]


def shares_url(case: Case) -> str:
    return reverse("cases:shares", kwargs={"case": case.uuid})


NOTIFICATIONS = reverse("notifications")


def revoke_url(the_share: CaseShare) -> str:
    return reverse(
        "cases:share_revoke", kwargs={"case": the_share.case.uuid, "share": the_share.uuid}
    )


def reloaded(the_share: CaseShare) -> CaseShare:
    the_share.refresh_from_db()
    return the_share
