"""Writing the access log: who read or tried to read what, when and from where.

Reads of case data all go through ``cases.selectors``; the selectors call :func:`record`, which
writes one ``AccessLog`` row per object and request. :class:`AccessLogMiddleware` makes the
current request known to :func:`record` (user, agency, path, page, remote address) through a
context variable, and writes a "refused" row for every request that ends in a 404 or a 403.
A refused row says what was attempted (``AccessLog.attempted``): what the code that refused
declared through :func:`attempting_overall`, :func:`attempting` or :func:`record_refusal`,
else "open" (a page) or "submit" (a form). A failed CSRF check is a refusal too
(:func:`record_csrf_failure`).

Outside a request (Celery tasks, management commands, tests that call selectors directly)
there is nobody to log and :func:`record` does nothing.

Writing is synchronous and never guarded: if the INSERT fails, the exception propagates and
the request fails. An access that could not be logged must not be served.
"""

import ipaddress
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from uuid import UUID

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from casebook.auth import RequestUser
from casebook.caselookups import CaseRef, lookups
from casebook.models import AccessLog, Member

MAX_PATH = AccessLog._meta.get_field("path").max_length or 500
MAX_DETAIL = AccessLog._meta.get_field("detail").max_length or 255
MAX_ATTEMPTED = AccessLog._meta.get_field("attempted").max_length or 20

# What a refused request attempted when the code that refused it did not say.
OPEN = "open"
SUBMIT = "submit"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class RequestContext:
    """What the log needs to know about the request being served."""

    request: HttpRequest
    remote_addr: str | None
    # (action, object type, object uuid) already written during this request.
    written: set[tuple[str, str, str]] = field(default_factory=set)
    # What the request is trying to do, as declared by :func:`attempting`.
    attempted: str = ""
    # What the request as a whole is for, as declared by :func:`attempting_overall`.
    purpose: str = ""


_current: ContextVar[RequestContext | None] = ContextVar("casebook_access_log", default=None)


def current() -> RequestContext | None:
    """The request being served in this context, if any."""
    return _current.get()


def client_address(request: HttpRequest) -> str | None:
    """The client's IP address: ``REMOTE_ADDR``, or, behind ``CASEBOOK_TRUSTED_PROXY_COUNT``
    reverse proxies, the address the outermost trusted proxy saw in ``X-Forwarded-For``.

    Anything that is not an IP address is dropped: the column is an ``inet`` on PostgreSQL,
    and a forged header must not make the log write fail.
    """
    address = request.META.get("REMOTE_ADDR", "")
    proxies = int(getattr(settings, "CASEBOOK_TRUSTED_PROXY_COUNT", 0) or 0)
    if proxies > 0:
        # Each trusted proxy appends the address it received the request from; entries to
        # the left of those are whatever the client chose to send, and are not trusted.
        forwarded = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        ]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= proxies:
            address = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def attempting(action: str) -> None:
    """Declare what the current request is trying to do (e.g. "contribute" on a case), so
    that a refusal of it (a 404 or 403 raised afterwards) is logged with that action. The
    permission checks call it before they decide; outside a request it does nothing."""
    context = _current.get()
    if context is not None:
        context.attempted = action


def attempting_overall(action: str) -> None:
    """Declare what the whole request is for (e.g. "download"), whatever the permission checks
    on the way declare (the case's "view"): a refusal anywhere in it, before :func:`record`
    logs ``action`` as granted, is logged as a refused ``action``. A refused download is a
    refused download, not a refused view. Outside a request it does nothing."""
    context = _current.get()
    if context is not None:
        context.purpose = action


def record(
    *,
    action: str,
    object_type: str,
    case: CaseRef | None = None,
    object_uuid: UUID | str | None = None,
    detail: str = "",
) -> None:
    """Write one access-log row for the current request: ``action`` (an ``AccessLog.Action``
    value, or a case action such as "contribute") on an object of ``object_type``.

    Does nothing outside a request, and writes the same (action, object type, object uuid)
    once per request. ``detail`` is appended to the name of the page (URL name) that was
    read. Raises whatever the INSERT raises: the caller's request must then fail.
    """
    context = _current.get()
    if context is None:
        return
    # What was declared as attempted has been allowed: a later refusal is of something else.
    context.attempted = ""
    if action == context.purpose:
        context.purpose = ""
    key = (action, object_type, str(object_uuid or ""))
    if key in context.written:
        return
    _write(
        context.request,
        user=_user_of(context.request),
        remote_addr=context.remote_addr,
        action=action,
        object_type=object_type,
        case_id=case.pk if case is not None else None,
        case_reference=case.reference if case is not None else "",
        object_uuid=object_uuid,
        detail=_page_detail(context.request, detail),
    )
    context.written.add(key)


