"""The evidence integrity check runs in a real Celery worker, not eagerly in the test process.

The worker consumes from the configured broker: RabbitMQ when ``CELERY_BROKER_URL`` is set (the
PostgreSQL run of CI), kombu's in-process ``memory://`` transport otherwise (the embedded SQLite
run). Either way eager mode is switched off for the test, so the task crosses a broker and is
executed by the worker's own thread with its own database connection: the tests are
transactional, because the worker can only see committed rows.
"""

import hashlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from celery.bootsteps import RUN  # type: ignore[attr-defined]  # celery-types omits it
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from celery.worker import WorkController
from celery.worker import state as worker_state
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from casebook.celery import app
from cases import services, tasks
from cases.models import Case, CustodyEntry, Evidence
from cases.selectors import case_access

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

WAIT_SECONDS = 20.0


class TaskRuns:
    """Counts finished ``evidence_verify`` runs of the worker and lets the test wait for one.

    The test reads the database only after a run has finished, never while the worker writes:
    SQLite's shared in-memory test database locks whole tables between connections.
    """

    def __init__(self) -> None:
        self.finished = threading.Event()
        self.states: list[str] = []
        self.thread_names: list[str] = []

    def on_postrun(self, sender: Any = None, state: str | None = None, **kwargs: Any) -> None:
        if sender is not None and sender.name == tasks.evidence_verify.name:
            self.states.append(state or "")
            self.thread_names.append(threading.current_thread().name)
            if connection.vendor != "sqlite":
                # Close the worker thread's connection so the test database can be dropped.
                connection.close()
            self.finished.set()


@pytest.fixture(scope="module")
def running_worker() -> Iterator[WorkController]:
    """One worker thread for the module: stopping a worker takes a few seconds."""
    was_eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        # Messages another run left in the broker (a run stopped half-way) are not ours.
        app.control.purge()
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20) as w:
            yield w
            stop_soon(w)
    finally:
        app.conf.task_always_eager = was_eager


def stop_soon(worker: WorkController) -> None:
    """Ask the worker to stop, and wake its event loop so that it notices now.

    ``start_worker`` only sets the flag; an AMQP worker sleeps in its event loop for up to
    10 s before it reads it (the in-memory transport's loop wakes every 2 s by itself).
    """
    # celery-types declares the flag as None, but celery sets it to the exit code.
    worker_state.should_terminate = 0  # type: ignore[assignment]
    hub = getattr(worker, "hub", None)
    blueprint = worker.blueprint
    deadline = time.monotonic() + 10
    while (
        hub is not None
        and blueprint is not None
        and blueprint.state == RUN
        and time.monotonic() < deadline
    ):
        hub.call_soon(lambda: None)
        time.sleep(0.05)


@pytest.fixture
def worker(running_worker: WorkController, settings: Any, tmp_path: Path) -> Iterator[TaskRuns]:
    settings.MEDIA_ROOT = tmp_path
    runs = TaskRuns()
    task_postrun.connect(runs.on_postrun, weak=False)
    try:
        yield runs
    finally:
        task_postrun.disconnect(runs.on_postrun)


def wait_for_custody(runs: TaskRuns, evidence: Evidence, action: str) -> CustodyEntry:
    """Wait up to WAIT_SECONDS for the worker to append ``action`` to the chain of custody,
    reading the chain after each finished task run."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        if not runs.finished.wait(max(deadline - time.monotonic(), 0)):
            actions = list(CustodyEntry.objects.filter(evidence=evidence).values_list("action"))
            pytest.fail(
                f"no {action!r} custody entry after {WAIT_SECONDS:.0f} s; "
                f"chain: {actions}; task runs: {runs.states}; broker: {app.conf.broker_url}"
            )
        runs.finished.clear()
        entry = CustodyEntry.objects.filter(evidence=evidence, action=action).last()
        if entry is not None:
            return entry


def upload(actor: Any, case: Case, body: bytes = b"%PDF-1.4 statement of witness\n") -> Evidence:
    return services.evidence_add(
        access=case_access(actor, case),
        upload=SimpleUploadedFile("statement.pdf", body, content_type="application/pdf"),
        description="Statement taken at Lajas Blancas",
        remote_addr="127.0.0.1",
    )


def test_worker_appends_verified_custody_entry_after_upload(
    worker: TaskRuns, investigator: Any, case: Case
) -> None:
    assert app.conf.task_always_eager is False

    evidence = upload(investigator, case)
    entry = wait_for_custody(worker, evidence, CustodyEntry.Action.VERIFIED)

    assert entry.detail == f"sha256={evidence.sha256} size={evidence.size}"
    assert entry.actor is None
    assert "SUCCESS" in worker.states
    assert all(name != threading.main_thread().name for name in worker.thread_names)
    actions = list(CustodyEntry.objects.filter(evidence=evidence).values_list("action", flat=True))
    assert actions[0] == CustodyEntry.Action.UPLOADED
    assert CustodyEntry.Action.MISMATCH not in actions


def test_worker_reports_mismatch_for_tampered_stored_file(
    worker: TaskRuns, investigator: Any, case: Case
) -> None:
    assert app.conf.task_always_eager is False
    evidence = upload(investigator, case)
    wait_for_custody(worker, evidence, CustodyEntry.Action.VERIFIED)

    tampered = b"%PDF-1.4 a different statement\n"
    Path(evidence.file.path).write_bytes(tampered)
    tasks.evidence_verify.delay(evidence.pk)
    entry = wait_for_custody(worker, evidence, CustodyEntry.Action.MISMATCH)

    assert entry.detail == f"sha256={hashlib.sha256(tampered).hexdigest()} size={len(tampered)}"
    actions = list(CustodyEntry.objects.filter(evidence=evidence).values_list("action", flat=True))
    assert actions == [
        CustodyEntry.Action.UPLOADED,
        CustodyEntry.Action.VERIFIED,
        CustodyEntry.Action.MISMATCH,
    ]
