"""Pages that record relationships, movements, notes and evidence under a case."""

import logging
import unicodedata
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from casebook.access import client_address
from casebook.auth import AuthenticatedHttpRequest
from cases import protection, selectors, services
from cases.forms.records import (
    EvidenceForm,
    EvidenceUploadLimitHandler,
    MovementForm,
    NoteForm,
    RelationshipForm,
)
from cases.models import Case, Entity

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

logger = logging.getLogger(__name__)


def _remote_addr(request: HttpRequest) -> str | None:
    # The access log's resolution (trusted proxies included), so that a custody entry and the
    # access-log row of the same request name the same client.
    return client_address(request)


def _data(request: HttpRequest) -> Any:
    """What to bind a form to: nothing on GET, the POST data (even empty) on POST."""
    return request.POST if request.method == "POST" else None


def _source_initial(request: HttpRequest) -> dict[str, str]:
    """``?source=<entity uuid>`` preselects the source; anything else is ignored."""
    try:
        return {"source": str(UUID(request.GET.get("source", "")))}
    except ValueError:
        return {}


@login_required
@require_http_methods(["GET", "POST"])
def relationship_add(request: AuthenticatedHttpRequest, case: UUID) -> HttpResponse:
    case_access = selectors.get_case_access(request.user, case, action="contribute")
    the_case = case_access.case
    entities = selectors.entity_list(case_access)
    form = RelationshipForm(_data(request), entities=entities, initial=_source_initial(request))
    if form.is_valid():
        try:
            services.relationship_add(access=case_access, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Relationship added."))
            return redirect(the_case)
    context = {"case": the_case, "form": form, "entity_count": entities.count()}
    return render(request, "cases/relationship_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def relationship_remove(
    request: AuthenticatedHttpRequest, case: UUID, relationship: UUID
) -> HttpResponse:
    case_access, link = selectors.get_relationship_for_user(
        request.user, case, relationship, action="contribute"
    )
    if request.method == "POST":
        services.relationship_remove(access=case_access, relationship=link)
        messages.success(request, _("Relationship removed."))
        return redirect(link.case)
    return _confirm_remove(request, link.case, _("Remove this relationship?"), relationship=link)


@login_required
@require_http_methods(["GET", "POST"])
def movement_add(request: AuthenticatedHttpRequest, case: UUID) -> HttpResponse:
    case_access = selectors.get_case_access(request.user, case, action="contribute")
    the_case = case_access.case
    form = MovementForm(_data(request), entities=selectors.entity_list(case_access))
    if form.is_valid():
        try:
            services.movement_add(access=case_access, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Movement added."))
            return redirect(the_case)
    context = {
        "case": the_case,
        "form": form,
        "location_count": form.locations.count(),
        "location_kind": Entity.Kind.LOCATION,
    }
    return render(request, "cases/movement_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def movement_remove(request: AuthenticatedHttpRequest, case: UUID, movement: UUID) -> HttpResponse:
    case_access, trip = selectors.get_movement_for_user(
        request.user, case, movement, action="contribute"
    )
    if request.method == "POST":
        services.movement_remove(access=case_access, movement=trip)
        messages.success(request, _("Movement removed."))
        return redirect(trip.case)
    return _confirm_remove(request, trip.case, _("Remove this movement?"), movement=trip)


def _confirm_remove(
    request: HttpRequest, case: Case, question: "StrOrPromise", **objects: Any
) -> HttpResponse:
    """The generic confirmation page; ``objects`` is what it shows (see the template)."""
    context = {"case": case, "question": question, **objects}
    return render(request, "cases/confirm_remove.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def note_add(request: AuthenticatedHttpRequest, case: UUID) -> HttpResponse:
    case_access = selectors.get_case_access(request.user, case, action="contribute")
    the_case = case_access.case
    form = NoteForm(_data(request))
    if form.is_valid():
        try:
            services.note_add(access=case_access, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Note added."))
            return redirect(the_case)
    return render(request, "cases/note_form.html", {"case": the_case, "form": form})


# CSRF is checked by ``_evidence_add``: the size limit handler must be in place before
# anything, the CSRF check included, reads the request body.
@csrf_exempt
@login_required
@require_http_methods(["GET", "POST"])
def evidence_add(request: AuthenticatedHttpRequest, case: UUID) -> HttpResponse:
    request.upload_handlers.insert(0, EvidenceUploadLimitHandler(request))
    return _evidence_add(request, case)


@csrf_protect
def _evidence_add(request: AuthenticatedHttpRequest, case: UUID) -> HttpResponse:
    case_access = selectors.get_case_access(request.user, case, action="contribute")
    the_case = case_access.case
    form = EvidenceForm(_data(request), request.FILES if request.method == "POST" else None)
    if form.is_valid():
        try:
            evidence = services.evidence_add(
                access=case_access,
                upload=form.cleaned_data["file"],
                description=form.cleaned_data["description"],
                protected=form.cleaned_data["protected"],
                remote_addr=_remote_addr(request),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Evidence file stored."))
            return redirect("cases:evidence", case=the_case.uuid, evidence=evidence.uuid)
    return render(request, "cases/evidence_form.html", {"case": the_case, "form": form})


@login_required
@require_GET
def evidence_detail(request: AuthenticatedHttpRequest, case: UUID, evidence: UUID) -> HttpResponse:
    _access, item = selectors.get_evidence_for_user(request.user, case, evidence, action="view")
    return _render_evidence(request, item)


def _render_evidence(
    request: HttpRequest, evidence: Any, *, status: int = 200, file_missing: bool = False
) -> HttpResponse:
    context = {
        "case": evidence.case,
        "evidence": evidence,
        "custody": selectors.custody_list(evidence),
        "file_missing": file_missing,
        # A protected file the user may not see: its pseudonym, and no download.
        "protected_file": protection.is_masked(evidence),
    }
    return render(request, "cases/evidence_detail.html", context, status=status)


def _download_name(name: str) -> str:
    # Control characters (a newline from an HTML-escaped upload name) would break the header.
    cleaned = "".join(
        char if unicodedata.category(char)[0] != "C" else "_" for char in name
    ).strip()
    return cleaned or "evidence"


@login_required
@require_GET
def evidence_download(
    request: AuthenticatedHttpRequest, case: UUID, evidence: UUID
) -> HttpResponseBase:
    """Any member who may view the case may download; every download enters the custody log
    and the access log."""
    case_access, item = selectors.get_evidence_for_user(
        request.user, case, evidence, action="view", logged_as="download"
    )
    try:
        stored = item.file.open("rb")
    except FileNotFoundError:
        logger.error("Stored copy of evidence %s is missing (%s)", item.uuid, item.file.name)
        return _render_evidence(request, item, status=404, file_missing=True)
    services.evidence_record_download(
        access=case_access, evidence=item, remote_addr=_remote_addr(request)
    )
    # Served as opaque bytes and never inline: an uploaded HTML file must not run as a page.
    response = FileResponse(
        stored,
        as_attachment=True,
        filename=_download_name(item.original_name),
        content_type="application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
