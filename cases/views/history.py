"""A case's timeline and its change history: read-only pages for anyone who may view it."""

from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from casebook.auth import AuthenticatedHttpRequest
from cases import selectors
from cases.selectors import history

HISTORY_PAGE_SIZE = 50


@login_required
@require_http_methods(["GET", "HEAD"])
def case_timeline(request: AuthenticatedHttpRequest, case: UUID) -> HttpResponse:
    case_access = selectors.get_case_access(request.user, case, action="view")
    case_obj = case_access.case
    newest_first = request.GET.get("order") == "desc"
    items = history.timeline_items(
        case_obj,
        movements=selectors.movement_list(case_access),
        relationships=selectors.relationship_list(case_access),
        notes=selectors.note_list(case_access),
        newest_first=newest_first,
    )
    context = {"case": case_obj, "items": items, "newest_first": newest_first}
    return render(request, "cases/case_timeline.html", context)


@login_required
@require_http_methods(["GET", "HEAD"])
def case_history(request: AuthenticatedHttpRequest, case: UUID) -> HttpResponse:
    case_access = selectors.get_case_access(request.user, case, action="view")
    case_obj = case_access.case
    object_type = request.GET.get("object", "")
    if object_type not in history.OBJECT_TYPES:
        object_type = ""
    username = request.GET.get("user", "").strip()[:150]
    result = history.history_events(case_access, object_type=object_type, username=username)
    page = Paginator(result.events, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "case": case_obj,
        "page_obj": page,
        "users": result.users,
        "object_types": [(key, label) for key, (_m, label) in history.OBJECT_TYPES.items()],
        "selected_object": object_type,
        "selected_user": username,
    }
    return render(request, "cases/case_history.html", context)
