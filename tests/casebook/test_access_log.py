"""The access log: every read of case data and every refusal is written, append-only, and
supervisors read their agency's part of it."""

import csv
import datetime
import io
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection, transaction
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory
from django.urls import get_resolver, reverse
from django.utils import timezone

from casebook import access
from casebook.access_views import safe_cell
from casebook.models import AccessLog, Agency
from cases import selectors, services
from cases.models import Case, CaseGroupObjectPermission, Entity, Evidence, Note
from cases.selectors import case_access
from tests.conftest import client_for
from tests.factories import make_case, make_entity

ADDRESS = "198.51.100.7"


# --- fixtures and helpers ------------------------------------------------------------------


@pytest.fixture
def entity(investigator: Any, case: Case) -> Entity:
    return make_entity(investigator, case, name="Carlos Mena")


@pytest.fixture
def evidence(investigator: Any, case: Case, settings: Any, tmp_path: Path) -> Evidence:
    settings.MEDIA_ROOT = tmp_path
    return services.evidence_add(
        access=case_access(investigator, case),
        upload=SimpleUploadedFile("statement.pdf", b"%PDF-1.4 statement"),
        description="Witness statement",
        protected=False,
    )


@pytest.fixture
def cr_case(outsider: Any) -> Case:
    return make_case(outsider, title="Trata en Limón")


def case_url(name: str, case: Case, **kwargs: Any) -> str:
    return reverse(f"cases:{name}", kwargs={"case": case.uuid, **kwargs})


def share_view(case: Case, agency: Agency) -> None:
    """A view grant to ``agency`` (what a share writes, without the sharing service)."""
    CaseGroupObjectPermission.objects.create(
        content_object=case,
        group=agency.group,
        permission_id=selectors.permission_id("view_case"),
    )


def log_entry(user: Any, **values: Any) -> AccessLog:
    defaults: dict[str, Any] = {
        "user": user,
        "username": user.get_username(),
        "agency_id": user.member.agency_id,
        "action": AccessLog.Action.VIEW,
        "object_type": "case",
    }
    defaults.update(values)
    return AccessLog.objects.create(**defaults)


def without_csrf(content: bytes) -> str:
    return re.sub(r'value="[^"]+"', "", content.decode())


def csv_rows(response: Any) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


# --- every read channel writes one row -----------------------------------------------------


@pytest.mark.parametrize(
    ("page", "detail"),
    [
        ("detail", "cases:detail"),
        ("history", "cases:history"),
        ("timeline", "cases:timeline"),
    ],
)
def test_reading_a_case_page_writes_one_row_with_who_what_and_from_where(
    investigator: Any, case: Case, page: str, detail: str
) -> None:
    response = client_for(investigator).get(case_url(page, case), REMOTE_ADDR=ADDRESS)

    assert response.status_code == 200
    entry = AccessLog.objects.get()
    assert entry.user == investigator
    assert entry.username == "inv.pa"
    assert entry.agency == investigator.member.agency
    assert entry.case == case
    assert entry.case_reference == case.reference
    assert entry.action == AccessLog.Action.VIEW
    assert entry.object_type == "case"
    assert entry.object_uuid == case.uuid
    assert entry.remote_addr == ADDRESS
    assert entry.path == case_url(page, case)
    assert entry.detail == detail
    assert entry.at <= timezone.now()


def test_reading_an_entity_writes_one_row_naming_the_entity(
    investigator: Any, case: Case, entity: Entity
) -> None:
    url = case_url("entity", case, entity=entity.uuid)
    client_for(investigator).get(url, REMOTE_ADDR=ADDRESS)

    entry = AccessLog.objects.get()
    assert (entry.action, entry.object_type, entry.object_uuid) == ("view", "entity", entity.uuid)
    assert entry.case == case
    assert entry.agency == investigator.member.agency
    assert entry.remote_addr == ADDRESS
    assert entry.detail == "cases:entity"


def test_reading_an_evidence_page_writes_one_row_naming_the_file(
    investigator: Any, case: Case, evidence: Evidence
) -> None:
    client_for(investigator).get(case_url("evidence", case, evidence=evidence.uuid))

    entry = AccessLog.objects.get()
    assert (entry.action, entry.object_type) == ("view", "evidence")
    assert (entry.case, entry.object_uuid) == (case, evidence.uuid)
    assert entry.user == investigator


