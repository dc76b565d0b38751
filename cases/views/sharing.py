"""A case's sharing page: its shares, the share form with the handling-code rules, revoking.

Only members who may manage the case see it (the owner agency's supervisors, and those of
agencies it was shared with at the manage level); everyone else gets 403, or 404 if they may
not see the case at all. A refused share or revoke is written to the access log here, after
the service's transaction has rolled back, so that the log row stays.
"""

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from casebook import access
from casebook.auth import AuthenticatedHttpRequest
from casebook.models import Agency
from cases import rules, selectors, services
from cases.forms.sharing import ShareForm
from cases.models import Case, CaseShare
from cases.permissions import CaseAccess


@login_required
@require_http_methods(["GET", "POST"])
def case_shares(request: AuthenticatedHttpRequest, case: UUID) -> HttpResponse:
    case_access = selectors.get_case_access(request.user, case, action="manage")
    the_case = case_access.case
    agency = request.user.member.agency
    is_owner = agency.pk == the_case.owner_agency_id
    form = ShareForm(
        request.POST if request.method == "POST" else None,
        agencies=selectors.share_target_agencies(the_case, agency),
        is_owner=is_owner,
        expiry_limit=None if is_owner else selectors.reshare_expiry_limit(the_case, agency),
    )
    if form.is_bound:
        share = _share(request, case_access, form)
        if share is not None:
            messages.success(
                request,
                _("Case %(reference)s shared with %(agency)s.")
                % {"reference": the_case.reference, "agency": share.agency.name},
            )
            return redirect("cases:shares", case=the_case.uuid)
    return render(request, "cases/share_list.html", _context(the_case, agency, form))


@login_required
@require_http_methods(["GET", "POST"])
def share_revoke(request: AuthenticatedHttpRequest, case: UUID, share: UUID) -> HttpResponse:
    case_access, the_share = selectors.get_share_for_user(request.user, case, share)
    if request.method == "POST":
        try:
            services.share_revoke(access=case_access, share=the_share)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("The share with %(agency)s was revoked.") % {"agency": the_share.agency.name},
            )
        return redirect("cases:shares", case=the_share.case.uuid)
    agency = request.user.member.agency
    context = {
        "case": the_share.case,
        "share": the_share,
        "may_revoke": the_share.ended_at is None and rules.may_revoke(agency, the_share),
    }
    return render(request, "cases/share_revoke.html", context)


def _share(request: HttpRequest, case_access: CaseAccess, form: ShareForm) -> CaseShare | None:
    """Share as the posted form says; ``None`` if the form or the service refuses it. The
    service writes the share, or its refusal, to the access log."""
    if not form.is_valid():
        # Refused before the service was asked: logged here, as the service logs its own.
        # The errors are the form's own texts: they carry no case content.
        detail = "; ".join(
            f"{name}: {' '.join(str(message) for message in errors)}"
            for name, errors in form.errors.items()
        )
        access.record_refusal(
            user=case_access.user, case=case_access.case, action="share", detail=detail
        )
        return None
    try:
        return services.case_share(access=case_access, **form.share_values())
    except ValidationError as error:
        form.add_service_error(error)
        return None


def _context(case: Case, agency: Agency, form: ShareForm) -> dict[str, object]:
    shares = list(selectors.share_list(case))
    for share in shares:
        share.case = case
        share.may_revoke = rules.may_revoke(agency, share)  # type: ignore[attr-defined]  # for the template
    is_owner = agency.pk == case.owner_agency_id
    return {
        "case": case,
        "form": form,
        "open_shares": [share for share in shares if share.ended_at is None],
        "ended_shares": [share for share in shares if share.ended_at is not None],
        "is_owner": is_owner,
        "may_share": rules.may_grant(
            case.handling_code, is_owner=is_owner, actor_level=CaseShare.Level.MANAGE
        ),
        "rules": [
            (Case.HandlingCode(code).label, code, rule)
            for code, rule in rules.HANDLING_RULES.items()
        ],
    }
