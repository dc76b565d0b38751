"""Case pages: the list, the detail page, and the case form (create and edit)."""

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from casebook import listparams
from casebook.auth import ADD_CASE, AuthenticatedHttpRequest, may
from cases import rules, selectors, services
from cases.forms.case import CaseFilterForm, CaseForm
from cases.models import CaseShare, Entity

PAGE_SIZE = 25


@login_required
@require_GET
def case_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = CaseFilterForm(request.GET)
    cases = selectors.CaseResults(request.user, form.filters())
    # Bounded by casebook.listparams; get_page() turns a number past the end into the last.
    page = Paginator(cases, PAGE_SIZE).get_page(listparams.page_number(request.GET))
    context = {"form": form, "page": page, "is_filtered": form.is_filtered()}
    return render(request, "cases/case_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def case_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not may(request.user, ADD_CASE):
        raise PermissionDenied(_("You may not open cases."))
    agency = request.user.member.agency
    data = request.POST if request.method == "POST" else None
    form = CaseForm(data, agency=agency)
    if form.is_bound and form.is_valid():
        try:
            case = services.case_create(actor=request.user, agency=agency, **form.cleaned_data)
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(
                request, _("Case %(reference)s opened.") % {"reference": case.reference}
            )
            return redirect(case)
    return render(request, "cases/case_form.html", {"form": form, "case": None})


@login_required
@require_GET
def case_detail(request: AuthenticatedHttpRequest, case: UUID) -> HttpResponse:
    case_access = selectors.get_case_access(request.user, case, action="view")
    case_obj = case_access.case
    records = selectors.case_records(case_access)
    context = {
        "case": case_obj,
        "access": case_access,
        "countries": records.countries,
        "entity_count": len(records.entities),
        "entity_groups": _group_by_kind(records.entities),
        "entity_kinds": Entity.Kind.choices,
        "relationships": records.relationships,
        "movements": records.movements,
        "notes": records.notes,
        "evidence_files": records.evidence,
        # No query: the member and the case are loaded already.
        "may_export": rules.may_export(request.user, case_obj),
    }
    return render(request, "cases/case_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def case_edit(request: AuthenticatedHttpRequest, case: UUID) -> HttpResponse:
    case_access = selectors.get_case_access(request.user, case, action="change")
    case_obj = case_access.case
    initial = CaseForm.initial_for(case_obj, list(selectors.case_country_list(case_obj)))
    data = request.POST if request.method == "POST" else None
    is_owner = request.user.member.agency_id == case_obj.owner_agency_id
    form = CaseForm(
        data,
        agency=case_obj.owner_agency,
        lead_officer=case_obj.lead_officer,
        initial=initial,
        editing=True,
        may_change_code=is_owner,
    )
    conflicts: list[CaseShare] = []
    if form.is_bound and form.is_valid():
        values = form.update_values()
        try:
            services.case_update_with_code(access=case_access, **values)
        except ValidationError as error:
            form.add_service_error(error)
            if "conflicting_shares" in getattr(error, "error_dict", {}):
                # Raising the code: show the owner what it would not allow, and ask.
                conflicts = selectors.code_change_conflicts(case_obj, values["handling_code"])
        else:
            messages.success(
                request, _("Case %(reference)s saved.") % {"reference": case_obj.reference}
            )
            return redirect(case_obj)
    context = {"form": form, "case": case_obj, "conflicts": conflicts}
    return render(request, "cases/case_form.html", context)


def _group_by_kind(entities: list[Entity]) -> list[tuple[str, list[Entity]]]:
    """Entities grouped by kind, in the order the kinds are declared (people first)."""
    groups: dict[str, list[Entity]] = {kind: [] for kind in Entity.Kind.values}
    for entity in entities:
        groups.setdefault(entity.kind, []).append(entity)
    labels = dict(Entity.Kind.choices)
    return [(str(labels.get(kind, kind)), members) for kind, members in groups.items() if members]
