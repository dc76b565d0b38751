"""A case's timeline and its change history: read-only pages for anyone who may view it."""

from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from cases import history, selectors

HISTORY_PAGE_SIZE = 50


@login_required
@require_http_methods(["GET", "HEAD"])
def case_timeline(request: HttpRequest, case: UUID) -> HttpResponse:
    case_obj = selectors.get_case_for_user(request.user, case, action="view")
    newest_first = request.GET.get("order") == "desc"
    items = history.timeline_items(
        case_obj,
        movements=selectors.movement_list(case_obj),
        relationships=selectors.relationship_list(case_obj),
        notes=selectors.note_list(case_obj),
        newest_first=newest_first,
    )
    context = {"case": case_obj, "items": items, "newest_first": newest_first}
    return render(request, "cases/case_timeline.html", context)


@login_required
@require_http_methods(["GET", "HEAD"])
def case_history(request: HttpRequest, case: UUID) -> HttpResponse:
    case_obj = selectors.get_case_for_user(request.user, case, action="view")
    object_type = request.GET.get("object", "")
    if object_type not in history.OBJECT_TYPES:
        object_type = ""
    username = request.GET.get("user", "").strip()[:150]
    result = history.history_events(case_obj, object_type=object_type, username=username)
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
