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

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from casebook import accounts, notifications
from casebook.audit import attribute_to
from casebook.auth import ROLE_PERMISSIONS, VIEW_PROTECTED
from casebook.models import (
    AccessLog,
    Agency,
    Country,
    Member,
    Notification,
    PasswordLink,
    RoleChange,
)

ROLE_FIELDS = {role: f"is_{role}" for role in Member.Role.values}
# Roles that see protected identities: giving one is notified to the member and to the
# agency's supervisors.
PROTECTED_ROLES = frozenset(
    role for role, perms in ROLE_PERMISSIONS.items() if VIEW_PROTECTED in perms
)
# Agency fields whose change is notified to the agency's supervisors.
NOTIFIED_AGENCY_FIELDS = ("country", "contact_point")


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
    actor: User | None = None,
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
    attribute_to(agency, actor)
    agency.save()
    if actor is not None:
        accounts.record_account_action(
            actor=actor,
            action=AccessLog.Action.AGENCY,
            what="create agency",
            target=agency.name,
            agency=agency,
            object_type="agency",
            object_uuid=agency.uuid,
        )
    return agency


@transaction.atomic
def agency_update(
    *,
    actor: User,
    agency: Agency,
    name: str,
    acronym: str,
    country: Country,
    kind: str,
    contact_point: str,
) -> Agency:
    """Change an agency's details (the administrators' admin). Every change is in the access
    log under the actor's name (``AccessLog.Action.AGENCY``); a new country or contact point
    is notified to the agency's supervisors, who did not make it. Locks the agency row."""
    before = Agency.objects.select_for_update().get(pk=agency.pk)
    values = {
        "name": name,
        "acronym": acronym,
        "country": country,
        "kind": kind,
        "contact_point": contact_point,
    }
    changed = [field for field, value in values.items() if getattr(before, field) != value]
    if not changed:
        return before
    if "name" in changed or "country" in changed:
        clash = Agency.objects.filter(country=country, name=name).exclude(pk=agency.pk)
        if clash.exists():
            raise ValidationError({"name": _("This country already has an agency of that name.")})
    notified = [field for field in NOTIFIED_AGENCY_FIELDS if field in changed]
    return _agency_apply(actor=actor, agency=before, values=values, notified=notified)


def agency_settings_update(
    *, actor: User, agency: Agency, contact_point: str, protected_match_policy: str
) -> Agency:
    """A supervisor's own settings of their agency: the contact point other agencies see on a
    match, and whether a match on one of its protected identities is told to it (never to the
    other agency: ``cases.hits``). The caller has checked that ``actor`` manages ``agency``
    (``selectors.managed_agency``). A change is in the access log under the actor's name and
    notified to the agency's supervisors. Locks the agency row."""
    before = Agency.objects.select_for_update().get(pk=agency.pk)
    values = {"contact_point": contact_point, "protected_match_policy": protected_match_policy}
    changed = [field for field, value in values.items() if getattr(before, field) != value]
    if not changed:
        return before
    return _agency_apply(actor=actor, agency=before, values=values, notified=changed)


def _agency_apply(
    *, actor: User, agency: Agency, values: dict[str, Any], notified: list[str]
) -> Agency:
    """Write the ``values`` that differ on the locked ``agency``, log the change under the
    actor's name and tell the agency's supervisors of the ``notified`` fields."""
    changed = [field for field, value in values.items() if getattr(agency, field) != value]
    for field in changed:
        setattr(agency, field, values[field])
    agency.full_clean()
    attribute_to(agency, actor)
    agency.save()
    accounts.record_account_action(
        actor=actor,
        action=AccessLog.Action.AGENCY,
        what="change " + ", ".join(changed),
        target=agency.name,
        agency=agency,
        object_type="agency",
        object_uuid=agency.uuid,
    )
    if notified:
        message = _("%(actor)s changed your agency's %(fields)s: now %(values)s.") % {
            "actor": _actor_name(actor),
            "fields": ", ".join(_label(Agency, field) for field in notified),
            "values": "; ".join(str(_display(agency, field)) for field in notified),
        }
        _notify_supervisors(agency, Notification.Kind.AGENCY_CHANGED, message)
    return agency


