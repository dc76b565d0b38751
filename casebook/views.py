"""The dashboard, the management of an agency's members, and its notifications.

Each view: decorators, fetch through a selector, validate a form, call one service, redirect
or render. Case data comes from ``cases.selectors`` only.
"""

from collections.abc import Callable
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from casebook import access, accounts, listparams, selectors, services
from casebook.auth import AuthenticatedHttpRequest
from casebook.forms import AgencySettingsForm, MemberAddForm, MemberEditForm
from casebook.models import AccessLog, Member
from cases import selectors as case_selectors
from cases.models import Case

RECENT_CASES = 10
DASHBOARD_HITS = 5


@login_required
@require_GET
def dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
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
def member_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    members = selectors.member_list(request.user)
    return render(request, "casebook/member_list.html", {"members": members})


@login_required
@require_http_methods(["GET", "POST"])
def member_add(request: AuthenticatedHttpRequest) -> HttpResponse:
    agency = selectors.managed_agency(request.user)
    form = MemberAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            member = services.member_add(
                actor=request.user,
                agency=agency,
                base_url=accounts.base_url(request),
                **form.member_values(),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            done = _("%(user)s is now a member; a link to choose a password was sent to %(email)s.")
            messages.success(request, done % {"user": member.user, "email": member.user.email})
            return redirect("members")
    return render(request, "casebook/member_form.html", {"form": form, "agency": agency})


@login_required
@require_http_methods(["GET", "POST"])
def member_edit(request: AuthenticatedHttpRequest, member: UUID) -> HttpResponse:
    target = selectors.get_member_for_supervisor(request.user, member)
    if request.method == "POST" and request.POST.get("action") in ACCESS_ACTIONS:
        return _member_access(request, target, request.POST["action"])
    form = MemberEditForm.for_member(target, request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.member_update(actor=request.user, member=target, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("%(user)s was updated.") % {"user": target.user})
            return redirect("members")
    role_changes = selectors.role_changes(target)
    context = {"form": form, "member": target, "role_changes": role_changes}
    return render(request, "casebook/member_form.html", context)


def _send_link(*, actor: User, member: Member, base_url: str) -> str:
    return services.member_link_send(actor=actor, user=member.user, base_url=base_url)


# The service each button calls (with ``actor`` and ``member``; ``base_url`` too for the
# link), and what is said when it is done.
ACCESS_ACTIONS: dict[str, tuple[Callable[..., object], Promise]] = {
    "deactivate": (services.member_deactivate, _("%(user)s can no longer sign in.")),
    "reactivate": (services.member_reactivate, _("%(user)s can sign in again.")),
    "send_link": (_send_link, _("A link to choose a password was sent to %(user)s.")),
}


def _member_access(request: AuthenticatedHttpRequest, member: Member, action: str) -> HttpResponse:
    """Deactivate, reactivate, or e-mail a link to choose a password (the POST buttons of
    the member page)."""
    service, done = ACCESS_ACTIONS[action]
    extra = {"base_url": accounts.base_url(request)} if action == "send_link" else {}
    try:
        service(actor=request.user, member=member, **extra)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, done % {"user": member.user})
    return redirect("member_edit", member=member.uuid)


# --- notifications -------------------------------------------------------------------------

NOTIFICATIONS_PER_PAGE = 25


@login_required
@require_http_methods(["GET", "POST"])
def notifications(request: AuthenticatedHttpRequest) -> HttpResponse:
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
    page = Paginator(rows, NOTIFICATIONS_PER_PAGE).get_page(listparams.page_number(request.GET))
    # Reading the notifications is a read: one access-log row per page.
    access.record(
        action=AccessLog.Action.VIEW, object_type="notifications", detail=f"page={page.number}"
    )
    return render(request, "casebook/notifications.html", {"page": page})


@login_required
@require_http_methods(["GET", "POST"])
def agency_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    agency = selectors.managed_agency(request.user)
    form = AgencySettingsForm(request.POST or None, instance=agency)
    if request.method == "POST" and form.is_valid():
        services.agency_settings_update(
            actor=request.user,
            agency=agency,
            contact_point=form.cleaned_data["contact_point"],
            protected_match_policy=form.cleaned_data["protected_match_policy"],
        )
        messages.success(request, _("Your agency's settings are saved."))
        return redirect("agency_settings")
    return render(request, "casebook/agency_settings.html", {"form": form, "agency": agency})