def test_downloading_evidence_writes_one_download_row(
    analyst: Any, case: Case, evidence: Evidence
) -> None:
    url = case_url("evidence_download", case, evidence=evidence.uuid)
    response = client_for(analyst).get(url, REMOTE_ADDR=ADDRESS)

    assert response.status_code == 200
    entry = AccessLog.objects.get()
    assert (entry.action, entry.object_type) == ("download", "evidence")
    assert (entry.case, entry.object_uuid) == (case, evidence.uuid)
    assert (entry.user, entry.agency) == (analyst, analyst.member.agency)
    assert entry.remote_addr == ADDRESS
    assert entry.detail == "cases:evidence_download"


def test_the_case_list_writes_one_row_with_its_filters_and_no_case(
    investigator: Any, case: Case
) -> None:
    response = client_for(investigator).get(
        reverse("cases:list"), {"status": "open", "q": "Darién"}, REMOTE_ADDR=ADDRESS
    )

    assert response.status_code == 200
    entry = AccessLog.objects.get()
    assert (entry.action, entry.object_type, entry.case) == ("view", "case_list", None)
    assert entry.detail.startswith("cases:list")
    assert "status=open" in entry.detail
    assert "text=Darién" in entry.detail
    assert entry.remote_addr == ADDRESS


def test_the_dashboard_writes_one_case_list_row(investigator: Any, case: Case) -> None:
    client_for(investigator).get(reverse("dashboard"))

    entry = AccessLog.objects.get()
    assert (entry.object_type, entry.detail) == ("case_list", "dashboard")


def test_opening_a_form_on_a_case_is_logged_with_the_case_action(
    investigator: Any, case: Case
) -> None:
    client_for(investigator).get(case_url("note_add", case))

    entry = AccessLog.objects.get()
    assert (entry.action, entry.object_type, entry.case) == ("contribute", "case", case)


def test_a_member_of_another_agency_reading_a_shared_case_is_logged_with_their_agency(
    outsider: Any, cr_police: Agency, case: Case
) -> None:
    share_view(case, cr_police)
    assert client_for(outsider).get(case_url("detail", case)).status_code == 200

    entry = AccessLog.objects.get()
    assert (entry.user, entry.agency, entry.case) == (outsider, cr_police, case)


def test_the_same_object_read_twice_in_one_request_is_written_once(
    investigator: Any, case: Case, entity: Entity
) -> None:
    def view(request: HttpRequest) -> HttpResponse:
        for _ in range(3):
            selectors.get_case_access(investigator, case.uuid)
            selectors.get_entity_for_user(investigator, case.uuid, entity.uuid)
        return HttpResponse("ok")

    request = RequestFactory().get("/somewhere/", REMOTE_ADDR=ADDRESS)
    request.user = investigator
    access.AccessLogMiddleware(view)(request)

    assert sorted(AccessLog.objects.values_list("object_type", flat=True)) == ["case", "entity"]


def test_selectors_called_outside_a_request_write_nothing(investigator: Any, case: Case) -> None:
    selectors.get_case_access(investigator, case.uuid)
    list(selectors.case_list(investigator))
    access.record(action="view", object_type="case", case=case, object_uuid=case.uuid)

    assert not AccessLog.objects.exists()


# --- the remote address --------------------------------------------------------------------


def test_a_forwarded_for_header_is_ignored_without_trusted_proxies(
    investigator: Any, case: Case
) -> None:
    client_for(investigator).get(
        case_url("detail", case), REMOTE_ADDR=ADDRESS, HTTP_X_FORWARDED_FOR="203.0.113.9"
    )

    assert AccessLog.objects.get().remote_addr == ADDRESS


def test_behind_a_trusted_proxy_the_address_it_saw_is_logged(
    investigator: Any, case: Case, settings: Any
) -> None:
    settings.CASEBOOK_TRUSTED_PROXY_COUNT = 1
    client_for(investigator).get(
        case_url("detail", case),
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9",
    )

    assert AccessLog.objects.get().remote_addr == "203.0.113.9"