def _display(instance: Model, field: str) -> object:
    display = getattr(instance, f"get_{field}_display", None)
    return display() if display is not None else getattr(instance, field)


def _label(model: type[Model], field: str) -> str:
    return str(getattr(model._meta.get_field(field), "verbose_name", field))


# --- members --------------------------------------------------------------------------------


def _actor_name(actor: User | None) -> str:
    if actor is None:
        return _("The system")
    if getattr(actor, "member", None) is None:
        return _("An administrator (%(username)s)") % {"username": actor.get_username()}
    return actor.get_username()


def _notify_supervisors(agency: Agency, kind: str, message: str) -> None:
    notifications.notify(agency_id=agency.pk, kind=kind, message=message, supervisors_only=True)


def _log_account(actor: User | None, what: str, user: User, agency: Agency | None) -> None:
    if actor is None:
        return  # seeding and commands: nobody acted through the application
    member: Member | None = getattr(user, "member", None)
    accounts.record_account_action(
        actor=actor,
        action=AccessLog.Action.ACCOUNT,
        what=what,
        target=user.get_username(),
        agency=agency,
        object_type="member" if member is not None else "user",
        object_uuid=member.uuid if member is not None else None,
    )


def _record_role_changes(
    *, actor: User | None, member: Member, before: set[str], after: set[str], new: bool = False
) -> None:
    """Record each role given or taken, and notify a role that sees protected identities to
    the agency's supervisors (notification) and to the member (e-mail; a ``new`` member
    learns their roles from their enrolment e-mail instead)."""
    added, removed = after - before, before - after
    RoleChange.objects.bulk_create(
        [
            RoleChange(member=member, role=role, added=role in added, actor=actor)
            for role in sorted(added | removed)
        ]
    )
    if added or removed:
        changes = [f"+{role}" for role in sorted(added)] + [f"-{role}" for role in sorted(removed)]
        _log_account(actor, "roles " + " ".join(changes), member.user, member.agency)
    protected = sorted(added & PROTECTED_ROLES)
    if not protected or actor is None:
        return
    labels = ", ".join(str(Member.Role(role).label) for role in protected)
    username = member.user.get_username()
    message = _(
        "%(actor)s gave %(member)s the role %(roles)s, which sees protected identities."
    ) % {"actor": _actor_name(actor), "member": username, "roles": labels}
    _notify_supervisors(member.agency, Notification.Kind.ROLE_ADDED, message)
    if member.user.email and not new:
        accounts.email_send(
            to=member.user.email,
            template="role-added",
            context={"member": member, "roles": labels, "actor": _actor_name(actor)},
        )


def _send_link(*, actor: User, user: User, base_url: str, agency: Agency | None) -> str:
    """Issue a one-time password link for ``user``, e-mail it and log it; returns its URL."""
    if not user.email:
        raise ValidationError({"email": _("This account has no e-mail address to send to.")})
    purpose = (
        PasswordLink.Purpose.RESET if user.has_usable_password() else PasswordLink.Purpose.ENROL
    )
    token = accounts.password_link_issue(user=user, purpose=purpose, actor=actor)
    member: Member | None = getattr(user, "member", None)
    url = accounts.password_link_url(token, base_url=base_url)
    accounts.email_send(
        to=user.email,
        template="enrol" if purpose == PasswordLink.Purpose.ENROL else "password-link",
        context={
            "user": user,
            "url": url,
            "hours": settings.CASEBOOK_ENROLMENT_HOURS,
            "actor": _actor_name(actor),
            "roles": member.get_roles_display() if member is not None else "",
        },
    )
    _log_account(actor, f"send {purpose} link", user, agency)
    return url


