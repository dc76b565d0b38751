"""Shares of a case with other agencies.

A share is the record (purpose, who granted it, expiry, end); the grants it gives are rows of
``CaseGroupObjectPermission`` pointing back to it. Ending a share deletes its grants in the
same transaction, so a revoke takes effect on the next request on every channel. A re-share
(granted by a recipient) never outlives the share of the agency that granted it: see
``cases.services.sharing``.
"""

import datetime
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from casebook.models import Agency
from cases.models.case import Case


class CaseShare(models.Model):
    class Level(models.TextChoices):
        VIEW = "view", _("View")
        CONTRIBUTE = "contribute", _("Contribute")
        MANAGE = "manage", _("Manage")

    class EndReason(models.TextChoices):
        REVOKED = "revoked", _("Revoked")
        EXPIRED = "expired", _("Expired")
        REPLACED = "replaced", _("Replaced by a new share")
        PARENT_ENDED = "parent_ended", _("The share it came from ended")

    # The object permissions each level gives the recipient agency's group.
    LEVEL_PERMISSIONS: dict[str, tuple[str, ...]] = {
        Level.VIEW: ("view_case",),
        Level.CONTRIBUTE: ("view_case", "contribute_case"),
        Level.MANAGE: ("view_case", "contribute_case", "change_case", "manage_case"),
    }
    LEVEL_ORDER = (Level.VIEW, Level.CONTRIBUTE, Level.MANAGE)

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="shares")
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="case_shares", verbose_name=_("agency")
    )
    level = models.CharField(_("level"), max_length=20, choices=Level.choices)
    include_protected = models.BooleanField(
        _("include protected identities"),
        default=False,
        help_text=_("Let the agency's investigators and prosecutors see victims, witnesses "
                    "and informants of this case."),
    )  # fmt: skip
    purpose = models.TextField(_("purpose"))
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    granted_by_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    granted_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=20, choices=EndReason.choices, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["-granted_at", "-id"]
        verbose_name = _("share")
        verbose_name_plural = _("shares")
        constraints = [
            models.UniqueConstraint(
                fields=["case", "agency"],
                condition=Q(ended_at__isnull=True),
                name="one_open_share_per_agency",
            ),
        ]
        indexes = [models.Index(fields=["expires_at"], condition=Q(ended_at__isnull=True),
                                name="open_share_expiry")]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.case_id} → {self.agency_id} ({self.level})"

    def is_active(self, at: datetime.datetime | None = None) -> bool:
        at = at or timezone.now()
        return self.ended_at is None and (self.expires_at is None or self.expires_at > at)

    @property
    def is_reshare(self) -> bool:
        """Granted by a recipient rather than by the owner agency."""
        return self.granted_by_agency_id != self.case.owner_agency_id