def test_a_forged_address_is_dropped_and_the_page_still_served(
    investigator: Any, case: Case, settings: Any
) -> None:
    settings.CASEBOOK_TRUSTED_PROXY_COUNT = 1
    response = client_for(investigator).get(
        case_url("detail", case), REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="'; DROP TABLE x"
    )

    assert response.status_code == 200
    assert AccessLog.objects.get().remote_addr is None


# --- refusals ------------------------------------------------------------------------------


def test_an_outsiders_404_on_a_case_is_logged_with_the_case_for_its_owner(
    outsider: Any, cr_police: Agency, case: Case
) -> None:
    response = client_for(outsider).get(case_url("history", case), REMOTE_ADDR=ADDRESS)

    assert response.status_code == 404
    entry = AccessLog.objects.get()
    assert (entry.action, entry.user, entry.agency) == ("refused", outsider, cr_police)
    assert (entry.case_id, entry.case_reference) == (case.pk, case.reference)
    assert entry.path == case_url("history", case)
    assert entry.detail == "cases:history GET 404"
    assert entry.remote_addr == ADDRESS


def test_an_outsiders_404_reveals_nothing_about_whether_the_case_exists(
    outsider: Any, case: Case
) -> None:
    client = client_for(outsider)
    existing = client.get(case_url("detail", case))
    missing = client.get(reverse("cases:detail", kwargs={"case": uuid.uuid4()}))

    assert existing.status_code == missing.status_code == 404
    body = existing.content.decode()
    assert case.reference not in body
    assert case.title not in body
    assert without_csrf(existing.content) == without_csrf(missing.content)


def test_the_owners_supervisor_sees_the_outsiders_refused_attempt(
    outsider: Any, supervisor: Any, case: Case, entity: Entity
) -> None:
    client_for(outsider).get(case_url("entity", case, entity=entity.uuid))

    page = client_for(supervisor).get(reverse("access_log"))
    entries = list(page.context["page"])
    assert [(e.username, e.action, e.object_type) for e in entries] == [
        ("inv.cr", "refused", "entity")
    ]
    assert entries[0].object_uuid == entity.uuid
    assert case.reference in page.content.decode()


def test_a_supervisor_is_not_told_which_foreign_case_their_member_was_refused(
    outsider: Any, investigator: Any, case: Case
) -> None:
    # ``outsider`` is also the supervisor of the Costa Rican agency.
    client = client_for(outsider)
    client.get(case_url("detail", case))
    client.get(reverse("cases:detail", kwargs={"case": uuid.uuid4()}))

    page = client.get(reverse("access_log"))
    assert [e.action for e in page.context["page"]] == ["refused", "refused"]
    assert case.reference not in page.content.decode()
    by_reference = client.get(reverse("access_log"), {"case": case.reference})
    assert list(by_reference.context["page"]) == []
    export = csv_rows(client.get(reverse("access_log_export")))
    # Except in the log's own reading by that filter: what the supervisor typed, not a find.
    others = [row for row in export if row[5] != "access_log"]
    assert all(case.reference not in cell for row in others for cell in row)


def test_a_403_is_logged_as_refused(analyst: Any, case: Case) -> None:
    response = client_for(analyst).get(case_url("edit", case))

    assert response.status_code == 403
    entry = AccessLog.objects.get()
    assert (entry.action, entry.case, entry.detail) == ("refused", case, "cases:edit GET 403")


def test_a_404_outside_cases_is_logged_without_a_case(supervisor: Any) -> None:
    missing = uuid.uuid4()
    client_for(supervisor).get(reverse("member_edit", kwargs={"member": missing}))

    entry = AccessLog.objects.get()
    assert (entry.action, entry.object_type, entry.object_uuid) == ("refused", "member", missing)
    assert entry.case is None


def test_record_refusal_logs_a_refused_service_action_on_the_case(
    supervisor: Any, case: Case
) -> None:
    access.record_refusal(
        user=supervisor, case=case, action="share", detail="RED cases are not re-shared"
    )

    entry = AccessLog.objects.get()
    assert (entry.action, entry.case, entry.object_uuid) == ("refused", case, case.uuid)
    assert entry.user == supervisor
    assert entry.agency == supervisor.member.agency
    assert (entry.attempted, entry.detail) == ("share", "RED cases are not re-shared")


