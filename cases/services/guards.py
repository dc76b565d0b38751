"""What every write service checks before it writes: fail closed.

The services do not trust their callers to have checked permissions. Each takes the
``CaseAccess`` its caller got from ``cases.selectors`` (which costs no further query here) and
refuses (``PermissionDenied``) an action the access does not allow, a record of another case,
and a change to a protected identity by someone who sees it masked. A new endpoint that
forgets a check therefore cannot write. And what the access log must say of a refused write
is said here once (``refusals_logged``), not in each view or channel.
"""

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, Prefetch, Q
from django.utils.translation import gettext as _

from casebook import access as access_log
from cases import protection
from cases.models import Entity, Movement, Relationship
from cases.permissions import CaseAccess

Service = TypeVar("Service", bound=Callable[..., Any])


def acting_member(access: CaseAccess, action: str) -> User:
    """The user of ``access`` if they may take ``action`` on its case (else 403)."""
    access.require(action)
    return access.user


def record_author(access: CaseAccess, record: Model, *, action: str = "contribute") -> User:
    """The user of ``access`` if they may take ``action`` on ``record``: a record of the
    case of ``access`` (else 403) that involves no protected identity they see masked
    (else 403: changing or removing requires seeing what one changes)."""
    user = acting_member(access, action)
    if getattr(record, "case_id", None) != access.case.pk:
        raise PermissionDenied(_("You may not do this on this case."))
    if not access.sees_protected and _involves_protected(record):
        raise PermissionDenied(
            _("This involves a protected identity: only those who may see it may change it.")
        )
    return user


_FACILITATORS = Prefetch("facilitators", queryset=Entity.objects.select_related("holder"))


def require_links_seen(access: CaseAccess, entity: Entity) -> None:
    """Refuse (403) removing ``entity`` when that would remove a relationship or a
    facilitator link involving a protected identity that the user of ``access`` sees masked:
    removing those requires seeing them. No query for one who sees protected identities."""
    if access.sees_protected:
        return
    relationships = Relationship.objects.filter(Q(source=entity) | Q(target=entity)).select_related(
        "source__holder", "target__holder"
    )
    # Facilitators prefetched with their holders: one query for all the movements, not one
    # per movement.
    movements = (
        Movement.objects.filter(Q(origin=entity) | Q(destination=entity) | Q(facilitators=entity))
        .distinct()
        .select_related("origin__holder", "destination__holder")
        .prefetch_related(_FACILITATORS)
    )
    if any(_involves_protected(link) for link in [*relationships, *movements]):
        raise PermissionDenied(
            _("This involves a protected identity: only those who may see it may change it.")
        )


def _involves_protected(record: Model) -> bool:
    if isinstance(record, Entity):
        return protection.is_protected(record)
    if isinstance(record, Relationship):
        return protection.touches_protected(record.source, record.target)
    if isinstance(record, Movement):
        if protection.touches_protected(record.origin, record.destination):
            return True
        # Prefetched by ``require_links_seen``; one query here for a single movement.
        return any(protection.is_protected(person) for person in record.facilitators.all())
    return False


def refusals_logged(action: str) -> Callable[[Service], Service]:
    """Write a ``ValidationError`` of the decorated service to the access log as a refused
    ``action`` (e.g. "share"), then raise it again. The service takes ``access`` (a
    ``CaseAccess``) by keyword.

    Put it outside ``@transaction.atomic``: the row is written after the service's
    transaction has rolled back, so it stays (a row written inside would roll back too).
    404s and 403s are logged by the access-log middleware already.
    """

    def decorate(service: Service) -> Service:
        @functools.wraps(service)
        def logged(*args: Any, **kwargs: Any) -> Any:
            try:
                return service(*args, **kwargs)
            except ValidationError as error:
                case_access: CaseAccess = kwargs["access"]
                access_log.record_refusal(
                    user=case_access.user,
                    case=case_access.case,
                    action=action,
                    detail=_refusal_detail(error),
                )
                raise

        return cast(Service, logged)

    return decorate


def _refusal_detail(error: ValidationError) -> str:
    """The messages of ``error``, by field where it has fields ("agency: ...; level: ...").
    They are the services' own texts: they carry no case content."""
    if hasattr(error, "error_dict"):
        return "; ".join(
            f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items()
        )
    return " ".join(error.messages)
