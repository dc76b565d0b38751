"""Grants: which cases a user's agency holds which permission on, and what the user may
do on them. Every other selector filters through ``visible_to`` or ``live_grants``."""

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.signals import m2m_changed
from django.dispatch import receiver
from django.utils import timezone

from casebook.auth import RequestUser, role_permissions
from cases.models import Case, CaseGroupObjectPermission
from cases.permissions import ACTIONS, permission_id


def agency_group_ids(user: RequestUser) -> list[int]:
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
        user._casebook_group_ids = cached  # type: ignore[attr-defined]  # our per-request cache
    return cached


@receiver(m2m_changed, sender=get_user_model().groups.through)
def _forget_group_ids(sender: Any, instance: Any, action: str, **kwargs: Any) -> None:
    """A user's groups changed: read them again on the next query."""
    if action in ("post_add", "post_remove", "post_clear"):
        instance.__dict__.pop("_casebook_group_ids", None)


def live_grants(user: RequestUser) -> QuerySet[CaseGroupObjectPermission]:
    """The grants the user holds right now through their agency: the one definition of a
    live grant. An expired share stops here at its expiry, before the clean-up task runs."""
    return CaseGroupObjectPermission.objects.filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()),
        group_id__in=agency_group_ids(user),
    )


def visible_to(user: RequestUser, *, case_ref: str = "pk", codename: str = "view_case") -> Exists:
    """``Exists()`` that is true for rows whose case (``case_ref``) the user's agency holds
    ``codename`` on. Use it in every read: ``Model.objects.filter(visible_to(user, ...))``."""
    return Exists(
        live_grants(user).filter(
            content_object=OuterRef(case_ref), permission_id=permission_id(codename)
        )
    )


def visible_case_ids(user: RequestUser, *, codename: str = "view_case") -> QuerySet[Any]:
    """The ids of the cases the user's agency holds ``codename`` on, as a subquery: the set
    that ``visible_to`` tests row by row, from the same live grants. Cheaper than going
    through the cases when the ids are all that is needed (counting them, driving a query)."""
    grants = live_grants(user).filter(permission_id=permission_id(codename))
    return grants.values("content_object_id")


def case_permissions(user: RequestUser, cases: list[Case]) -> dict[int, set[str]]:
    """The actions (``ACTIONS`` keys) the user may take on each case, in one query.

    Intersects the agency's object grants with the member's roles. Used by pages to decide
    which buttons to show; the services check again against the ``CaseAccess`` they are given.
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


def can_see_protected(user: RequestUser, case: Case) -> bool:
    """Whether the user may see protected identities (victims, witnesses, informants) of a
    case: their agency holds ``view_protected`` on it and their role allows it."""
    if "cases.view_protected" not in role_permissions(user):
        return False
    return (
        live_grants(user)
        .filter(content_object=case, permission_id=permission_id("view_protected"))
        .exists()
    )
