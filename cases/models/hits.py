"""Cross-case matches: two entities of different cases that share a match key.

A hit is stored once per pair of entities. What each member is shown depends on what they
may see (``cases.selectors``): a link to the other entity if they may see the other case,
otherwise only that a match exists, with the other agency and country to contact.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casebook.models import Agency
from cases.models.case import Case
from cases.models.entities import Entity


class Hit(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # The pair is stored in a fixed order (lower id first) so it is stored once.
    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="+")
    other = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="+")
    # Denormalised so that "hits on cases I may see" filters without joining entities.
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    other_case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    created_at = models.DateTimeField(default=timezone.now)
    # Whose write found the hit (the member who added or edited one of the two entities, or
    # the supervisor who restored a common key); null for hits found before it was recorded
    # and by ``manage.py detect_hits``. Shown to supervisors of the member's own agency only.
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["entity", "other"], name="hit_pair_unique"),
            models.CheckConstraint(condition=Q(entity__lt=F("other")), name="hit_pair_ordered"),
        ]
        indexes = [
            models.Index(fields=["case", "-created_at"]),
            models.Index(fields=["other_case", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.entity_id}~{self.other_id} ({self.key})"


class HitDismissal(models.Model):
    """An agency has dealt with a hit and no longer wants it listed."""

    hit = models.ForeignKey(Hit, on_delete=models.CASCADE, related_name="dismissals")
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="+")
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    dismissed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["hit", "agency"], name="hit_dismissal_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.hit_id} dismissed by {self.agency_id}"


class CommonKey(models.Model):
    """A key held in the cases of too many distinct agencies to mean anything (a bus company's
    switchboard, a shelter's address). It stops producing hits; supervisors confirm it as
    common, or restore it (``restored_at``): a restored key produces hits again and is never
    made common again by detection (only by a supervisor's confirmation)."""

    # The public id in URLs (the page where supervisors mark keys common).
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    key = models.CharField(max_length=255, unique=True)
    first_seen_at = models.DateTimeField(default=timezone.now)
    marked_common_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    marked_common_at = models.DateTimeField(null=True, blank=True)
    restored_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    restored_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["key"]
        verbose_name = _("common key")
        verbose_name_plural = _("common keys")

    def __str__(self) -> str:
        return self.key


class HitDetection(models.Model):
    """One entity write's request for hit detection, counted against the writer's and their
    agency's hourly budget of new match keys (``cases.services.hits.detection_request``).

    Counted in the database, not in a process's memory: the web server runs several
    processes. A request over budget is ``DEFERRED``: the write is kept, detection waits for
    the sweep (``cases.services.hits.detections_release``, every few minutes) to find room in the
    budgets, and is then ``RELEASED``; nothing is lost, it comes later.
    """

    class State(models.TextChoices):
        ALLOWED = "allowed", _("Detected")
        DEFERRED = "deferred", _("Deferred")
        RELEASED = "released", _("Detected later")

    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="+")
    new_keys = models.PositiveIntegerField()
    state = models.CharField(max_length=10, choices=State.choices)
    requested_at = models.DateTimeField(default=timezone.now)
    # When the keys were counted against the budgets (null while deferred).
    counted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [
            models.Index(fields=["actor", "counted_at"]),
            models.Index(fields=["agency", "counted_at"]),
            models.Index(fields=["state", "requested_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.entity_id} by {self.actor_id}: {self.new_keys} ({self.state})"
