"""Background work on cases. Tasks take primary keys, are idempotent and call services."""

from celery import shared_task

from cases import services
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
