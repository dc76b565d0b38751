"""Cases and everything recorded under them.

Every model here keeps its full history (django-simple-history) except the derived match keys,
which are rebuilt from entities, and the custody log, which is itself append-only. Reads go
through ``cases.selectors``; writes through ``cases.services``.
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
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

    history = HistoricalRecords()

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
    """Direct foreign-key agency grants on cases: the table every visibility filter reads."""

    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        abstract = False
        indexes = [models.Index(fields=["content_object", "permission", "group"])]


class Entity(models.Model):
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
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["kind", "name", "identifier", "id"]
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


class Relationship(models.Model):
    class Kind(models.TextChoices):
        COMMUNICATES = "communicates_with", _("communicates with")
        PAYS = "pays", _("pays")
        TRANSPORTS = "transports", _("transports")
        RECRUITS = "recruits", _("recruits")
        EMPLOYS = "employs", _("employs")
        MEMBER_OF = "member_of", _("is a member of")
        OWNS = "owns", _("owns")
        TRAVELS_WITH = "travels_with", _("travels with")
        OTHER = "other", _("is linked to")

    class SourceReliability(models.TextChoices):
        """The 4x4 grading used by Europol and many police services."""

        A = "A", _("A: always reliable")
        B = "B", _("B: mostly reliable")
        C = "C", _("C: not reliable")
        X = "X", _("X: cannot be assessed")

    class InformationAssessment(models.TextChoices):
        ONE = "1", _("1: known to be true without reservation")
        TWO = "2", _("2: known personally to the source, not to the official")
        THREE = "3", _("3: not known personally to the source, corroborated")
        FOUR = "4", _("4: cannot be judged")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="relationships")
    source = models.ForeignKey(
        Entity, on_delete=models.CASCADE, related_name="outgoing", verbose_name=_("from")
    )
    target = models.ForeignKey(
        Entity, on_delete=models.CASCADE, related_name="incoming", verbose_name=_("to")
    )
    kind = models.CharField(_("relationship"), max_length=30, choices=Kind.choices)
    started_on = models.DateField(_("from date"), null=True, blank=True)
    ended_on = models.DateField(_("to date"), null=True, blank=True)
    evidence_note = models.TextField(_("evidence"), blank=True)
    source_reliability = models.CharField(
        _("source reliability"),
        max_length=1,
        choices=SourceReliability.choices,
        default=SourceReliability.X,
    )
    information_assessment = models.CharField(
        _("information assessment"),
        max_length=1,
        choices=InformationAssessment.choices,
        default=InformationAssessment.FOUR,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["started_on", "id"]
        verbose_name = _("relationship")
        verbose_name_plural = _("relationships")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(source=models.F("target")), name="relationship_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source_id} {self.kind} {self.target_id}"

    @property
    def grading(self) -> str:
        return f"{self.source_reliability}{self.information_assessment}"


class Movement(models.Model):
    class Means(models.TextChoices):
        FOOT = "foot", _("On foot")
        BOAT = "boat", _("Boat")
        BUS = "bus", _("Bus")
        CAR = "car", _("Car")
        TRUCK = "truck", _("Truck or lorry")
        TRAIN = "train", _("Train")
        PLANE = "plane", _("Plane")
        OTHER = "other", _("Other")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="movements")
    origin = models.ForeignKey(
        Entity, on_delete=models.PROTECT, related_name="departures", verbose_name=_("from")
    )
    destination = models.ForeignKey(
        Entity, on_delete=models.PROTECT, related_name="arrivals", verbose_name=_("to")
    )
    moved_on = models.DateField(_("date"))
    means = models.CharField(_("means"), max_length=20, choices=Means.choices)
    people_count = models.PositiveIntegerField(_("number of people"))
    facilitators = models.ManyToManyField(
        Entity,
        through="MovementFacilitator",
        related_name="facilitated_movements",
        blank=True,
        verbose_name=_("facilitators"),
    )
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["moved_on", "id"]
        verbose_name = _("movement")
        verbose_name_plural = _("movements")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(people_count__gte=1), name="movement_people_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.origin_id}->{self.destination_id} {self.moved_on}"


class MovementFacilitator(models.Model):
    movement = models.ForeignKey(Movement, on_delete=models.CASCADE, related_name="+")
    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="+")

    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["movement", "entity"], name="movement_facilitator")
        ]

    def __str__(self) -> str:
        return f"{self.movement_id}:{self.entity_id}"


class Note(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    noted_on = models.DateField(_("date"), default=timezone.localdate)
    body = models.TextField(_("note"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-noted_on", "-id"]
        verbose_name = _("note")
        verbose_name_plural = _("notes")

    def __str__(self) -> str:
        return f"{self.noted_on}: {self.body[:40]}"


def evidence_path(instance: "Evidence", filename: str) -> str:
    # The stored name never contains what the uploader typed: file names can identify people.
    return f"{instance.case.uuid}/{instance.uuid}"


class Evidence(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(upload_to=evidence_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    description = models.TextField(_("description"), blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        verbose_name = _("evidence file")
        verbose_name_plural = _("evidence files")

    def __str__(self) -> str:
        return self.original_name


class CustodyEntry(models.Model):
    """One link in an evidence file's chain of custody. Append-only."""

    class Action(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded")
        DOWNLOADED = "downloaded", _("Downloaded")
        VERIFIED = "verified", _("Integrity verified")
        MISMATCH = "mismatch", _("Integrity check FAILED")

    evidence = models.ForeignKey(Evidence, on_delete=models.CASCADE, related_name="custody")
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField(default=timezone.now)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    detail = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("custody entry")
        verbose_name_plural = _("custody entries")

    def __str__(self) -> str:
        return f"{self.evidence_id} {self.action} {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise ValidationError(_("The chain of custody cannot be changed."))
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise ValidationError(_("The chain of custody cannot be changed."))
