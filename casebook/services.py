"""Writes to agencies and their members.

Every service takes keyword-only arguments, writes inside one transaction and records the
acting user in the change history. Callers check who may act first (``casebook.selectors``);
services check the data rules and raise ``ValidationError`` with field names, leaving the
database as it was.

An agency's auth Group is what its grants on cases hang on, so membership of an agency and
membership of its Group are kept in step here and nowhere else. Nothing is ever deleted:
a member who leaves is deactivated, so that the history of what they did keeps its author.
"""

import uuid
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from casebook.models import Agency, Country, Member, Notification

ROLE_FIELDS = {role: f"is_{role}" for role in Member.Role.values}


def _attribute(instance: Any, actor: Any) -> None:
    # simple-history reads the acting user from here, so history is right in commands and
    # the admin too, not only behind its request middleware.
    instance._history_user = actor


def _check_roles(roles: Iterable[str]) -> set[str]:
    wanted = set(roles)
    unknown = wanted - ROLE_FIELDS.keys()
    if unknown:
        raise ValidationError({"roles": _("Unknown role: %s.") % ", ".join(sorted(unknown))})
    if not wanted:
        raise ValidationError({"roles": _("Choose at least one role.")})
    return wanted


def _set_roles(member: Member, roles: set[str]) -> None:
    for role, field in ROLE_FIELDS.items():
        setattr(member, field, role in roles)


# --- agencies -------------------------------------------------------------------------------


@transaction.atomic
def agency_create(
    *,
    name: str,
    country: Country,
    kind: str,
    acronym: str = "",
    contact_point: str = "",
    actor: Any = None,
) -> Agency:
    """Create an agency and the auth Group that will hold its grants on cases.

    The group is named after the agency's public id, so renaming the agency never clashes.
    """
    if Agency.objects.filter(country=country, name=name).exists():
        raise ValidationError({"name": _("This country already has an agency of that name.")})
    agency_uuid = uuid.uuid4()
    group = Group.objects.create(name=f"agency:{agency_uuid}")
    agency = Agency(
        uuid=agency_uuid,
        name=name,
        country=country,
        kind=kind,
        acronym=acronym,
        contact_point=contact_point,
        group=group,
    )
    agency.full_clean()
    _attribute(agency, actor)
    agency.save()
    return agency


# --- members --------------------------------------------------------------------------------


@transaction.atomic
def member_add(
    *,
    actor: Any,
    agency: Agency,
    username: str,
    first_name: str,
    last_name: str,
    email: str,
    roles: Iterable[str],
    password: str,
) -> Member:
    """Create a user, make them a member of ``agency`` with ``roles`` and put them in the
    agency's Group (through which they see the agency's cases).

    The password is checked against the installation's password validators.
    """
    user_model = get_user_model()
    wanted = _check_roles(roles)
    if user_model.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": _("A user with that username already exists.")})
    user = user_model(username=username, first_name=first_name, last_name=last_name, email=email)
    try:
        password_validation.validate_password(password, user)
    except ValidationError as error:
        raise ValidationError({"password": error.messages}) from error
    user.set_password(password)
    user.save()
    user.groups.add(agency.group)
    member = Member(user=user, agency=agency)
    _set_roles(member, wanted)
    _attribute(member, actor)
    member.save()
    return member


@transaction.atomic
def member_enrol(*, actor: Any, user: Any, agency: Agency, roles: Iterable[str]) -> Member:
    """Make an existing user a member of ``agency`` (the admin's way to seat the first
    supervisor of a new agency). Administrators cannot enrol themselves: the admin is not a
    way into case content."""
    wanted = _check_roles(roles)
    if actor is not None and user.pk == actor.pk:
        raise ValidationError({"user": _("You cannot make yourself a member of an agency.")})
    if Member.objects.filter(user=user).exists():
        raise ValidationError({"user": _("This user is already a member of an agency.")})
    user.groups.add(agency.group)
    member = Member(user=user, agency=agency)
    _set_roles(member, wanted)
    _attribute(member, actor)
    member.save()
    return member


@transaction.atomic
def member_update(
    *,
    actor: Any,
    member: Member,
    first_name: str | None = None,
    last_name: str | None = None,
    email: str | None = None,
    roles: Iterable[str] | None = None,
) -> Member:
    """Change a member's names, e-mail and roles; roles take effect on their next request.

    A supervisor cannot remove their own supervisor role (an agency must not lose its last
    way to manage itself by accident).
    """
    user = member.user
    if roles is not None:
        wanted = _check_roles(roles)
        if user.pk == actor.pk and member.is_supervisor and "supervisor" not in wanted:
            raise ValidationError({"roles": _("You cannot remove your own supervisor role.")})
        _set_roles(member, wanted)
    changed_user_fields = []
    for field, value in (("first_name", first_name), ("last_name", last_name), ("email", email)):
        if value is not None and getattr(user, field) != value:
            setattr(user, field, value)
            changed_user_fields.append(field)
    if changed_user_fields:
        user.save(update_fields=changed_user_fields)
    _attribute(member, actor)
    member.save()
    return member


def _set_active(*, actor: Any, member: Member, active: bool) -> Member:
    user = member.user
    if user.is_active != active:
        user.is_active = active
        user.save(update_fields=["is_active"])
    # ``is_active`` lives on the user, which keeps no history: saving the member with a
    # change reason records who (de)activated them, and when.
    _attribute(member, actor)
    member._change_reason = "reactivated" if active else "deactivated"  # type: ignore[attr-defined]
    member.save()
    return member


@transaction.atomic
def member_deactivate(*, actor: Any, member: Member) -> Member:
    """Stop a member from signing in. Deletes nothing: their records keep their author and
    their agency's grants stay with the agency. A supervisor cannot deactivate themselves."""
    if member.user_id == actor.pk:
        raise ValidationError(_("You cannot deactivate yourself."))
    return _set_active(actor=actor, member=member, active=False)


@transaction.atomic
def member_reactivate(*, actor: Any, member: Member) -> Member:
    """Let a deactivated member sign in again, with the roles they had."""
    return _set_active(actor=actor, member=member, active=True)


# --- notifications -------------------------------------------------------------------------


def notifications_mark_read(*, user: Any, notifications: QuerySet[Notification]) -> int:
    """Mark ``notifications`` (from ``casebook.selectors.notification_list(user)``, so only
    what the user may see) as read by ``user``; returns how many it was given. Idempotent."""
    through = Notification.read_by.through
    ids = list(notifications.values_list("pk", flat=True))
    rows = [through(notification_id=pk, user_id=user.pk) for pk in ids]
    through.objects.bulk_create(rows, ignore_conflicts=True)
    return len(ids)