@transaction.atomic
def member_add(
    *,
    actor: User,
    agency: Agency,
    username: str,
    first_name: str,
    last_name: str,
    email: str,
    roles: Iterable[str],
    base_url: str,
    send_link: bool = True,
) -> Member:
    """Create a user, make them a member of ``agency`` with ``roles`` and put them in the
    agency's Group (through which they see the agency's cases).

    Nobody chooses the new member's password for them: the account has none until they set
    it with the one-time link e-mailed to ``email`` (unless ``send_link`` is off; the caller
    then sends one with ``member_link_send``). The e-mail is queued for after the commit.
    """
    wanted = _check_roles(roles)
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": _("A user with that username already exists.")})
    user = User(username=username, first_name=first_name, last_name=last_name, email=email)
    user.set_unusable_password()
    user.save()
    user.groups.add(agency.group)
    member = Member(user=user, agency=agency)
    _set_roles(member, wanted)
    attribute_to(member, actor)
    member.save()
    _log_account(actor, "add member", user, agency)
    _record_role_changes(actor=actor, member=member, before=set(), after=wanted, new=True)
    if send_link:
        _send_link(actor=actor, user=user, base_url=base_url, agency=agency)
    return member


@transaction.atomic
def member_enrol(*, actor: User | None, user: User, agency: Agency, roles: Iterable[str]) -> Member:
    """Make an existing user a member of ``agency`` (the demo's seeding; administrators seat
    a first supervisor with ``agency_first_supervisor_seat``). Nobody can enrol themselves."""
    wanted = _check_roles(roles)
    if actor is not None and user.pk == actor.pk:
        raise ValidationError({"user": _("You cannot make yourself a member of an agency.")})
    if Member.objects.filter(user=user).exists():
        raise ValidationError({"user": _("This user is already a member of an agency.")})
    user.groups.add(agency.group)
    member = Member(user=user, agency=agency)
    _set_roles(member, wanted)
    attribute_to(member, actor)
    member.save()
    _record_role_changes(actor=actor, member=member, before=set(), after=wanted, new=True)
    return member


def first_supervisor_problems(
    *, actor: User | None, user: User | None, agency: Agency | None
) -> dict[str, str]:
    """Why ``actor`` may not seat ``user`` as the first supervisor of ``agency``, by field
    name (empty if they may). The admin's form shows these next to its fields."""
    problems: dict[str, str] = {}
    if agency is not None and (
        Member.objects.filter(agency=agency, is_supervisor=True, user__is_active=True).exists()
    ):
        problems["agency"] = _(
            "This agency already has a supervisor: only its supervisors add members."
        )
    if user is None:
        return problems
    if actor is not None and user.pk == actor.pk:
        problems["user"] = _("You cannot make yourself a member of an agency.")
    elif user.is_staff or user.is_superuser:
        problems["user"] = _("An administrator's account cannot be a member of an agency.")
    elif Member.objects.filter(user=user).exists():
        problems["user"] = _("This user is already a member of an agency.")
    elif not user.email:
        problems["user"] = _("This user has no e-mail address to send the link to.")
    return problems


@transaction.atomic
def agency_first_supervisor_seat(
    *, actor: User, user: User, agency: Agency, base_url: str
) -> Member:
    """Seat the first supervisor of ``agency`` (an administrator, in the admin). Refused when
    the agency has an active supervisor already (only its supervisors enrol members), for
    the actor themselves and for administrators' accounts. The user's password, if any, is
    cleared: they choose their own with the one-time link e-mailed to them."""
    problems = first_supervisor_problems(actor=actor, user=user, agency=agency)
    if problems:
        raise ValidationError(problems)
    member = member_enrol(actor=actor, user=user, agency=agency, roles=["supervisor"])
    user.set_unusable_password()
    user.save(update_fields=["password"])
    _log_account(actor, "seat first supervisor", user, agency)
    _send_link(actor=actor, user=user, base_url=base_url, agency=agency)
    return member


