"""Countries, agencies and their members.

An agency is backed by one auth Group: object permissions on cases are granted to that group,
so they belong to the agency, not to whoever works there today. A member's roles give the
kinds of action they may take (model-level, see ``casebook.auth``); grants to their agency say
on which cases.
"""

import uuid

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
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
