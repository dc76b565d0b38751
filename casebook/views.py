"""The dashboard, the management of an agency's members, and its notifications.

Each view: decorators, fetch through a selector, validate a form, call one service, redirect
or render. Case data comes from ``cases.selectors`` only.
"""

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from casebook import selectors, services
from casebook.forms import MemberAddForm, MemberEditForm
from casebook.models import Member
from cases import selectors as case_selectors
from cases.models import Case

RECENT_CASES = 10
DASHBOARD_HITS = 5


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    member = selectors.membership(request.user)
    if member is None:
        return render(request, "casebook/dashboard.html", {"member": None})
    counts = case_selectors.dashboard_counts(request.user)
    context = {
        "member": member,
        "open_cases": case_selectors.agency_open_cases(request.user, limit=RECENT_CASES),
        "recent_cases": case_selectors.case_list(request.user)[:RECENT_CASES],
        "status_counts": [(value, label, counts[value]) for value, label in Case.Status.choices],
        "total_cases": sum(counts.values()),
        "hits": case_selectors.hit_list(request.user)[:DASHBOARD_HITS],
    }
    return render(request, "casebook/dashboard.html", context)


@login_required
@require_GET
def member_list(request: HttpRequest) -> HttpResponse:
    members = selectors.member_list(request.user)
    return render(request, "casebook/member_list.html", {"members": members})


@login_required
@require_http_methods(["GET", "POST"])
def member_add(request: HttpRequest) -> HttpResponse:
    agency = selectors.managed_agency(request.user)
    form = MemberAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            member = services.member_add(actor=request.user, agency=agency, **form.member_values())
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("%(user)s is now a member.") % {"user": member.user})
            return redirect("members")
    return render(request, "casebook/member_form.html", {"form": form, "agency": agency})


@login_required
@require_http_methods(["GET", "POST"])
def member_edit(request: HttpRequest, member: UUID) -> HttpResponse:
    target = selectors.get_member_for_supervisor(request.user, member)
    if request.method == "POST" and request.POST.get("action") in ACCESS_ACTIONS:
        return _member_access(request, target, request.POST["action"])
    form = MemberEditForm.for_member(target, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.member_update(actor=request.user, member=target, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("%(user)s was updated.") % {"user": target.user})
            return redirect("members")
    return render(request, "casebook/member_form.html", {"form": form, "member": target})


ACCESS_ACTIONS = {
    "deactivate": (services.member_deactivate, _("%(user)s can no longer sign in.")),
    "reactivate": (services.member_reactivate, _("%(user)s can sign in again.")),
}


def _member_access(request: HttpRequest, member: Member, action: str) -> HttpResponse:
    """Deactivate or reactivate a member (the POST buttons of the member page)."""
    service, done = ACCESS_ACTIONS[action]
    try:
        service(actor=request.user, member=member)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, done % {"user": member.user})
    return redirect("member_edit", member=member.uuid)


# --- notifications -------------------------------------------------------------------------

NOTIFICATIONS_PER_PAGE = 25


@login_required
@require_http_methods(["GET", "POST"])
def notifications(request: HttpRequest) -> HttpResponse:
    """The user's agency's notifications, newest first. POST marks them all as read, or the
    one named by ``notification`` (a uuid; anything else marks nothing)."""
    rows = selectors.notification_list(request.user)
    if request.method == "POST":
        unread = rows.filter(Q(is_read=False))
        which = request.POST.get("notification")
        if which is not None:
            try:
                unread = unread.filter(uuid=UUID(which))
            except ValueError:
                unread = unread.none()
        services.notifications_mark_read(user=request.user, notifications=unread)
        return redirect("notifications")
    page = Paginator(rows, NOTIFICATIONS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "casebook/notifications.html", {"page": page})
