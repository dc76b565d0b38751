"""Change events with an outbox (issue 8, section 2): each change to a case moves its version
and writes an event in the same transaction; after commit each subscriber has the event once,
through Celery; what a broker outage or a failing subscriber left behind is delivered later by
the sweep, still once per subscriber; old events every subscriber has had are deleted."""

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from cases import outbox, tasks
from cases.models import Case, CaseEvent, EventDelivery

transactional = pytest.mark.django_db(transaction=True, serialized_rollback=True)
SUBSCRIBERS = ("index", "cache")
WAIT_SECONDS = 10.0


@contextmanager
def only_subscribers(handlers: dict[str, outbox.Handler]) -> Iterator[None]:
    """Run ``handlers`` in place of the subscribers the apps registered, then put those back."""
    registered = outbox.subscribers()
    for name in registered:
        outbox.unsubscribe(name)
    for name, handler in handlers.items():
        outbox.subscribe(name, handler)
    try:
        yield
    finally:
        for name in handlers:
            outbox.unsubscribe(name)
        for name, handler in registered.items():
            outbox.subscribe(name, handler)


@contextmanager
def dispatcher(dispatch: outbox.Dispatcher | None) -> Iterator[None]:
    previous = outbox.set_dispatcher(dispatch)
    try:
        yield
    finally:
        outbox.set_dispatcher(previous)


def queue_delivery(event_id: int) -> None:
    """What the cases app registers: the Celery task (run eagerly by the tests)."""
    tasks.events_deliver_task.delay(event_id)


class Subscribers:
    """The subscribers "index" and "cache", which note each event they are given; the names
    in ``failing`` raise instead."""

    def __init__(self) -> None:
        self.runs: list[tuple[str, int]] = []
        self.failing: set[str] = set()

    def handler(self, name: str) -> Callable[[CaseEvent], None]:
        def handle(event: CaseEvent) -> None:
            if name in self.failing:
                raise RuntimeError(f"{name} is down")
            self.runs.append((name, event.pk))

        return handle

    def of(self, event: CaseEvent) -> list[str]:
        """The subscribers that ran for ``event``, in order, once per run."""
        return sorted(name for name, event_id in self.runs if event_id == event.pk)


@pytest.fixture
def subscribers(case: Case) -> Iterator[Subscribers]:
    """Two subscribers and the Celery task as dispatcher. The outbox starts empty: what the
    case's creation may have recorded is not what these tests look at."""
    noted = Subscribers()
    handlers = {name: noted.handler(name) for name in SUBSCRIBERS}
    with only_subscribers(handlers), dispatcher(queue_delivery):
        CaseEvent.objects.all().delete()
        yield noted


def change(case: Case, *, actor: Any = None, what: str = CaseEvent.What.NOTE) -> CaseEvent:
    """A committed change (or, in a test run inside a transaction, its savepoint)."""
    with transaction.atomic():
        return outbox.case_changed(case=case, what=what, actor=actor)


def later(minutes: int = 2) -> Any:
    """Past the sweep's threshold for events just written."""
    return time_machine.travel(timezone.now() + timedelta(minutes=minutes), tick=False)


def version_of(case: Case) -> int:
    return Case.objects.values_list("version", flat=True).get(pk=case.pk)


# --- recording a change ----------------------------------------------------------------------


@transactional
def test_a_change_recorded_outside_a_transaction_is_refused_and_leaves_the_case_as_it_was(
    case: Case,
) -> None:
    version = version_of(case)
    with pytest.raises(TransactionManagementError):
        outbox.case_changed(case=case, what=CaseEvent.What.NOTE)
    assert version_of(case) == version
    assert not CaseEvent.objects.filter(case=case, version__gt=version).exists()


