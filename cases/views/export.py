"""The export of a case as a JSON file (``cases.export``), under its handling code."""

from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from casebook.auth import AuthenticatedHttpRequest
from cases import export, selectors


@login_required
@require_GET
@never_cache
def case_export(request: AuthenticatedHttpRequest, case: UUID) -> HttpResponse:
    """404 for a case the user may not see; 403 (logged) where the handling code forbids their
    agency to export it; else the case as they may see it, logged as an export."""
    case_access = selectors.get_case_access(request.user, case, action="view")
    try:
        result = export.case_export(case_access, at=timezone.now())
    except export.ExportRefused as refused:
        context = {"case": case_access.case, "message": refused.message}
        return render(request, "cases/export_refused.html", context, status=403)
    response = HttpResponse(result.content, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=result.filename
    )
    return response