# --- append-only -----------------------------------------------------------------------------


def test_log_rows_cannot_be_changed_or_deleted_by_the_application(
    investigator: Any, case: Case
) -> None:
    client_for(investigator).get(case_url("detail", case))
    entry = AccessLog.objects.get()

    entry.detail = "nothing happened"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AccessLog.objects.filter(pk=entry.pk).update(detail="nothing happened")
    with pytest.raises(PermissionError):
        AccessLog.objects.all().delete()
    assert AccessLog.objects.get().detail == "cases:detail"

    if connection.vendor == "postgresql":
        # The trigger refuses what bypasses the model: raw SQL from any code path.
        for sql in (
            "UPDATE casebook_accesslog SET detail = 'nothing happened'",
            "DELETE FROM casebook_accesslog",
        ):
            with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
                cur.execute(sql)
        assert AccessLog.objects.get().detail == "cases:detail"
    else:
        # SQLite has no such trigger (the migration installs it on PostgreSQL only): the
        # model-level guards above are the whole protection there.
        assert connection.vendor == "sqlite"


def test_there_is_no_page_that_edits_or_deletes_log_entries(supervisor: Any) -> None:
    names = [name for name in get_resolver().reverse_dict if isinstance(name, str)]
    assert sorted(name for name in names if "access" in name) == ["access_log", "access_log_export"]
    client = client_for(supervisor)
    assert client.post(reverse("access_log")).status_code == 405
    assert client.post(reverse("access_log_export")).status_code == 405


# --- a failure to write the log fails the request --------------------------------------------


def _failing_save(*args: Any, **kwargs: Any) -> None:
    raise DatabaseError("disk full")