def test_each_change_moves_the_version_and_updated_at_and_writes_one_event(
    investigator: Any, case: Case
) -> None:
    version = version_of(case)
    first_at = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
    second_at = first_at + timedelta(hours=1)
    with transaction.atomic():
        with time_machine.travel(first_at, tick=False):
            first = outbox.case_changed(
                case=case.pk, what=CaseEvent.What.ENTITY, actor=investigator
            )
        after_first = Case.objects.get(pk=case.pk)
        with time_machine.travel(second_at, tick=False):
            second = outbox.case_changed(case=case, what=CaseEvent.What.CASE)

    assert (after_first.version, after_first.updated_at) == (version + 1, first_at)
    stored = Case.objects.get(pk=case.pk)
    assert (stored.version, stored.updated_at) == (version + 2, second_at)
    assert (case.version, case.updated_at) == (version + 2, second_at)
    events = CaseEvent.objects.filter(case=case, version__gt=version).order_by("version")
    assert [(e.pk, e.version, e.what, e.actor_id) for e in events] == [
        (first.pk, version + 1, "entity", investigator.pk),
        (second.pk, version + 2, "case", None),
    ]


def test_a_save_of_a_case_loaded_before_a_change_does_not_take_its_version_back(
    case: Case,
) -> None:
    stale = Case.objects.get(pk=case.pk)
    first = change(case)
    stale.title = "Renamed by someone who loaded the case earlier"
    stale.save()
    second = change(case)
    assert second.version == first.version + 1 == version_of(case)


def test_an_unknown_kind_of_change_is_refused(case: Case) -> None:
    with pytest.raises(ValueError, match="Unknown kind"):
        change(case, what="everything")


# --- delivery after commit -------------------------------------------------------------------


