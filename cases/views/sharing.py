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
from casebook.models import AccessLog, Agency
from cases import selectors, sharing
from cases.forms.sharing import ShareForm
from cases.models import Case, CaseShare


@login_required
@require_http_methods(["GET", "POST"])
def case_shares(request: HttpRequest, case: UUID) -> HttpResponse:
    the_case = selectors.get_case_for_user(request.user, case, action="manage")
    agency = request.user.member.agency  # type: ignore[union-attr]
    is_owner = agency.pk == the_case.owner_agency_id
    form = ShareForm(
        request.POST if request.method == "POST" else None,
        agencies=selectors.share_target_agencies(the_case, agency),
        is_owner=is_owner,
        expiry_limit=None if is_owner else sharing.reshare_expiry_limit(the_case, agency),
    )
    if form.is_bound:
        share = _share(request, the_case, form)
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
def share_revoke(request: HttpRequest, case: UUID, share: UUID) -> HttpResponse:
    the_share = selectors.get_share_for_user(request.user, case, share)
    if request.method == "POST":
        try:
            sharing.share_revoke(actor=request.user, share=the_share)
        except ValidationError as error:
            detail = " ".join(error.messages)
            access.record_refusal(
                user=request.user, case=the_share.case, action="revoke", detail=detail
            )
            messages.error(request, detail)
        else:
            access.record(
                action=AccessLog.Action.REVOKE,
                object_type="share",
                case=the_share.case,
                object_uuid=the_share.uuid,
            )
            messages.success(
                request,
                _("The share with %(agency)s was revoked.") % {"agency": the_share.agency.name},
            )
        return redirect("cases:shares", case=the_share.case.uuid)
    agency = request.user.member.agency  # type: ignore[union-attr]
    context = {
        "case": the_share.case,
        "share": the_share,
        "may_revoke": the_share.ended_at is None and sharing.may_revoke(agency, the_share),
    }
    return render(request, "cases/share_revoke.html", context)


def _share(request: HttpRequest, case: Case, form: ShareForm) -> CaseShare | None:
    """Share as the posted form says; ``None`` (and a "refused" access-log row) if the form
    or the service refuses it."""
    if form.is_valid():
        try:
            share = sharing.case_share(actor=request.user, case=case, **form.share_values())
        except ValidationError as error:
            form.add_service_error(error)
        else:
            access.record(
                action=AccessLog.Action.SHARE,
                object_type="share",
                case=case,
                object_uuid=share.uuid,
                detail=f"{share.agency.acronym or share.agency.name} {share.level}",
            )
            return share
    # The errors are the form's own texts: they carry no case content.
    detail = "; ".join(
        f"{name}: {' '.join(str(message) for message in errors)}"
        for name, errors in form.errors.items()
    )
    access.record_refusal(user=request.user, case=case, action="share", detail=detail)
    return None


def _context(case: Case, agency: Agency, form: ShareForm) -> dict[str, object]:
    shares = list(selectors.share_list(case))
    for share in shares:
        share.case = case
        share.may_revoke = sharing.may_revoke(agency, share)  # type: ignore[attr-defined]
    is_owner = agency.pk == case.owner_agency_id
    return {
        "case": case,
        "form": form,
        "open_shares": [share for share in shares if share.ended_at is None],
        "ended_shares": [share for share in shares if share.ended_at is not None],
        "is_owner": is_owner,
        "may_share": sharing.may_grant(
            case.handling_code, is_owner=is_owner, actor_level=CaseShare.Level.MANAGE
        ),
        "rules": [
            (Case.HandlingCode(code).label, code, rule)
            for code, rule in sharing.HANDLING_RULES.items()
        ],
    }
