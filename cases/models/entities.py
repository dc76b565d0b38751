"""The people, organisations, numbers, vehicles, accounts, documents, handles and places of a
case, and the normalised match keys of their identifying values."""

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from cases.models.case import Case
from cases.models.guards import RefusesMasked


class Entity(RefusesMasked):
    class Kind(models.TextChoices):
        PERSON = "person", _("Person")
        ORGANISATION = "organisation", _("Organisation")
        PHONE = "phone", _("Phone number")
        VEHICLE = "vehicle", _("Vehicle")
        ACCOUNT = "account", _("Bank account or wallet")
        DOCUMENT = "document", _("Identity document")
        ONLINE = "online", _("E-mail or online handle")
        LOCATION = "location", _("Location")

    class Role(models.TextChoices):
        SUSPECT = "suspect", _("Suspect")
        VICTIM = "victim", _("Victim")
        WITNESS = "witness", _("Witness")
        RECRUITER = "recruiter", _("Recruiter")
        TRANSPORTER = "transporter", _("Transporter")
        FACILITATOR = "facilitator", _("Facilitator")
        FINANCIER = "financier", _("Financier")
        INFORMANT = "informant", _("Informant")
        OTHER = "other", _("Other")

    class LocationKind(models.TextChoices):
        BORDER_CROSSING = "border_crossing", _("Border crossing")
        CITY = "city", _("City or town")
        PORT = "port", _("Port")
        AIRPORT = "airport", _("Airport")
        SAFE_HOUSE = "safe_house", _("Safe house")
        CAMP = "camp", _("Camp or reception station")
        OTHER = "other", _("Other place")

    # Roles whose identity must be protected (DESIGN "Protected people").
    PROTECTED_ROLES = frozenset({Role.VICTIM, Role.WITNESS, Role.INFORMANT})

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="entities")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    role = models.CharField(_("role in the case"), max_length=20, choices=Role.choices)
    name = models.CharField(_("name"), max_length=200, blank=True)
    aliases = models.TextField(_("aliases"), blank=True, help_text=_("One per line."))
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    nationality = models.CharField(_("nationality"), max_length=2, blank=True)
    identifier = models.CharField(
        _("number or address"),
        max_length=200,
        blank=True,
        help_text=_("Phone number, plate, account, document number, e-mail or handle."),
    )
    identifier_country = models.CharField(_("country"), max_length=2, blank=True)
    subtype = models.CharField(_("type"), max_length=30, blank=True)
    holder = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="held",
        verbose_name=_("held by"),
    )
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[
            MinValueValidator(-90, _("Latitude must be between -90 and 90 degrees.")),
            MaxValueValidator(90, _("Latitude must be between -90 and 90 degrees.")),
        ],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[
            MinValueValidator(-180, _("Longitude must be between -180 and 180 degrees.")),
            MaxValueValidator(180, _("Longitude must be between -180 and 180 degrees.")),
        ],
    )
    description = models.TextField(_("description"), blank=True)
    # The N of "Victim N of PA-2026-00042": given when the entity first takes a protected
    # role, per case and role, and never given again, so the pseudonym is stable.
    protected_number = models.PositiveIntegerField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        # Never by a value that masking hides (name, identifier…): a list ordered by it would tell
        # a member who sees it masked where a victim sorts. Selectors order per viewer.
        ordering = ["kind", "id"]
        verbose_name = _("entity")
        verbose_name_plural = _("entities")
        indexes = [models.Index(fields=["case", "kind"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(latitude__isnull=True)
                | models.Q(latitude__gte=-90, latitude__lte=90),
                name="entity_latitude_range",
            ),
            models.CheckConstraint(
                condition=models.Q(longitude__isnull=True)
                | models.Q(longitude__gte=-180, longitude__lte=180),
                name="entity_longitude_range",
            ),
        ]

    def __str__(self) -> str:
        return self.label

    def get_absolute_url(self) -> str:
        return reverse("cases:entity", kwargs={"case": self.case.uuid, "entity": self.uuid})

    @property
    def label(self) -> str:
        """A short display text: the name, or the number, or the kind."""
        return self.name or self.identifier or str(self.get_kind_display())

    @property
    def is_protected(self) -> bool:
        return self.role in self.PROTECTED_ROLES


class MatchKey(models.Model):
    """A normalised identifying value of an entity (``cases.matchkeys``), indexed so that
    "which other entities share this key" is one index lookup. Derived data: rebuilt from
    the entity on every save, and by ``manage.py rebuild_match_keys``."""

    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="match_keys")
    # Denormalised so that "same key, other case" needs no join.
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["entity", "key"], name="match_key_unique"),
        ]

    def __str__(self) -> str:
        return self.key
