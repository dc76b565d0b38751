"""What is recorded between and about entities: relationships, movements, notes, evidence."""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from cases.models.case import Case
from cases.models.entities import Entity
from cases.models.guards import RefusesMasked


class Relationship(RefusesMasked):
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


class Movement(RefusesMasked):
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


class Evidence(RefusesMasked):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(upload_to=evidence_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    description = models.TextField(_("description"), blank=True)
    protected = models.BooleanField(
        _("contains protected identities"),
        default=True,
        help_text=_(
            "Its name, description and content are shown only to those who may see the "
            "case's protected identities (victims, witnesses, informants)."
        ),
    )
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
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise ValidationError(_("The chain of custody cannot be changed."))
