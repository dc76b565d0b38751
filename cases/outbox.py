"""Change events of cases: the outbox row written with each change, and its delivery after commit.

A service that changes a case or anything in it calls ``case_changed`` inside its transaction:
the case's version moves and an event row is written, so the event exists if and only if the
change was committed. After commit the event is handed to the dispatcher (``set_dispatcher``;
the cases app registers its Celery task), whose worker calls ``deliver``: every subscriber that
has not had the event yet runs once. Subscribers register with ``subscribe`` from their own
app's ``ready()``; this module knows none of them. When queueing fails (the broker is down) or
a worker dies, ``sweep`` (Celery beat, every minute) delivers what was left behind.

Nothing here is needed for a write to be correct: the database is the source of truth, and
what subscribers maintain (search index, matches, caches) can be rebuilt from it.
"""

import datetime
import logging
import uuid
from collections.abc import Callable, Sequence

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, models, transaction
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from cases.models import Case, CaseEvent, EventDelivery

logger = logging.getLogger(__name__)

Handler = Callable[[CaseEvent], None]
Dispatcher = Callable[[int], object]

_subscribers: dict[str, Handler] = {}
_dispatcher: Dispatcher | None = None
BatchDispatcher = Callable[[list[int]], object]
_batch_dispatcher: BatchDispatcher | None = None
# Events handed to the batch dispatcher at once (one task each), for writes in bulk.
DISPATCH_BATCH = 500


def subscribe(name: str, handler: Handler) -> None:
    """Run ``handler`` for every case event after commit, under ``name`` (which is what the
    delivery records keep: renaming a subscriber delivers the kept events to it again).

    Call it from the subscribing app's ``AppConfig.ready()``. Registering the same handler
    under the same name again does nothing (``ready()`` runs again when a test swaps the
    installed apps); another handler under a name already taken raises ``ValueError``. A new
    subscriber is also given, by the sweep, the events still kept (see ``sweep``). Handlers
    must be idempotent; see ``deliver`` for what they may rely on.
    """
    registered = _subscribers.get(name)
    if registered is not None and registered is not handler:
        raise ValueError(f"A case event subscriber is already registered as {name!r}.")
    _subscribers[name] = handler


def unsubscribe(name: str) -> None:
    """Stop running the subscriber registered as ``name`` (for tests); unknown names are
    ignored."""
    _subscribers.pop(name, None)


def subscribers() -> dict[str, Handler]:
    """The registered subscribers by name (a copy)."""
    return dict(_subscribers)


def set_dispatcher(
    dispatcher: Dispatcher | None, *, batch: BatchDispatcher | None = None
) -> Dispatcher | None:
    """Queue deliveries through ``dispatcher(event_id)`` (called after commit; it should
    arrange for ``deliver(event_id)`` to run, normally by queueing a Celery task), and those
    of events written in bulk through ``batch(event_ids)`` (up to ``DISPATCH_BATCH`` ids a
    call; without it, one ``dispatcher`` call each). Returns the dispatcher it replaces, so
    that a test can put it back. Without a dispatcher events wait for the sweep."""
    global _dispatcher, _batch_dispatcher
    previous, _dispatcher, _batch_dispatcher = _dispatcher, dispatcher, batch
    return previous


