"""The one way to tell an agency something: in-app notifications.

Every channel that notifies (sharing, hits, accounts, sign-in, and what comes: cooperation
requests, saved searches) goes through :func:`notify` or :func:`notify_new`, so the rules
of a notification live in one place: the message is cut to what the column holds, a
notice about protected identities reaches only those who may see them (``protected_only``),
one about accounts only supervisors (``supervisors_only``), and a repeated notice is not
sent twice. Who may read which is ``casebook.selectors.notification_list``.

Call inside the writing transaction: a notification is a row like any other, rolled back
with the write that caused it.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from casebook.models import Notification

MESSAGE_LENGTH = Notification._meta.get_field("message").max_length or 500


@dataclass(frozen=True)
class Notice:
    """One notification to write: to ``agency_id``, of ``kind``, about ``case_id`` (or none)."""

    agency_id: int
    kind: str
    message: str
    case_id: int | None = None
    protected_only: bool = False
    supervisors_only: bool = False

    def key(self) -> tuple[int, str, int | None, str, bool, bool]:
        return (
            self.agency_id,
            self.kind,
            self.case_id,
            self.message[:MESSAGE_LENGTH],
            self.protected_only,
            self.supervisors_only,
        )

    def row(self) -> Notification:
        return Notification(
            agency_id=self.agency_id,
            kind=self.kind,
            case_id=self.case_id,
            message=self.message[:MESSAGE_LENGTH],
            protected_only=self.protected_only,
            supervisors_only=self.supervisors_only,
        )


def notify(
    *,
    agency_id: int,
    kind: str,
    message: str,
    case_id: int | None = None,
    protected_only: bool = False,
    supervisors_only: bool = False,
    once_within: datetime.timedelta | None = None,
) -> Notification | None:
    """Write one notification. With ``once_within``, not if the same notice (agency, kind,
    case, message) was written within that time: returns None then."""
    notice = Notice(agency_id, kind, message, case_id, protected_only, supervisors_only)
    if once_within is not None and _sent(notice, since=timezone.now() - once_within):
        return None
    row = notice.row()
    row.save()
    return row


def notify_new(notices: Iterable[Notice]) -> int:
    """Write the notices that were never written before (same agency, kind, case, message
    and audience), each once, in two queries whatever their number. Returns how many."""
    wanted = {notice.key(): notice for notice in notices}
    if not wanted:
        return 0
    case_ids = {key[2] for key in wanted if key[2] is not None}
    about = Q(case_id__in=case_ids)
    if any(key[2] is None for key in wanted):
        about |= Q(case_id__isnull=True)
    already = set(
        Notification.objects.filter(
            about, agency_id__in={key[0] for key in wanted}, kind__in={key[1] for key in wanted}
        ).values_list(
            "agency_id", "kind", "case_id", "message", "protected_only", "supervisors_only"
        )
    )
    new = [notice.row() for key, notice in wanted.items() if key not in already]
    Notification.objects.bulk_create(new)
    return len(new)


def _sent(notice: Notice, *, since: datetime.datetime) -> bool:
    about = Q(case_id=notice.case_id) if notice.case_id is not None else Q(case_id__isnull=True)
    return Notification.objects.filter(
        about,
        agency_id=notice.agency_id,
        kind=notice.kind,
        message=notice.message[:MESSAGE_LENGTH],
        created_at__gte=since,
    ).exists()
