"""The supervisors' access log: who read or tried to read their agency's cases, and what
their own members read. Read-only: there is no view that edits or deletes an entry.

Also the view Django calls when a form fails its CSRF check (``CSRF_FAILURE_VIEW``): a
refusal like any other, written to the log before the page explains what happened."""

import csv
import datetime
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from casebook import access, listparams, selectors
from casebook.auth import AuthenticatedHttpRequest
from casebook.forms import StyledFormMixin
from casebook.models import AccessLog

PAGE_SIZE = 50

# The log's own actions, and the case actions the selectors log when a page is opened to
# contribute, change or manage (a form, a confirmation page).
ACTION_LABELS: dict[str, Any] = {
    **dict(AccessLog.Action.choices),
    "contribute": _("Opened to contribute"),
    "change": _("Opened to edit"),
    "manage": _("Opened to manage"),
}

# What a refused entry attempted (``AccessLog.attempted``); other values are shown as stored.
ATTEMPT_LABELS: dict[str, Any] = {
    "view": _("View"),
    "contribute": _("Contribute"),
    "change": _("Edit the case"),
    "manage": _("Manage"),
    "share": _("Share"),
    "revoke": _("Revoke a share"),
    "download": _("Download"),
    access.OPEN: _("Open a page"),
    access.SUBMIT: _("Submit a form"),
}

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class AccessLogFilterForm(StyledFormMixin, forms.Form):
    """The log's filters, bound to the query string. An invalid value is ignored and shown as
    an error next to its field; the log is never refused."""

    user = forms.CharField(label=_("User"), required=False, max_length=150)
    case = forms.CharField(label=_("Case reference"), required=False, max_length=20)
    action = forms.ChoiceField(
        label=_("Action"),
        required=False,
        choices=[("", _("Any action")), *ACTION_LABELS.items()],
    )
    # Bounded: a date Python cannot step past (9999-12-31) is an error, not a 500.
    date_from = listparams.DateField(label=_("From"), required=False)
    date_to = listparams.DateField(label=_("To"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end date is before the start date."))
        return data

    def filters(self) -> selectors.AccessLogFilters:
        """The selector filters from the fields that are valid."""
        self.is_valid()
        data = self.cleaned_data
        return selectors.AccessLogFilters(
            username=(data.get("user") or "").strip(),
            case_reference=(data.get("case") or "").strip(),
            action=data.get("action") or "",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )

    def is_filtered(self) -> bool:
        self.is_valid()
        return any(self.cleaned_data.get(name) for name in self.fields)

    def describe(self) -> str:
        """The valid filters as "name=value" pairs, for the access log's own entry."""
        self.is_valid()
        pairs = self.cleaned_data.items()
        return " ".join(f"{name}={value}" for name, value in pairs if value not in ("", None))


@dataclass(frozen=True)
class LogPage:
    """One page of the log. Not a ``Paginator`` page: counting a log of millions of rows
    costs more than the page itself, so a page only knows whether another follows."""

    number: int
    object_list: list[AccessLog]
    has_next: bool

    @classmethod
    def read(cls, entries: selectors.AccessLogResults, number: int) -> "LogPage":
        """Page ``number`` (from ``listparams.page_number``: 1 to ``MAX_PAGE``)."""
        start = (number - 1) * PAGE_SIZE
        rows = list(entries[start : start + PAGE_SIZE + 1])
        for entry in rows:
            entry.action_label = ACTION_LABELS.get(entry.action, entry.action)  # type: ignore[attr-defined]  # for the template
            entry.attempt_label = ATTEMPT_LABELS.get(entry.attempted, entry.attempted)  # type: ignore[attr-defined]  # for the template
        return cls(number, rows[:PAGE_SIZE], len(rows) > PAGE_SIZE)

    def __iter__(self) -> Iterator[AccessLog]:
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1


@login_required
@require_GET
def access_log(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = AccessLogFilterForm(request.GET)
    entries = selectors.access_log_for_supervisor(request.user, filters=form.filters())
    page = LogPage.read(entries, listparams.page_number(request.GET))
    # Reading the log is a read like any other: one row per page, with its filters (written
    # after the page is read, so that the page does not list its own reading).
    access.record(
        action=AccessLog.Action.VIEW,
        object_type="access_log",
        detail=f"{form.describe()} page={page.number}".strip(),
    )
    context = {"form": form, "page": page, "is_filtered": form.is_filtered()}
    return render(request, "casebook/access_log.html", context)


@login_required
@require_GET
def access_log_export(request: AuthenticatedHttpRequest) -> StreamingHttpResponse:
    """The filtered log as CSV, streamed; the export is itself written to the log."""
    form = AccessLogFilterForm(request.GET)
    entries = selectors.access_log_for_supervisor(request.user, filters=form.filters())
    access.record(action=AccessLog.Action.EXPORT, object_type="access_log", detail=form.describe())
    response = StreamingHttpResponse(
        csv_lines(entries.iterator(chunk_size=2000)), content_type="text/csv; charset=utf-8"
    )
    filename = f"access-log-{timezone.now():%Y%m%d-%H%M}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


CSV_HEADER = (
    "time_utc",
    "user",
    "agency",
    "action",
    "attempted",
    "object_type",
    "object_id",
    "case",
    "detail",
    "path",
    "remote_address",
)


class _Echo:
    """A file-like object that hands back what is written: csv.writer then yields lines."""

    def write(self, value: str) -> str:
        return value


def csv_lines(entries: Iterable[AccessLog]) -> Iterator[str]:
    """The CSV lines of ``entries`` (from ``access_log_for_supervisor``), header first."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_HEADER)
    for entry in entries:
        agency = entry.agency
        yield writer.writerow(
            [
                safe_cell(value)
                for value in (
                    entry.at.astimezone(datetime.UTC).isoformat(timespec="seconds"),
                    entry.username,
                    f"{agency.name} ({agency.country_id})" if agency is not None else "",
                    entry.action,
                    entry.attempted,
                    entry.object_type,
                    entry.object_uuid or "",
                    entry.case_reference if entry.case_visible else "",  # type: ignore[attr-defined]  # the selector annotates it
                    entry.detail,
                    entry.path,
                    entry.remote_addr or "",
                )
            ]
        )


def safe_cell(value: object) -> str:
    """``value`` as text that a spreadsheet shows as text: a leading formula character is
    escaped with a single quote (OWASP's advice against CSV injection)."""
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: log the refused POST, then explain in the user's language that
    the form expired and offer to reload it. Never Django's own (debug) page."""
    access.record_csrf_failure(request, reason=reason)
    return render(request, "403_csrf.html", {"reload_url": _reload_url(request)}, status=403)


def _reload_url(request: HttpRequest) -> str:
    """The page the form came from (its Referer, if it is one of ours), else the form's
    own address."""
    referer = request.headers.get("Referer", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return request.get_full_path()
