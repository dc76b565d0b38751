"""The few questions the core asks about cases, answered by the cases app.

The access log and the notifications belong to the core (``casebook``), and they point at
cases: is the case of this log row visible to the reader today, which cases does an agency
own, which case does a public id in a URL name. The core must not import ``cases`` (the
import contracts in pyproject.toml hold it), so it asks through this interface and the cases
app answers: ``CasesConfig.ready`` registers its selectors with :func:`provide`. Asking before
that (a misconfigured project without the cases app) fails loudly, never open.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Exists, QuerySet

from casebook.auth import RequestUser


class CaseRef(Protocol):
    """What the core reads of a case it is handed (a ``cases.models.Case``)."""

    @property
    def pk(self) -> int: ...

    @property
    def uuid(self) -> UUID: ...

    @property
    def reference(self) -> str: ...


@dataclass(frozen=True)
class CaseLookups:
    # ``Exists()`` true for rows whose case (the field named by ``case_ref``) the user's
    # agency holds ``codename`` on: ``visible(user, case_ref="case_id", codename="view_case")``.
    visible: Callable[..., Exists]
    # The ids of the cases the user may see that have this reference (any letter case).
    visible_ids_by_reference: Callable[[RequestUser, str], list[int]]
    # The cases an agency owns, as a queryset of case rows (the caller takes their ids).
    owned_by: Callable[[int], QuerySet[Any]]
    # The id and reference of the case with this public id, whoever asks: for the access
    # log only (a refused request names the case it tried to reach; see ``casebook.access``).
    id_and_reference: Callable[[UUID], tuple[int, str] | None]


_provided: list[CaseLookups] = []


def provide(lookups: CaseLookups) -> None:
    """Register the cases app's answers (once, at start-up; again replaces them)."""
    _provided[:] = [lookups]


def lookups() -> CaseLookups:
    if not _provided:
        raise ImproperlyConfigured("The cases app has not registered its lookups.")
    return _provided[0]