def case_changed(
    *,
    case: Case | int,
    what: str,
    actor: User | None = None,
    object_uuid: uuid.UUID | None = None,
) -> CaseEvent:
    """Record that ``case`` (or ``what`` in it, the object ``object_uuid``) changed: move the
    case's version by one and its ``updated_at`` to now, write the event, and queue its
    delivery for after commit. Returns the event.

    Call it inside the transaction that writes the change (``TransactionManagementError``
    otherwise): the event is committed with the change or not at all. The UPDATE locks the
    case row until that transaction ends, so that concurrent writers to one case take
    versions in turn; a service that also locks other rows should keep its usual order. When
    ``case`` is an instance, its ``version`` and ``updated_at`` are set too, so that a later
    save of it does not write the old values back. ``what`` is one of ``CaseEvent.What``
    (``ValueError`` otherwise); ``Case.DoesNotExist`` if there is no such case.
    """
    if not transaction.get_connection().in_atomic_block:
        raise TransactionManagementError(
            "case_changed() must be called inside the transaction that writes the change."
        )
    if what not in CaseEvent.What.values:
        raise ValueError(f"Unknown kind of case change: {what!r}.")
    case_id = case if isinstance(case, int) else case.pk
    now = timezone.now()
    # A save of a Case loaded before another writer's change writes its older version back;
    # the greatest version of the case's events puts the count back above it.
    latest = CaseEvent.objects.filter(case_id=case_id).order_by("-version").values("version")[:1]
    next_version = (
        Greatest(
            F("version"),
            Coalesce(Subquery(latest), 0, output_field=models.PositiveBigIntegerField()),
        )
        + 1
    )
    # QuerySet.update skips django-simple-history on purpose: the version and the time of
    # the last change are bookkeeping, not what a member entered. The service that calls this
    # writes the history of what changed (the entity, the note, the share...) itself.
    if not Case.objects.filter(pk=case_id).update(version=next_version, updated_at=now):
        raise Case.DoesNotExist(f"No case {case_id}.")
    version = Case.objects.filter(pk=case_id).values_list("version", flat=True).get()
    if isinstance(case, Case):
        case.version, case.updated_at = version, now
    event = CaseEvent.objects.create(
        case_id=case_id,
        version=version,
        what=what,
        object_uuid=object_uuid,
        actor=actor,
        created_at=now,
    )
    # robust: nothing that fails after commit may turn a committed change into an error page.
    transaction.on_commit(lambda: _dispatch(event.pk), robust=True)
    return event


def _dispatch(event_id: int) -> None:
    if _dispatcher is None:
        logger.warning("No dispatcher for case events: event %s waits for the sweep.", event_id)
        return
    try:
        _dispatcher(event_id)
    except Exception:
        # A broker that is down raises here (kombu's OperationalError). The change is
        # committed and stays so; the event is still in the outbox and the sweep delivers it.
        logger.warning(
            "Could not queue case event %s; the sweep will deliver it.", event_id, exc_info=True
        )


def _dispatch_batch(batch: BatchDispatcher, event_ids: list[int]) -> None:
    try:
        batch(event_ids)
    except Exception:
        # As ``_dispatch``: the events stay in the outbox and the sweep delivers them.
        logger.warning(
            "Could not queue %d case events; the sweep will deliver them.",
            len(event_ids),
            exc_info=True,
        )


def deliver(event_id: int) -> int:
    """Run each registered subscriber that has not had event ``event_id`` yet, once; returns
    how many handlers ran to completion now (0 for an event that no longer exists).

    Each subscriber gets a transaction of its own, in which the delivery row is inserted
    first and the handler then runs. The unique (event, subscriber) constraint is what makes
    delivery happen once: a second deliverer at the same moment waits on the first one's
    uncommitted row (PostgreSQL; SQLite locks the whole database), then finds it committed and
    skips that subscriber; if the first one's handler failed, its row was rolled back and the
    second delivers. Chosen over a lock on the event row so that subscribers of one event
    never wait for each other, and a slow handler holds nothing but its own row.

    What a handler writes to the database commits with its delivery row or not at all. What it
    does elsewhere (an index, a cache) may happen again if the commit fails after it, so
    handlers must be idempotent. A handler that raises is logged and leaves no delivery row:
    the sweep tries it again later, and the other subscribers are not held back.
    """
    event = CaseEvent.objects.filter(pk=event_id).first()
    if event is None:
        return 0
    had = set(EventDelivery.objects.filter(event_id=event_id).values_list("subscriber", flat=True))
    delivered = 0
    for name, handler in subscribers().items():
        if name not in had and _deliver_to(event, name, handler):
            delivered += 1
    return delivered


def _deliver_to(event: CaseEvent, name: str, handler: Handler) -> bool:
    try:
        with transaction.atomic():
            try:
                # A savepoint of its own: a handler's own IntegrityError is a failure, not
                # "delivered already".
                with transaction.atomic():
                    EventDelivery.objects.create(event=event, subscriber=name)
            except IntegrityError:
                return False
            handler(event)
    except Exception:
        logger.exception(
            "Case event %s: subscriber %r failed; the sweep retries it.", event.pk, name
        )
        return False
    return True


def _missing_for(names: list[str]) -> Q:
    """Events that one of ``names`` has not had."""
    missing = Q()
    for name in names:
        missing |= Q(~Exists(EventDelivery.objects.filter(event=OuterRef("pk"), subscriber=name)))
    return missing


