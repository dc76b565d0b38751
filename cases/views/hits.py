"""Cross-case hits: the list of matches with cases the member may not see, dismissing one for
the agency, and the supervisors' review of keys too common to produce hits."""

from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from casebook import access, listparams
from casebook.auth import AuthenticatedHttpRequest
from casebook.models import AccessLog
from cases import rules, selectors, services
from cases.selectors.hits import detection_list

HITS_PER_PAGE = 25
COMMON_KEYS_PER_PAGE = 50
DETECTIONS_SHOWN = 50


@login_required
@require_GET
def hits(request: AuthenticatedHttpRequest) -> HttpResponse:
    show_dismissed = request.GET.get("dismissed") == "1"
    hits = selectors.hit_list(request.user, show_dismissed=show_dismissed)
    page = Paginator(hits, HITS_PER_PAGE).get_page(listparams.page_number(request.GET))
    _record_list_read("hit_list", page, dismissed=show_dismissed)
    member = getattr(request.user, "member", None)
    context = {
        "page": page,
        "show_dismissed": show_dismissed,
        "is_supervisor": member is not None and member.is_supervisor,
    }
    return render(request, "cases/hit_list.html", context)


def _record_list_read(object_type: str, page: Any, *, dismissed: bool = False) -> None:
    """One access-log row per list page read: which page, how many rows it showed."""
    shown = len(page.object_list)
    detail = f"page {page.number}, {shown} shown" + (", dismissed included" if dismissed else "")
    access.record(action=AccessLog.Action.VIEW, object_type=object_type, detail=detail)


@login_required
@require_POST
def hit_dismiss(request: AuthenticatedHttpRequest, hit: UUID) -> HttpResponse:
    the_hit = selectors.get_hit_for_user(request.user, hit)
    services.hit_dismiss(actor=request.user, hit=the_hit)
    messages.success(request, _("The hit was dismissed for your agency."))
    return redirect("cases:hits")


@login_required
@require_GET
def common_keys(request: AuthenticatedHttpRequest) -> HttpResponse:
    keys = selectors.common_key_list(request.user)
    page = Paginator(keys, COMMON_KEYS_PER_PAGE).get_page(listparams.page_number(request.GET))
    _record_list_read("common_key_list", page)
    rows = [(key, rules.key_kind_label(key.key), rules.key_value(key.key)) for key in page]
    context = {
        "page": page,
        "rows": rows,
        "limit": rules.hit_key_limit(),
        "detections": detection_list(request.user)[:DETECTIONS_SHOWN],
        "member_budget": settings.CASEBOOK_HIT_DETECT_MEMBER_PER_HOUR,
        "agency_budget": settings.CASEBOOK_HIT_DETECT_AGENCY_PER_HOUR,
    }
    return render(request, "cases/hit_common_keys.html", context)


@login_required
@require_POST
def common_key_mark(request: AuthenticatedHttpRequest, key: UUID) -> HttpResponse:
    common_key = selectors.get_common_key_for_supervisor(request.user, key)
    services.common_key_mark(actor=request.user, common_key=common_key)
    messages.success(request, _("The key is confirmed as common."))
    return redirect("cases:common_keys")


@login_required
@require_POST
def common_key_restore(request: AuthenticatedHttpRequest, key: UUID) -> HttpResponse:
    common_key = selectors.get_common_key_for_supervisor(request.user, key)
    services.common_key_restore(actor=request.user, common_key=common_key)
    messages.success(request, _("The key is restored: its matches are being detected again."))
    return redirect("cases:common_keys")
