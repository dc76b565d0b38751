"""The outbox of case changes: one event per write to a case or anything in it, and a record of
which subscriber has had which event (``cases.outbox``).

Neither model keeps a history (django-simple-history): they are technical rows, not case
data. An event is written in the same transaction as the change it reports, by the service
that makes it, and that service's own rows carry the audited history of who changed what; the
events only drive work after commit (search index, match detection, caches) and are deleted
once every subscriber has had them and the retention has passed.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.models.case import Case


class CaseEvent(models.Model):
    """A case changed: its new version, and what in it changed."""

    class What(models.TextChoices):
        CASE = "case", _("Case")
        ENTITY = "entity", _("Entity")
        RELATIONSHIP = "relationship", _("Relationship")
        MOVEMENT = "movement", _("Movement")
        NOTE = "note", _("Note")
        EVIDENCE = "evidence", _("Evidence")
        HIT = "hit", _("Hit")
        SHARE = "share", _("Share")
        GRANT = "grant", _("Grant")
        HANDLING_CODE = "handling_code", _("Handling code")
        EXPIRY = "expiry", _("Expiry")

    # Indexed with the version below, for the latest version of a case (``case_changed``).
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events", db_index=False)
    # ``Case.version`` as this change left it: a subscriber that keeps the version it last
    # applied can skip events older than what it has.
    version = models.PositiveBigIntegerField()
    what = models.CharField(max_length=20, choices=What.choices)
    # The uuid of the entity, note, share... that changed; null when the case itself did.
    object_uuid = models.UUIDField(null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        indexes = [models.Index(fields=["case", "-version"], name="case_event_case_version")]

    def __str__(self) -> str:
        return f"{self.case_id} v{self.version} {self.what}"


class EventDelivery(models.Model):
    """A subscriber has had an event: its handler returned, and whatever it wrote to the
    database was committed with this row."""

    # Indexed by the unique constraint below, which starts with it.
    event = models.ForeignKey(
        CaseEvent, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    subscriber = models.CharField(max_length=100)
    delivered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("event delivery")
        verbose_name_plural = _("event deliveries")
        constraints = [
            # What makes delivery exactly once per subscriber (``cases.outbox.deliver``).
            models.UniqueConstraint(fields=["event", "subscriber"], name="event_delivery_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} to {self.subscriber}"
