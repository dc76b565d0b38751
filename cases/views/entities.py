"""Entity pages: add, show, edit and remove the people, things and places of a case."""

import copy
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from casebook.auth import AuthenticatedHttpRequest
from cases import protection, selectors, services
from cases.forms.entities import (
    add_service_errors,
    entity_facts,
    entity_form_class,
    identifier_rows,
)
from cases.models import Case, Entity

ENTITY_HITS = 10  # on the entity page; the hits page lists them all


def _case_entities_url(case: Case) -> str:
    return reverse("cases:detail", kwargs={"case": case.uuid}) + "#entities"


def _entity_url(entity: Entity) -> str:
    return reverse("cases:entity", kwargs={"case": entity.case.uuid, "entity": entity.uuid})


@login_required
@require_http_methods(["GET", "POST"])
def entity_add(request: AuthenticatedHttpRequest, case: UUID, kind: str) -> HttpResponse:
    if kind not in Entity.Kind.values:
        raise Http404(_("No such kind of entity."))
    case_access = selectors.get_case_access(request.user, case, action="contribute")
    the_case = case_access.case
    data = request.POST if request.method == "POST" else None
    form = entity_form_class(kind)(
        data, access=case_access, instance=Entity(case=the_case, kind=kind)
    )
    if form.is_bound and form.is_valid():
        try:
            entity = services.entity_add(access=case_access, kind=kind, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("%(kind)s added.") % {"kind": entity.get_kind_display()})
            return redirect(_case_entities_url(the_case))
    context = {"case": the_case, "form": form, "kind_label": Entity.Kind(kind).label}
    return render(request, "cases/entity_form.html", context)


@login_required
@require_http_methods(["GET"])
def entity_detail(request: AuthenticatedHttpRequest, case: UUID, entity: UUID) -> HttpResponse:
    case_access, the_entity = selectors.get_entity_for_user(request.user, case, entity)
    keys = selectors.match_key_list(the_entity).values_list("key", flat=True)
    # A protected entity the user may not see: its pseudonym, kind and role, and its links.
    protected_page = protection.is_masked(the_entity)
    relationships = list(selectors.entity_relationships(case_access, the_entity))
    movements = list(selectors.entity_movements(case_access, the_entity))
    # Editing requires seeing what one edits (get_entity_for_user refuses it too), and removing
    # requires seeing the links it removes (get_entity_for_removal).
    can_contribute = case_access.allows("contribute") and not protected_page
    context = {
        "case": the_entity.case,
        "entity": the_entity,
        "protected_page": protected_page,
        "facts": [] if protected_page else entity_facts(the_entity),
        "holdings": selectors.entity_holdings(case_access, the_entity),
        "relationships": relationships,
        "movements": movements,
        "identifiers": identifier_rows(list(keys)),
        "can_contribute": can_contribute,
        "can_remove": can_contribute and not protection.any_masked([*relationships, *movements]),
        # Cross-case matches: links to what the user may see, hits (whom to contact) otherwise.
        "matches": selectors.entity_matches(case_access, the_entity),
        "entity_hits": selectors.hit_list(request.user, entity=the_entity)[:ENTITY_HITS],
    }
    return render(request, "cases/entity_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def entity_edit(request: AuthenticatedHttpRequest, case: UUID, entity: UUID) -> HttpResponse:
    case_access, the_entity = selectors.get_entity_for_user(
        request.user, case, entity, action="contribute"
    )
    data = request.POST if request.method == "POST" else None
    # The form works on a copy, so the page heading keeps the stored values if the edit fails.
    form_class = entity_form_class(the_entity.kind)
    form = form_class(data, access=case_access, instance=copy.copy(the_entity))
    if form.is_bound and form.is_valid():
        if not form.has_changed():
            messages.info(request, _("Nothing was changed."))
            return redirect(_entity_url(the_entity))
        try:
            services.entity_update(access=case_access, entity=the_entity, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Changes saved."))
            return redirect(_entity_url(the_entity))
    context = {"case": the_entity.case, "entity": the_entity, "form": form}
    return render(request, "cases/entity_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def entity_remove(request: AuthenticatedHttpRequest, case: UUID, entity: UUID) -> HttpResponse:
    # 403 also if removing it would remove links to a protected identity the user sees masked.
    case_access, the_entity = selectors.get_entity_for_removal(request.user, case, entity)
    if request.method == "POST":
        try:
            services.entity_remove(access=case_access, entity=the_entity)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
            return redirect(_entity_url(the_entity))
        kind = the_entity.get_kind_display()
        messages.success(request, _("%(kind)s removed.") % {"kind": kind})
        return redirect(_case_entities_url(the_entity.case))
    movements = list(selectors.entity_movements(case_access, the_entity))
    context = {
        "case": the_entity.case,
        "entity": the_entity,
        "relationships": selectors.entity_relationships(case_access, the_entity),
        "holdings": selectors.entity_holdings(case_access, the_entity),
        "facilitated": [
            m for m in movements if the_entity.pk not in (m.origin_id, m.destination_id)
        ],
        "blocking": [m for m in movements if the_entity.pk in (m.origin_id, m.destination_id)],
    }
    return render(request, "cases/entity_confirm_remove.html", context)
