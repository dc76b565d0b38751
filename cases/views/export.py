"""The export of a case as a JSON file (``cases.export``), under its handling code."""

from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from casebook import access
from casebook.models import AccessLog
from cases import export, selectors, sharing


@login_required
@require_GET
@never_cache
def case_export(request: HttpRequest, case: UUID) -> HttpResponse:
    """404 for a case the user may not see; 403 (logged) where the handling code forbids their
    agency to export it; else the case as they may see it, logged as an export."""
    the_case = selectors.get_case_for_user(request.user, case, action="view")
    if not sharing.may_export(request.user, the_case):
        message = export.refusal_message(the_case)
        access.record_refusal(user=request.user, case=the_case, action="export", detail=message)
        context = {"case": the_case, "message": message}
        return render(request, "cases/export_refused.html", context, status=403)
    document = export.case_document(
        case=the_case,
        exported_by=request.user,
        exporter_agency=request.user.member.agency,  # type: ignore[union-attr]
        exported_at=timezone.now(),
        records=selectors.case_records(the_case),
    )
    access.record(
        action=AccessLog.Action.EXPORT, object_type="case", case=the_case, object_uuid=the_case.uuid
    )
    response = HttpResponse(export.render(document), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=export.filename(the_case)
    )
    return response
