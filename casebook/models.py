"""Countries, agencies and their members.

An agency is backed by one auth Group: object permissions on cases are granted to that group,
so they belong to the agency, not to whoever works there today. A member's roles give the
kinds of action they may take (model-level, see ``casebook.auth``); grants to their agency say
on which cases.
"""

import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Country(models.Model):
    """One of the 23 member states of the RCM and the SACM (loaded by a data migration)."""

    class Conference(models.TextChoices):
        RCM = "RCM", _("Regional Conference on Migration")
        SACM = "SACM", _("South American Conference on Migration")

    code = models.CharField(_("ISO code"), max_length=2, primary_key=True)
    name = models.CharField(_("name"), max_length=100)
    conference = models.CharField(_("conference"), max_length=4, choices=Conference.choices)

    class Meta:
        ordering = ["name"]
        verbose_name = _("country")
        verbose_name_plural = _("countries")

    def __str__(self) -> str:
        return str(self.name)


class Agency(models.Model):
    class Kind(models.TextChoices):
        POLICE = "police", _("Police")
        PROSECUTION = "prosecution", _("Prosecution service")
        JUDICIARY = "judiciary", _("Judiciary")
        BORDER = "border", _("Immigration / border")
        FINANCIAL = "financial", _("Financial intelligence")
        LABOUR = "labour", _("Labour inspection")
        REGIONAL = "regional", _("Regional analysis unit")

    class ProtectedMatchPolicy(models.TextChoices):
        """Whether a value of one of the agency's protected identities (victim, witness,
        informant) gives a cross-case match with another agency's case (``cases.services.hits``)."""

        NONE = "none", _("No match on our protected identities")
        OWNER_DECIDES = (
            "owner_decides",
            _("Tell us of matches on our protected identities; we decide whether to contact"),
        )

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="agencies")
    name = models.CharField(_("name"), max_length=200)
    acronym = models.CharField(_("acronym"), max_length=20, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    contact_point = models.CharField(
        _("contact point"),
        max_length=200,
        blank=True,
        help_text=_("Who other agencies should contact about a match (desk, e-mail, phone)."),
    )
    # The other agency is never told of such a match, whatever the policy.
    protected_match_policy = models.CharField(
        _("matches on protected identities"),
        max_length=20,
        choices=ProtectedMatchPolicy.choices,
        default=ProtectedMatchPolicy.NONE,
        help_text=_(
            "Whether a value of one of your protected identities that another agency also "
            "holds is a match told to you (never to them)."
        ),
    )
    group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="agency")
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["country__name", "name"]
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        constraints = [
            models.UniqueConstraint(fields=["country", "name"], name="agency_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.country_id})"


class Member(models.Model):
    """A user working in one agency. Roles are the kinds of action they may take."""

    class Role(models.TextChoices):
        INVESTIGATOR = "investigator", _("Investigator")
        PROSECUTOR = "prosecutor", _("Prosecutor")
        ANALYST = "analyst", _("Analyst")
        SUPERVISOR = "supervisor", _("Supervisor")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="member"
    )
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="members")
    is_investigator = models.BooleanField(_("investigator"), default=False)
    is_prosecutor = models.BooleanField(_("prosecutor"), default=False)
    is_analyst = models.BooleanField(_("analyst"), default=False)
    is_supervisor = models.BooleanField(_("supervisor"), default=False)
    # Set when somebody other than the member chose their current password (accounts from
    # before enrolment links): they must change it before anything else.
    password_change_required = models.BooleanField(_("must change password"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["user__username"]
        permissions = [("manage_members", _("Manage the members of their own agency"))]
        verbose_name = _("member")
        verbose_name_plural = _("members")

    def __str__(self) -> str:
        return f"{self.user.get_username()} ({self.agency})"

    @property
    def roles(self) -> list[str]:
        return [role for role in self.Role.values if getattr(self, f"is_{role}")]

    def get_roles_display(self) -> str:
        return ", ".join(str(self.Role(role).label) for role in self.roles)

    def has_role(self, role: str) -> bool:
        return role in self.roles


class RoleChange(models.Model):
    """A role given to or taken from a member, by whom and when (shown on the member's page).
    Roles that see protected identities are also notified to the agency's supervisors."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="role_changes")
    role = models.CharField(_("role"), max_length=20, choices=Member.Role.choices)
    added = models.BooleanField(_("added"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("role change")
        verbose_name_plural = _("role changes")

    def __str__(self) -> str:
        sign = "+" if self.added else "-"
        return f"{self.member_id} {sign}{self.role}"


class PasswordLink(models.Model):
    """A one-time link with which a user sets their own password: to enrol, or a new one.

    Only a hash of the token is stored; the token itself is in the e-mail (or printed by a
    management command) and nowhere else. A link is dead once used, once expired, and once
    a newer link for the same user is issued.
    """

    class Purpose(models.TextChoices):
        ENROL = "enrol", _("Enrolment")
        RESET = "reset", _("New password")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    purpose = models.CharField(max_length=10, choices=Purpose.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.purpose} link for user {self.user_id}"


class AccessLogQuerySet(models.QuerySet["AccessLog"]):
    def update(self, **kwargs: object) -> int:
        raise PermissionError("the access log is append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("the access log is append-only")


class AccessLog(models.Model):
    """Who read or tried to read what, when and from where. Append-only for the application
    (and, on PostgreSQL, for the database role too: a trigger refuses UPDATE and DELETE)."""

    class Action(models.TextChoices):
        VIEW = "view", _("Viewed")
        DOWNLOAD = "download", _("Downloaded")
        SEARCH = "search", _("Searched")
        GRAPH = "graph", _("Graph")
        EXPORT = "export", _("Exported")
        SHARE = "share", _("Shared")
        REVOKE = "revoke", _("Revoked a share")
        REFUSED = "refused", _("Refused")
        # Sign-in and account administration: who signed in, failed or was locked out, and
        # what an administrator or supervisor did to an account or an agency, under their
        # own name.
        SIGN_IN = "sign_in", _("Signed in")
        SIGN_IN_FAILED = "sign_in_failed", _("Sign-in failed")
        LOCKED_OUT = "locked_out", _("Locked out")
        ACCOUNT = "account", _("Changed an account")
        AGENCY = "agency", _("Changed an agency")

    at = models.DateTimeField(default=timezone.now)
    # ``user`` and ``case`` are indexed with ``at`` (Meta.indexes), not on their own: every
    # request inserts rows, and an index that another one covers is paid for on each INSERT.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        related_name="+",
    )
    username = models.CharField(max_length=150, blank=True)
    # Indexed with ``at`` too (Meta.indexes): the supervisors' page reads it newest first.
    agency = models.ForeignKey(
        Agency,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        related_name="+",
    )
    # No database constraint: a log row outlives whatever it names.
    case = models.ForeignKey(
        "cases.Case",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        related_name="+",
    )
    case_reference = models.CharField(max_length=20, blank=True)
    action = models.CharField(max_length=20, choices=Action.choices)
    # For a "refused" entry, what was attempted: a case action ("view", "contribute",
    # "change", "manage"), a service action ("share", "revoke"...), or, when nothing more
    # precise is known, "open" (a page) or "submit" (a form). Blank on other entries.
    attempted = models.CharField(max_length=20, blank=True)
    object_type = models.CharField(max_length=30)
    object_uuid = models.UUIDField(null=True, blank=True)
    path = models.CharField(max_length=500, blank=True)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    detail = models.CharField(max_length=255, blank=True)

    objects = AccessLogQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        # The supervisors' page reads newest first (``-at, -id``), filtered by case, user or
        # action: each filter has an index in that order. Views are most of the log and the
        # newest-first index finds them at once; the rarer actions (refusals, exports,
        # shares) have a partial index that views do not pay for on every INSERT. The page
        # reads "by our members" through (agency, -at, -id), in page order, however few
        # of the log's rows are theirs.
        indexes = [
            models.Index(fields=["case", "-at"]),
            models.Index(fields=["user", "-at"]),
            models.Index(fields=["agency", "-at", "-id"], name="casebook_accesslog_agency_at"),
            models.Index(fields=["-at", "-id"], name="casebook_accesslog_at_id"),
            models.Index(
                fields=["action", "-at", "-id"],
                condition=~models.Q(action="view"),
                name="casebook_accesslog_action_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username} {self.action} {self.object_type}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("the access log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("the access log is append-only")


class Notification(models.Model):
    """A message to the members of one agency. Its text is written when it is created and
    must never carry anything the recipients may not see."""

    class Kind(models.TextChoices):
        SHARE_GRANTED = "share_granted", _("Case shared")
        SHARE_REVOKED = "share_revoked", _("Share revoked")
        SHARE_EXPIRED = "share_expired", _("Share expired")
        # A re-share that ended, or now ends earlier, with the share it came from.
        SHARE_SOURCE_ENDED = "share_source_ended", _("Share ended with its source")
        SHARE_SHORTENED = "share_shortened", _("Share shortened")
        HIT = "hit", _("Cross-case match")
        # A match on one of the agency's protected identities, for its owner to decide on.
        HIT_PROTECTED = "hit_protected", _("Match on a protected identity")
        # Hit detection refused or unusually busy for a member or the agency.
        HIT_VOLUME = "hit_volume", _("Unusual match volume")
        ROLE_ADDED = "role_added", _("Role added")
        AGENCY_CHANGED = "agency_changed", _("Agency details changed")
        ACCOUNT_LOCKED = "account_locked", _("Account locked")
        # An administrator changed a member's account (e-mail, status).
        ACCOUNT_CHANGED = "account_changed", _("Account changed")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # Set only when every recipient may see the case (it is theirs, or shared with them).
    case = models.ForeignKey(
        "cases.Case", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    message = models.CharField(max_length=500)
    # Only members who may see protected identities of ``case`` are shown it.
    protected_only = models.BooleanField(default=False)
    # Only the agency's supervisors are shown it (changes to accounts and to the agency).
    supervisors_only = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    read_by = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["agency", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.agency_id}: {self.message[:40]}"