def record_refusal(
    *, user: RequestUser | None, case: CaseRef | None, action: str, detail: str
) -> None:
    """Write a "refused" row: ``user`` attempted ``action`` (e.g. "share") on ``case`` and a
    service refused it (``detail`` says why). For views that catch a service's
    ``ValidationError``; 404s and 403s are logged by the middleware already.

    Written inside or outside a request (the path and address are known only inside)."""
    context = _current.get()
    request = context.request if context is not None else None
    _write(
        request,
        user=user,
        remote_addr=context.remote_addr if context is not None else None,
        action=AccessLog.Action.REFUSED,
        attempted=action,
        object_type="case" if case is not None else "page",
        case_id=case.pk if case is not None else None,
        case_reference=case.reference if case is not None else "",
        object_uuid=case.uuid if case is not None else None,
        detail=detail,
    )


def record_csrf_failure(request: HttpRequest, *, reason: str) -> None:
    """Write a "refused" row for a request that failed Django's CSRF check (the form was
    posted without a valid token: it expired, or another site posted it). ``reason`` is
    Django's. Raises whatever the INSERT raises, like every write of the log."""
    _record_refused_request(request, attempted=SUBMIT, outcome=f"CSRF check failed: {reason}")


def _write(
    request: HttpRequest | None,
    *,
    user: RequestUser | None,
    remote_addr: str | None,
    action: str,
    attempted: str = "",
    object_type: str,
    case_id: int | None,
    case_reference: str,
    object_uuid: UUID | str | None,
    detail: str,
) -> AccessLog:
    # Nobody signed in is logged as nobody (no user, no agency).
    signed_in = user if user is not None and user.is_authenticated else None
    member: Member | None = getattr(signed_in, "member", None)
    return AccessLog.objects.create(
        user=signed_in,
        username=signed_in.get_username() if signed_in is not None else "",
        agency_id=member.agency_id if member is not None else None,
        case_id=case_id,
        case_reference=case_reference,
        action=action,
        attempted=attempted[:MAX_ATTEMPTED],
        object_type=object_type,
        object_uuid=object_uuid,
        path=request.get_full_path()[:MAX_PATH] if request is not None else "",
        remote_addr=remote_addr,
        detail=detail[:MAX_DETAIL],
    )


def _user_of(request: HttpRequest) -> RequestUser | None:
    # ``AuthenticationMiddleware`` sets ``request.user``; a request refused before it ran has
    # none, and is logged as nobody's.
    user: RequestUser | None = getattr(request, "user", None)
    return user


def _page_detail(request: HttpRequest, detail: str = "") -> str:
    """The URL name of the page (e.g. "cases:history"), then ``detail``."""
    match = request.resolver_match
    view_name = match.view_name if match is not None else ""
    return f"{view_name} {detail}".strip()


class AccessLogMiddleware:
    """Makes the current request known to :func:`record`, and logs refused requests.

    Place it after ``AuthenticationMiddleware`` (it reads ``request.user``, lazily)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _current.set(RequestContext(request, client_address(request)))
        try:
            return self.get_response(request)
        finally:
            _current.reset(token)

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        if isinstance(exception, Http404 | PermissionDenied):
            status = 404 if isinstance(exception, Http404) else 403
            context = _current.get()
            attempted = (context.purpose or context.attempted) if context is not None else ""
            if not attempted:
                attempted = OPEN if request.method in SAFE_METHODS else SUBMIT
            _record_refused_request(
                request, attempted=attempted, outcome=f"{request.method} {status}"
            )
        # Django then answers with its usual 404 or 403 page: the requester learns nothing.


def _record_refused_request(request: HttpRequest, *, attempted: str, outcome: str) -> None:
    """Write a "refused" row for ``request``, naming the object its URL names."""
    match = request.resolver_match
    kwargs = match.kwargs if match is not None else {}
    # The most specific public id in the URL names what was asked for ("entity", "evidence"...).
    object_type, object_uuid = "page", None
    for name, value in kwargs.items():
        if isinstance(value, UUID):
            object_type, object_uuid = name, value
    case_id, case_reference = None, ""
    case_uuid = kwargs.get("case")
    if isinstance(case_uuid, UUID):
        # Who tried to reach which case, for the owner's supervisors (``caselookups``).
        row = lookups().id_and_reference(case_uuid)
        if row is not None:
            case_id, case_reference = row
    context = _current.get()
    _write(
        request,
        user=_user_of(request),
        remote_addr=context.remote_addr if context is not None else client_address(request),
        action=AccessLog.Action.REFUSED,
        attempted=attempted,
        object_type=object_type,
        case_id=case_id,
        case_reference=case_reference,
        object_uuid=object_uuid,
        detail=_page_detail(request, outcome),
    )