@transaction.atomic
def member_link_send(*, actor: User, user: User, base_url: str) -> str:
    """E-mail ``user`` a one-time link to set their password (to enrol, or a new one; their
    current password works until they use it); returns the link's URL. Logged under the
    actor's name. Earlier links die."""
    member: Member | None = getattr(user, "member", None)
    return _send_link(
        actor=actor, user=user, base_url=base_url, agency=member.agency if member else None
    )


@transaction.atomic
def member_update(
    *,
    actor: User,
    member: Member,
    first_name: str | None = None,
    last_name: str | None = None,
    email: str | None = None,
    roles: Iterable[str] | None = None,
) -> Member:
    """Change a member's names, e-mail and roles; roles take effect on their next request.

    Nobody changes their own roles. Role changes are recorded (``RoleChange``) and logged;
    a role that sees protected identities is notified to the member and the supervisors.
    """
    user = member.user
    before = set(member.roles)
    wanted = before
    if roles is not None:
        wanted = _check_roles(roles)
        if user.pk == actor.pk and wanted != before:
            raise ValidationError({"roles": _("You cannot change your own roles.")})
        _set_roles(member, wanted)
    changed_user_fields = []
    old_email = user.email
    for field, value in (("first_name", first_name), ("last_name", last_name), ("email", email)):
        if value is not None and getattr(user, field) != value:
            setattr(user, field, value)
            changed_user_fields.append(field)
    if changed_user_fields:
        user.save(update_fields=changed_user_fields)
    attribute_to(member, actor)
    member.save()
    if "email" in changed_user_fields:
        _log_account(actor, "change email", user, member.agency)
        _email_changed(actor=actor, user=user, old_email=old_email, member=member)
    _record_role_changes(actor=actor, member=member, before=before, after=wanted)
    return member


def _email_changed(*, actor: User, user: User, old_email: str, member: Member | None) -> None:
    """A new address can receive links to choose the password: the old address is told, and
    the supervisors of ``member``'s agency too (``None``: the caller notifies them)."""
    if old_email:
        accounts.email_send(
            to=old_email,
            template="email-changed",
            context={"user": user, "actor": _actor_name(actor), "email": user.email},
        )
    if member is not None and member.user_id != actor.pk:
        message = _("%(actor)s changed the e-mail address of %(member)s.") % {
            "actor": _actor_name(actor),
            "member": user.get_username(),
        }
        _notify_supervisors(member.agency, Notification.Kind.ACCOUNT_CHANGED, message)


@transaction.atomic
def user_create(*, actor: User, username: str, email: str, first_name: str, last_name: str) -> User:
    """Create a user account without a password (the administrators' admin): they choose
    one with a one-time link (``member_link_send``, or seating them as a first supervisor)."""
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": _("A user with that username already exists.")})
    user = User(username=username, email=email, first_name=first_name, last_name=last_name)
    user.set_unusable_password()
    user.save()
    _log_account(actor, "create user", user, None)
    return user


ADMIN_USER_FIELDS = ("first_name", "last_name", "email", "is_active", "is_staff", "is_superuser")


def user_status_problem(
    *, actor: User, user: User, changed: Iterable[str], values: dict[str, Any]
) -> str:
    """Why ``actor`` may not make the changes ``changed`` (to ``values``) to ``user``'s
    status; "" if they may. Nobody changes their own status, and a member of an agency is
    never made an administrator (superusers pass every object permission check)."""
    changed = set(changed)
    if user.pk == actor.pk and changed & {"is_active", "is_staff", "is_superuser"}:
        return _("You cannot change your own status.")
    promoted = any(values.get(field) for field in changed & {"is_staff", "is_superuser"})
    if promoted and Member.objects.filter(user=user).exists():
        return _("A member of an agency cannot be an administrator.")
    return ""