def sweep(
    *, older_than: datetime.timedelta = datetime.timedelta(minutes=1), batch: int = 500
) -> int:
    """Deliver the events older than ``older_than`` that a current subscriber has not had, and
    delete the events every subscriber has had once they are older than the retention
    (setting ``CASEBOOK_OUTBOX_RETENTION_DAYS``, 30 days by default). Returns the number of
    deliveries made.

    ``older_than`` leaves the events just committed to the queue that is delivering them
    already. A run goes once through all that is missing, ``batch`` events per query, so that
    events a handler keeps failing on do not hold the others back; they are tried again at
    every run. Runs that overlap are safe (``deliver`` delivers once), only wasteful.
    """
    now = timezone.now()
    names = list(subscribers())
    delivered = 0
    if names:
        missing = CaseEvent.objects.filter(_missing_for(names), created_at__lt=now - older_than)
        after = 0
        while ids := list(
            missing.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:batch]
        ):
            for event_id in ids:
                delivered += deliver(event_id)
            after = ids[-1]
    days = getattr(settings, "CASEBOOK_OUTBOX_RETENTION_DAYS", 30)
    purged = _purge(before=now - datetime.timedelta(days=days), names=names, batch=batch)
    if delivered or purged:
        logger.info("Case events: %s deliveries made, %s old events deleted.", delivered, purged)
    return delivered


def _purge(*, before: datetime.datetime, names: list[str], batch: int) -> int:
    """Delete the events created before ``before`` that all of ``names`` have had, with their
    delivery rows; returns how many events."""
    had_by_all = [
        Exists(EventDelivery.objects.filter(event=OuterRef("pk"), subscriber=name))
        for name in names
    ]
    old = CaseEvent.objects.filter(*had_by_all, created_at__lt=before)
    purged = 0
    while ids := list(old.order_by("pk").values_list("pk", flat=True)[:batch]):
        CaseEvent.objects.filter(pk__in=ids).delete()
        purged += len(ids)
    return purged


def cases_created_in_bulk(
    *, cases: Sequence[Case], actors: Sequence[User | None]
) -> list[CaseEvent]:
    """Record the creation of ``cases``, written by a bulk insert (the synthetic cases of the
    demo) rather than one by one through ``services.case_create``: what ``case_changed``
    records for a case just created, for all of them at once. Each case gets version 1 and
    ``updated_at`` now (one UPDATE; the instances too) and one event (``what`` CASE, naming the
    case, by its actor in ``actors``, which runs parallel to ``cases``), in one bulk insert.
    Returns the events, in the order of ``cases``.

    Call it inside the transaction that inserts the cases (``TransactionManagementError``
    otherwise), with cases that have no event yet (``ValueError`` for a case whose version is
    not 0). After commit every event is handed to the dispatcher as ``case_changed`` hands
    one, in batches where a batch dispatcher is registered (one task per ``DISPATCH_BATCH``
    events), else one by one; each failure is logged and left to the sweep without holding
    back the others.
    """
    if not transaction.get_connection().in_atomic_block:
        raise TransactionManagementError(
            "cases_created_in_bulk() must be called inside the transaction that writes the cases."
        )
    if len(cases) != len(actors):
        raise ValueError("cases and actors must run parallel.")
    if any(case.version != 0 for case in cases):
        raise ValueError("cases_created_in_bulk() records new cases only (version 0).")
    if not cases:
        return []
    now = timezone.now()
    # QuerySet.update without history, as in case_changed: bookkeeping, not an edit.
    Case.objects.filter(pk__in=[case.pk for case in cases]).update(version=1, updated_at=now)
    for case in cases:
        case.version, case.updated_at = 1, now
    events = CaseEvent.objects.bulk_create(
        CaseEvent(
            case_id=case.pk,
            version=1,
            what=CaseEvent.What.CASE,
            object_uuid=case.uuid,
            actor=actor,
            created_at=now,
        )
        for case, actor in zip(cases, actors, strict=True)
    )
    event_ids = [event.pk for event in events]

    def dispatch_all() -> None:
        if _batch_dispatcher is None:
            for event_id in event_ids:
                _dispatch(event_id)  # logs a failure and returns: the sweep delivers that one
            return
        for start in range(0, len(event_ids), DISPATCH_BATCH):
            _dispatch_batch(_batch_dispatcher, event_ids[start : start + DISPATCH_BATCH])

    transaction.on_commit(dispatch_all, robust=True)
    return events
