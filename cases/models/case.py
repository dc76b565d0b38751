"""Cases, the countries they involve, their reference numbers and the agency grants on them."""

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from simple_history.models import HistoricalRecords

from casebook.models import Agency, Country


class Case(models.Model):
    class Kind(models.TextChoices):
        TRAFFICKING = "trafficking", _("Trafficking in persons")
        SMUGGLING = "smuggling", _("Migrant smuggling")
        BOTH = "both", _("Trafficking and smuggling")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        INVESTIGATION = "investigation", _("Investigation")
        PROSECUTION = "prosecution", _("Prosecution")
        CLOSED = "closed", _("Closed")
        ARCHIVED = "archived", _("Archived")

    class HandlingCode(models.TextChoices):
        """Traffic Light Protocol 2.0 (FIRST, https://www.first.org/tlp/)."""

        CLEAR = "clear", "TLP:CLEAR"
        GREEN = "green", "TLP:GREEN"
        AMBER = "amber", "TLP:AMBER"
        AMBER_STRICT = "amber+strict", "TLP:AMBER+STRICT"
        RED = "red", "TLP:RED"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    reference = models.CharField(_("reference"), max_length=20, unique=True, editable=False)
    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.OPEN
    )
    handling_code = models.CharField(
        _("handling code"),
        max_length=20,
        choices=HandlingCode.choices,
        default=HandlingCode.AMBER,
    )
    owner_agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="owned_cases", verbose_name=_("owner")
    )
    lead_officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("lead officer"),
    )
    summary = models.TextField(_("summary"), blank=True)
    countries = models.ManyToManyField(
        Country,
        through="CaseCountry",
        related_name="+",
        blank=True,
        verbose_name=_("countries involved"),
    )
    opened_on = models.DateField(_("opened on"), default=timezone.localdate)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # Moved by one on every change to the case or anything in it, in the same transaction
    # (``cases.outbox.case_changed``); each change event names the version it produced.
    version = models.PositiveBigIntegerField(default=0, editable=False)

    # ``version`` is bookkeeping, moved without a save; a history row would show it as changed.
    history = HistoricalRecords(excluded_fields=["version"])

    class Meta:
        ordering = ["-updated_at"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        permissions = [
            ("contribute_case", _("Add entities, relationships, movements, notes and evidence")),
            ("manage_case", _("Manage the case and its sharing")),
            ("view_protected", _("See protected identities")),
        ]
        indexes = [
            models.Index(fields=["owner_agency", "status"]),
            models.Index(fields=["status", "-updated_at"]),
            # Joining the visible ids (from the grants) to what lists sort and count by, from
            # the index alone (PostgreSQL; other databases skip an index with INCLUDE).
            models.Index(fields=["id"], include=["updated_at", "status"], name="case_id_covering"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("cases:detail", kwargs={"case": self.uuid})


class CaseCountry(models.Model):
    """A country involved in a case; a model of its own so that its history is kept."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="case_countries")
    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="+")

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("country involved")
        verbose_name_plural = _("countries involved")
        constraints = [
            models.UniqueConstraint(fields=["case", "country"], name="case_country_unique")
        ]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.country_id}"


class ReferenceSequence(models.Model):
    """The last case number used per owner country and year; numbers are never reused."""

    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["country", "year"], name="reference_sequence_unique")
        ]

    def __str__(self) -> str:
        return f"{self.country_id}-{self.year}: {self.last_number}"


class CaseUserObjectPermission(UserObjectPermissionBase):
    """Direct foreign-key user grants (guardian); Casebook grants to agencies, not users."""

    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        abstract = False


class CaseGroupObjectPermission(GroupObjectPermissionBase):
    """Direct foreign-key agency grants on cases: the table every visibility filter reads.

    The owner agency's grants have no share and no expiry. A share's grants point to it and
    carry its expiry, so that the one visibility filter can drop an expired grant at once,
    before the periodic clean-up removes it.
    """

    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)
    share = models.ForeignKey(
        "cases.CaseShare", on_delete=models.CASCADE, null=True, blank=True, related_name="grants"
    )
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta(GroupObjectPermissionBase.Meta):
        abstract = False
        indexes = [
            models.Index(fields=["content_object", "permission", "group"]),
            # The cases an agency may see, read from the index alone, expiry included:
            # counting them and driving queries from the grants (``visible_case_ids``).
            # PostgreSQL only covers ``expires_at``; elsewhere it is a plain index.
            models.Index(
                fields=["group", "permission", "content_object"],
                include=["expires_at"],
                name="grant_group_perm_case_live",
            ),
        ]