def test_a_failed_log_write_fails_the_page(
    investigator: Any, case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(AccessLog, "save", _failing_save)
    client = client_for(investigator)
    client.raise_request_exception = False

    response = client.get(case_url("detail", case))

    assert response.status_code == 500
    assert case.title not in response.content.decode()


def test_a_failed_log_write_fails_a_post_before_anything_is_written(
    investigator: Any, case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(AccessLog, "save", _failing_save)
    client = client_for(investigator)

    with pytest.raises(DatabaseError):
        client.post(case_url("note_add", case), {"noted_on": "2026-03-02", "body": "Seen"})

    assert not Note.objects.exists()
    assert not AccessLog.objects.exists()


def test_a_failed_log_write_fails_a_refused_request_too(
    outsider: Any, case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(AccessLog, "save", _failing_save)

    with pytest.raises(DatabaseError):
        client_for(outsider).get(case_url("detail", case))


def test_reading_the_notifications_writes_one_row_per_page(investigator: Any) -> None:
    response = client_for(investigator).get(reverse("notifications"), REMOTE_ADDR=ADDRESS)

    assert response.status_code == 200
    entry = AccessLog.objects.get()
    assert (entry.action, entry.object_type, entry.case) == ("view", "notifications", None)
    assert (entry.user, entry.remote_addr) == (investigator, ADDRESS)
    assert entry.detail == "notifications page=1"


def test_marking_notifications_read_is_not_logged_as_a_read(investigator: Any) -> None:
    client_for(investigator).post(reverse("notifications"))

    assert not AccessLog.objects.filter(object_type="notifications").exists()


def test_reading_the_access_log_writes_one_row_with_its_filters_not_one_per_entry(
    investigator: Any, supervisor: Any, case: Case
) -> None:
    for _ in range(3):
        log_entry(investigator, case=case, case_reference=case.reference)

    response = client_for(supervisor).get(
        reverse("access_log"), {"user": "inv", "action": "view", "page": "1"}, REMOTE_ADDR=ADDRESS
    )

    assert response.status_code == 200
    assert len(response.context["page"]) == 3
    entry = AccessLog.objects.get(user=supervisor)
    assert (entry.action, entry.object_type, entry.case) == ("view", "access_log", None)
    assert entry.detail == "access_log user=inv action=view page=1"
    assert entry.remote_addr == ADDRESS


def test_the_access_log_page_does_not_list_its_own_reading_but_the_next_page_does(
    supervisor: Any,
) -> None:
    client = client_for(supervisor)

    first = client.get(reverse("access_log")).context["page"]
    second = client.get(reverse("access_log")).context["page"]

    assert list(first) == []
    assert [(e.username, e.object_type) for e in second] == [(supervisor.username, "access_log")]


# --- the supervisors' page -------------------------------------------------------------------


def test_only_supervisors_may_read_the_log(investigator: Any, analyst: Any) -> None:
    for user in (investigator, analyst):
        client = client_for(user)
        assert client.get(reverse("access_log")).status_code == 403
        assert client.get(reverse("access_log_export")).status_code == 403
    assert list(AccessLog.objects.values_list("action", flat=True)) == ["refused"] * 4


def test_the_navigation_links_to_the_log_for_supervisors_only(
    supervisor: Any, investigator: Any
) -> None:
    link = f'href="{reverse("access_log")}"'
    assert link in client_for(supervisor).get(reverse("dashboard")).content.decode()
    assert link not in client_for(investigator).get(reverse("dashboard")).content.decode()


def test_a_supervisor_sees_reads_of_their_cases_and_reads_by_their_members(
    investigator: Any,
    supervisor: Any,
    outsider: Any,
    cr_police: Agency,
    case: Case,
    cr_case: Case,
) -> None:
    share_view(case, cr_police)
    share_view(cr_case, investigator.member.agency)
    client_for(outsider).get(case_url("detail", case))  # another agency reads our case
    client_for(investigator).get(case_url("detail", cr_case))  # our member reads theirs
    client_for(outsider).get(case_url("timeline", cr_case))  # none of our business

    entries = list(client_for(supervisor).get(reverse("access_log")).context["page"])

    seen = {(e.username, e.case_reference, e.detail) for e in entries}
    assert seen == {
        ("inv.pa", cr_case.reference, "cases:detail"),
        ("inv.cr", case.reference, "cases:detail"),
    }


def test_supervisors_of_other_agencies_do_not_see_our_rows(
    investigator: Any, outsider: Any, case: Case, entity: Entity
) -> None:
    client_for(investigator).get(case_url("entity", case, entity=entity.uuid))

    page = client_for(outsider).get(reverse("access_log"))

    assert list(page.context["page"]) == []
    assert case.reference not in page.content.decode()
    # The export holds the outsider's own reading of the log and the export itself.
    header, *rows = csv_rows(client_for(outsider).get(reverse("access_log_export")))
    assert [(row[1], row[3], row[5]) for row in rows] == [
        ("inv.cr", "export", "access_log"),
        ("inv.cr", "view", "access_log"),
    ]


def test_the_log_is_filtered_by_user_case_action_and_dates(
    investigator: Any, supervisor: Any, analyst: Any, case: Case
) -> None:
    other = make_case(investigator, title="Recruitment ring in Colón")
    day = datetime.datetime(2026, 5, 10, 12, tzinfo=datetime.UTC)
    log_entry(investigator, case=case, case_reference=case.reference, at=day)
    log_entry(analyst, case=case, case_reference=case.reference, at=day + datetime.timedelta(1))
    log_entry(analyst, case=other, case_reference=other.reference, at=day, action="download")
    client = client_for(supervisor)

    def usernames(**filters: str) -> list[str]:
        page = client.get(reverse("access_log"), filters).context["page"]
        # Leaves out the supervisor's own readings of the log by the earlier filters.
        rows = [e for e in page if e.object_type != "access_log"]
        return [f"{e.username} {e.case_reference} {e.action}" for e in rows]

    assert usernames(user="ana") == [
        f"ana.pa {case.reference} view",
        f"ana.pa {other.reference} download",
    ]
    assert usernames(case=other.reference.lower()) == [f"ana.pa {other.reference} download"]
    assert usernames(action="download") == [f"ana.pa {other.reference} download"]
    assert usernames(date_from="2026-05-11") == [f"ana.pa {case.reference} view"]
    assert usernames(date_to="2026-05-10", user="inv") == [f"inv.pa {case.reference} view"]


def test_invalid_filters_are_ignored_with_a_message(
    investigator: Any, supervisor: Any, case: Case
) -> None:
    log_entry(investigator, case=case, case_reference=case.reference)

    response = client_for(supervisor).get(
        reverse("access_log"),
        {"date_from": "yesterday", "action": "erase", "date_to": "2026-13-45", "page": "x"},
    )

    assert response.status_code == 200
    assert len(response.context["page"]) == 1
    assert "This filter was ignored." in response.content.decode()


def test_the_log_is_paginated_by_fifty(investigator: Any, supervisor: Any, case: Case) -> None:
    for _ in range(51):
        log_entry(investigator, case=case, case_reference=case.reference)
    client = client_for(supervisor)

    # Filtered by user: each reading of the log is an entry too (the supervisor's).
    first = client.get(reverse("access_log"), {"user": "inv"}).context["page"]
    second = client.get(reverse("access_log"), {"user": "inv", "page": "2"}).context["page"]
    beyond = client.get(reverse("access_log"), {"user": "inv", "page": "9"})

    assert (len(first.object_list), first.has_next, first.has_previous) == (50, True, False)
    assert (len(second.object_list), second.has_next, second.has_previous) == (1, False, True)
    assert beyond.status_code == 200
    assert "There are no more entries." in beyond.content.decode()


def test_the_page_query_count_does_not_grow_with_the_entries(
    investigator: Any, supervisor: Any, case: Case, django_assert_max_num_queries: Any
) -> None:
    from django.test.utils import CaptureQueriesContext

    client = client_for(supervisor)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("access_log")).status_code == 200
        return len(captured)

    log_entry(investigator, case=case, case_reference=case.reference)
    one = queries()
    for _ in range(59):
        log_entry(investigator, case=case, case_reference=case.reference)
    assert queries() == one
    # 7 + 1 for the agency's groups (read once per request by cases.selectors) + 1 for the
    # page's own entry in the log.
    with django_assert_max_num_queries(9):
        client.get(reverse("access_log"))


def test_the_csv_export_has_the_filtered_entries_and_is_logged(
    investigator: Any, supervisor: Any, case: Case
) -> None:
    log_entry(investigator, case=case, case_reference=case.reference, remote_addr=ADDRESS)
    log_entry(investigator, case=case, case_reference=case.reference, action="download")

    response = client_for(supervisor).get(reverse("access_log_export"), {"action": "view"})

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="access-log-')
    header, *rows = csv_rows(response)
    assert header[:5] == ["time_utc", "user", "agency", "action", "attempted"]
    assert len(rows) == 1
    assert rows[0][1:6] == ["inv.pa", "Servicio Nacional de Fronteras (PA)", "view", "", "case"]
    assert rows[0][header.index("case")] == case.reference
    assert rows[0][-1] == ADDRESS
    export = AccessLog.objects.get(action=AccessLog.Action.EXPORT)
    assert (export.user, export.object_type) == (supervisor, "access_log")
    assert export.detail == "access_log_export action=view"


def test_the_csv_export_escapes_spreadsheet_formulas(
    investigator: Any, supervisor: Any, case: Case
) -> None:
    log_entry(
        investigator,
        case=case,
        case_reference=case.reference,
        username='=HYPERLINK("http://evil.example","x")',
        detail="+cmd|' /C calc'!A0",
        path="@SUM(1+1)",
    )

    header, *rows = csv_rows(client_for(supervisor).get(reverse("access_log_export")))

    row = dict(zip(header, rows[-1], strict=True))
    assert row["user"] == '\'=HYPERLINK("http://evil.example","x")'
    assert row["detail"] == "'+cmd|' /C calc'!A0"
    assert row["path"] == "'@SUM(1+1)"


@pytest.mark.parametrize(
    ("value", "cell"),
    [("=1+1", "'=1+1"), ("-2", "'-2"), ("+3", "'+3"), ("@A1", "'@A1"), ("\tx", "'\tx")],
)
def test_safe_cell_escapes_every_formula_prefix(value: str, cell: str) -> None:
    assert safe_cell(value) == cell
    assert safe_cell("PA-2026-00001") == "PA-2026-00001"
