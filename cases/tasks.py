"""Background work on cases. Tasks take primary keys, are idempotent and call services."""

from celery import shared_task
from django.db import OperationalError

from cases import outbox, services
from cases.models import Evidence


@shared_task(
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def evidence_verify(evidence_id: int) -> str | None:
    """Check the stored copy of an evidence file against the SHA-256 recorded at upload and
    append the result to its chain of custody. Returns the custody action, or None if the
    evidence no longer exists."""
    evidence = Evidence.objects.filter(pk=evidence_id).first()
    if evidence is None:
        return None
    return services.evidence_verify_integrity(evidence=evidence).action


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def shares_expire_task() -> int:
    """Close the shares whose expiry has passed and notify both agencies (Celery beat runs it
    every few minutes). Idempotent; expired shares gave no access already. Returns how many
    shares it closed."""
    return services.shares_expire()


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def hits_detect_task(entity_id: int, actor_id: int | None = None) -> int:
    """Compare an entity's match keys with other cases' and update its hits (queued on commit
    by ``entity_add`` / ``entity_update`` within the detection budget); new hits record
    ``actor_id`` as who triggered them. Idempotent; returns the number of new hits."""
    return len(services.hits_detect(entity_id=entity_id, triggered_by_id=actor_id))


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def hits_deferred_task() -> int:
    """Run the hit detections deferred by the hourly budgets, as far as the budgets allow
    now (Celery beat runs it every few minutes). Idempotent; returns how many it ran."""
    return services.detections_release()


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def hits_redetect_key_task(key: str, actor_id: int | None = None) -> int:
    """Detect again the hits of every holder of a common key a supervisor restored (queued on
    commit by ``hits.common_key_restore``). Idempotent; returns the number of new hits."""
    return services.hits_redetect_key(key=key, triggered_by_id=actor_id)


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def hits_notify_task(pairs: list[list[int]]) -> int:
    """Notify the owner agencies of new hits, given as [lower entity id, higher entity id]
    pairs (queued on commit by ``hits_detect``). Idempotent: a notice already given is not
    given again. Returns the number of notifications written."""
    return services.hits_notify(pairs=pairs)


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def events_deliver_task(event_id: int) -> int:
    """Run the subscribers of a case event that have not had it yet (queued on commit by
    ``outbox.case_changed`` through the dispatcher the cases app registers). Idempotent: each
    subscriber has an event once. Returns the number of deliveries made."""
    return outbox.deliver(event_id)


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def events_deliver_batch_task(event_ids: list[int]) -> int:
    """``events_deliver_task`` for many events at once (those of a write in bulk, queued by
    ``outbox.cases_created_in_bulk``). Idempotent; returns the number of deliveries made."""
    return sum(outbox.deliver(event_id) for event_id in event_ids)


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def events_sweep_task() -> int:
    """Deliver the case events left behind by a broker that was down or a worker that died,
    and delete old events every subscriber has had (Celery beat runs it every minute).
    Idempotent; returns the number of deliveries made."""
    return outbox.sweep()