@transaction.atomic
def user_update(*, actor: User, user: User, values: dict[str, Any]) -> User:
    """Change a user's names, e-mail or status (the administrators' admin; ``values`` maps
    some of ``ADMIN_USER_FIELDS`` to new values). Each change is logged under the actor's
    name; a member's new e-mail or status is notified to their agency's supervisors, since
    a link sent to a new address hands over the account. Nobody changes their own status."""
    unknown = set(values) - set(ADMIN_USER_FIELDS)
    if unknown:
        raise ValueError(f"not changeable here: {sorted(unknown)}")
    current = User.objects.select_for_update().get(pk=user.pk)
    changed = [field for field, value in values.items() if getattr(current, field) != value]
    old_email = current.email
    problem = user_status_problem(actor=actor, user=current, changed=changed, values=values)
    if problem:
        raise ValidationError(problem)
    if not changed:
        return current
    for field in changed:
        setattr(current, field, values[field])
    current.save(update_fields=changed)
    member = Member.objects.select_related("agency").filter(user=current).first()
    agency = member.agency if member is not None else None
    _log_account(actor, "change " + ", ".join(changed), current, agency)
    if "email" in changed:
        _email_changed(actor=actor, user=current, old_email=old_email, member=None)
    notified = [field for field in changed if field in {"email", "is_active"}]
    if member is not None and notified:
        message = _("%(actor)s changed the account of %(member)s: %(fields)s.") % {
            "actor": _actor_name(actor),
            "member": current.get_username(),
            "fields": ", ".join(_label(User, field) for field in notified),
        }
        _notify_supervisors(member.agency, Notification.Kind.ACCOUNT_CHANGED, message)
    return current


@transaction.atomic
def account_password_set(*, user: User, password: str, link: PasswordLink | None = None) -> User:
    """The user chose a new password themselves (a one-time link, the change page or the
    reset by e-mail): set it, kill the link and any other unused link, and lift a required
    change. The password is checked against the installation's validators."""
    try:
        password_validation.validate_password(password, user)
    except ValidationError as error:
        raise ValidationError({"new_password1": error.messages}) from error
    user.set_password(password)
    user.save(update_fields=["password"])
    now = timezone.now()
    if link is not None:
        PasswordLink.objects.filter(pk=link.pk).update(used_at=now)
    PasswordLink.objects.filter(user=user, used_at__isnull=True).delete()
    member = Member.objects.filter(user=user, password_change_required=True).first()
    if member is not None:
        member.password_change_required = False
        attribute_to(member, user, reason="password changed")
        member.save()
    return user


def _set_active(*, actor: User, member: Member, active: bool) -> Member:
    user = member.user
    if user.is_active != active:
        user.is_active = active
        user.save(update_fields=["is_active"])
    # ``is_active`` lives on the user, which keeps no history: saving the member with a
    # change reason records who (de)activated them, and when.
    attribute_to(member, actor, reason="reactivated" if active else "deactivated")
    member.save()
    _log_account(actor, "reactivate" if active else "deactivate", user, member.agency)
    return member


@transaction.atomic
def member_deactivate(*, actor: User, member: Member) -> Member:
    """Stop a member from signing in. Deletes nothing: their records keep their author and
    their agency's grants stay with the agency. A supervisor cannot deactivate themselves."""
    if member.user_id == actor.pk:
        raise ValidationError(_("You cannot deactivate yourself."))
    return _set_active(actor=actor, member=member, active=False)


@transaction.atomic
def member_reactivate(*, actor: User, member: Member) -> Member:
    """Let a deactivated member sign in again, with the roles they had."""
    return _set_active(actor=actor, member=member, active=True)


# --- notifications -------------------------------------------------------------------------


def notifications_mark_read(*, user: User, notifications: QuerySet[Notification]) -> int:
    """Mark ``notifications`` (from ``casebook.selectors.notification_list(user)``, so only
    what the user may see) as read by ``user``; returns how many it was given. Idempotent."""
    through = Notification.read_by.through
    ids = list(notifications.values_list("pk", flat=True))
    rows = [through(notification_id=pk, user_id=user.pk) for pk in ids]
    through.objects.bulk_create(rows, ignore_conflicts=True)
    return len(ids)