def test_after_commit_each_subscriber_has_the_event_once(
    subscribers: Subscribers, case: Case, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        event = change(case)
    assert subscribers.of(event) == ["cache", "index"]
    assert sorted(EventDelivery.objects.values_list("event", "subscriber")) == [
        (event.pk, "cache"),
        (event.pk, "index"),
    ]


def test_a_change_rolled_back_leaves_no_event_and_queues_nothing(
    subscribers: Subscribers, case: Case, django_capture_on_commit_callbacks: Any
) -> None:
    version = version_of(case)
    with (
        django_capture_on_commit_callbacks(execute=True) as queued,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        outbox.case_changed(case=case, what=CaseEvent.What.NOTE)
        raise RuntimeError("the service failed after recording the change")
    assert queued == []
    assert not CaseEvent.objects.exists()
    assert version_of(case) == version
    assert subscribers.runs == []


def test_a_failing_subscriber_does_not_hold_back_the_others_and_the_sweep_retries_it(
    subscribers: Subscribers, case: Case, django_capture_on_commit_callbacks: Any
) -> None:
    subscribers.failing = {"index"}
    with django_capture_on_commit_callbacks(execute=True):
        event = change(case)
    assert subscribers.of(event) == ["cache"]
    assert list(EventDelivery.objects.values_list("subscriber", flat=True)) == ["cache"]

    subscribers.failing = set()
    with later():
        assert tasks.events_sweep_task() == 1
    assert subscribers.of(event) == ["cache", "index"]


def test_delivering_an_event_twice_runs_each_subscriber_once(
    subscribers: Subscribers, case: Case
) -> None:
    event = change(case)
    assert outbox.deliver(event.pk) == 2
    assert outbox.deliver(event.pk) == 0
    assert subscribers.of(event) == ["cache", "index"]


def test_an_event_that_no_longer_exists_delivers_nothing(subscribers: Subscribers) -> None:
    assert outbox.deliver(0) == 0
    assert subscribers.runs == []


@transactional
def test_with_the_broker_down_the_change_commits_and_the_sweep_delivers_it_once_later(
    subscribers: Subscribers, case: Case, investigator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broker_down(*args: Any, **kwargs: Any) -> None:
        raise BrokerError("[Errno 111] Connection refused")

    monkeypatch.setattr(tasks.events_deliver_task, "apply_async", broker_down)
    version = version_of(case)
    event = change(case, actor=investigator)

    assert version_of(case) == version + 1
    assert CaseEvent.objects.filter(pk=event.pk).exists()
    assert subscribers.runs == []
    assert not EventDelivery.objects.exists()

    with later():
        assert tasks.events_sweep_task() == 2
        assert tasks.events_sweep_task() == 0
    assert subscribers.of(event) == ["cache", "index"]
    assert EventDelivery.objects.filter(event=event).count() == 2


def test_the_sweep_leaves_events_just_written_to_the_queue_delivering_them(
    subscribers: Subscribers, case: Case
) -> None:
    event = change(case)  # Not committed here: no delivery was queued.
    assert outbox.sweep() == 0
    with later():
        assert outbox.sweep() == 2
    assert subscribers.of(event) == ["cache", "index"]


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite locks the whole database: one deliverer waits before it reads anything",
)
@transactional
def test_two_deliverers_at_the_same_moment_run_a_subscriber_once(case: Case) -> None:
    with dispatcher(None):
        event = change(case)
    inside = threading.Event()
    release = threading.Event()
    runs: list[int] = []
    made: dict[str, int] = {}

    def slow(event: CaseEvent) -> None:
        runs.append(event.pk)
        inside.set()
        release.wait(WAIT_SECONDS)

    def deliverer(label: str) -> threading.Thread:
        def run() -> None:
            try:
                made[label] = outbox.deliver(event.pk)
            finally:
                connection.close()

        thread = threading.Thread(target=run)
        thread.start()
        return thread

    with only_subscribers({"slow": slow}):
        first = deliverer("first")
        try:
            assert inside.wait(WAIT_SECONDS)
            second = deliverer("second")
            # The second deliverer waits on the first one's uncommitted delivery row.
            assert waiting_for_a_lock(), "the second deliverer did not wait for the first"
        finally:
            release.set()
        first.join(WAIT_SECONDS)
        second.join(WAIT_SECONDS)

    assert runs == [event.pk]
    assert made == {"first": 1, "second": 0}
    assert EventDelivery.objects.filter(event=event, subscriber="slow").count() == 1


def waiting_for_a_lock() -> bool:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
            if cursor.fetchone()[0]:
                return True
        time.sleep(0.05)
    return False


# --- retention -------------------------------------------------------------------------------


def test_the_sweep_deletes_old_events_every_subscriber_has_had_and_keeps_the_others(
    subscribers: Subscribers, case: Case, settings: Any
) -> None:
    settings.CASEBOOK_OUTBOX_RETENTION_DAYS = 7
    now = timezone.now()
    with time_machine.travel(now - timedelta(days=8), tick=False):
        old_delivered = change(case)
        outbox.deliver(old_delivered.pk)
        subscribers.failing = {"index"}
        old_missing_one = change(case)
        outbox.deliver(old_missing_one.pk)
    with time_machine.travel(now - timedelta(days=6), tick=False):
        subscribers.failing = set()
        recent_delivered = change(case)
        outbox.deliver(recent_delivered.pk)

    subscribers.failing = {"index"}
    assert outbox.sweep() == 0

    assert set(CaseEvent.objects.values_list("pk", flat=True)) == {
        old_missing_one.pk,
        recent_delivered.pk,
    }
    assert not EventDelivery.objects.filter(event_id=old_delivered.pk).exists()


# --- subscribers -----------------------------------------------------------------------------


def test_a_second_handler_under_a_subscriber_name_already_taken_is_refused() -> None:
    def handler(event: CaseEvent) -> None: ...

    def another(event: CaseEvent) -> None: ...

    with only_subscribers({"index": handler}):
        outbox.subscribe("index", handler)  # ready() running again registers it again
        with pytest.raises(ValueError, match="already registered"):
            outbox.subscribe("index", another)
        assert outbox.subscribers() == {"index": handler}
