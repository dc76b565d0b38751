"""Refusals in the access log say what was attempted; a failed CSRF check is a refusal too;
and a refusal or an export that cannot be logged fails the request."""

import csv
import io
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, connection, transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.test import Client
from django.urls import include, path, reverse

from casebook import access
from casebook.models import AccessLog
from cases.models import Case, Note
from cases.selectors import case_access
from tests.conftest import client_for

ADDRESS = "198.51.100.7"


# Pages that stand for code which declares what it attempts, then is refused; mounted by
# ``probe_urls``.
def declared_then_refused(request: HttpRequest) -> HttpResponse:
    access.attempting("contribute")
    raise PermissionDenied


def granted_then_refused(request: HttpRequest) -> HttpResponse:
    access.attempting("view")
    access.record(action="view", object_type="case_list")
    raise Http404


urlpatterns = [
    path("probe/declared/", declared_then_refused, name="declared"),
    path("probe/granted/", granted_then_refused, name="granted"),
    path("", include("casebook.urls")),  # the error pages link to the dashboard
]


@pytest.fixture
def probe_urls(settings: Any) -> None:
    settings.ROOT_URLCONF = __name__


@pytest.fixture
def log_inserts_fail(db: Any) -> Iterator[None]:
    """Every INSERT into the access log fails in the database, as on a full disk. The
    trigger is created inside the test's transaction and goes with its rollback."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION casebook_test_log_fails() RETURNS trigger AS $$ "
                "BEGIN RAISE EXCEPTION 'disk full'; END; $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                "CREATE TRIGGER casebook_test_log_fails BEFORE INSERT ON casebook_accesslog "
                "FOR EACH ROW EXECUTE FUNCTION casebook_test_log_fails()"
            )
        else:
            cursor.execute(
                "CREATE TRIGGER casebook_test_log_fails BEFORE INSERT ON casebook_accesslog "
                "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
            )
    yield


def csrf_client(user: Any | None = None) -> Client:
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    return client


def note_url(case: Case) -> str:
    return reverse("cases:note_add", kwargs={"case": case.uuid})


def csv_rows(response: Any) -> list[dict[str, str]]:
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


# --- what a refusal attempted ------------------------------------------------------------


def test_a_refused_page_is_logged_as_an_attempt_to_open_it(supervisor: Any) -> None:
    missing = uuid.uuid4()
    client_for(supervisor).get(reverse("member_edit", kwargs={"member": missing}))

    entry = AccessLog.objects.get()
    assert (entry.action, entry.attempted) == ("refused", "open")
    assert entry.detail == "member_edit GET 404"


def test_a_refused_form_is_logged_as_an_attempt_to_submit_it(outsider: Any) -> None:
    missing = uuid.uuid4()
    client_for(outsider).post(reverse("member_edit", kwargs={"member": missing}), {})

    entry = AccessLog.objects.get()
    assert (entry.action, entry.attempted) == ("refused", "submit")
    assert entry.detail == "member_edit POST 404"


def test_a_refusal_is_logged_with_the_action_the_code_declared(
    investigator: Any, probe_urls: None
) -> None:
    response = client_for(investigator).get("/probe/declared/")

    assert response.status_code == 403
    entry = AccessLog.objects.get()
    assert (entry.action, entry.attempted, entry.detail) == (
        "refused",
        "contribute",
        "declared GET 403",
    )


def test_a_declared_attempt_that_was_granted_does_not_name_a_later_refusal(
    investigator: Any, probe_urls: None
) -> None:
    client_for(investigator).post("/probe/granted/")

    refused = AccessLog.objects.get(action=AccessLog.Action.REFUSED)
    assert refused.attempted == "submit"


def test_attempting_outside_a_request_does_nothing(investigator: Any, case: Case) -> None:
    access.attempting("manage")

    assert not AccessLog.objects.exists()


def test_the_log_page_and_export_say_what_a_refused_entry_attempted(
    supervisor: Any, case: Case
) -> None:
    access.record_refusal(
        user=supervisor, case=case, action="share", detail="RED cases are not re-shared"
    )
    access.record_refusal(user=supervisor, case=case, action="revoke", detail="Already ended")
    client = client_for(supervisor)

    page = client.get(reverse("access_log"), {"action": "refused"})
    rows = csv_rows(client.get(reverse("access_log_export"), {"action": "refused"}))

    text = page.content.decode()
    assert "Attempted: Share" in text
    assert "Attempted: Revoke a share" in text
    assert [(row["attempted"], row["detail"]) for row in rows] == [
        ("revoke", "Already ended"),
        ("share", "RED cases are not re-shared"),
    ]


def test_an_entry_that_is_not_a_refusal_shows_no_attempt(
    investigator: Any, supervisor: Any, case: Case
) -> None:
    client_for(investigator).get(case.get_absolute_url())

    page = client_for(supervisor).get(reverse("access_log"))

    assert [e.attempted for e in page.context["page"]] == [""]
    assert "Attempted:" not in page.content.decode()


# --- a failed CSRF check -----------------------------------------------------------------


def test_a_post_without_a_csrf_token_is_refused_logged_and_stores_nothing(
    investigator: Any, case: Case
) -> None:
    response = csrf_client(investigator).post(
        note_url(case), {"noted_on": "2026-03-02", "body": "Seen"}, REMOTE_ADDR=ADDRESS
    )

    assert response.status_code == 403
    assert [t.name for t in response.templates][0] == "403_csrf.html"
    assert not Note.objects.exists()
    entry = AccessLog.objects.get()
    assert (entry.action, entry.attempted) == ("refused", "submit")
    assert (entry.user, entry.agency) == (investigator, investigator.member.agency)
    assert (entry.case, entry.case_reference) == (case, case.reference)
    assert entry.path == note_url(case)
    assert entry.remote_addr == ADDRESS
    assert entry.detail == "cases:note_add CSRF check failed: CSRF cookie not set."


def test_a_csrf_failure_of_someone_not_signed_in_is_logged_without_a_user(db: Any) -> None:
    response = csrf_client().post(reverse("login"), {"username": "x", "password": "y"})

    assert response.status_code == 403
    entry = AccessLog.objects.get()
    assert (entry.user, entry.username, entry.agency) == (None, "", None)
    assert entry.detail.startswith("login CSRF check failed")


def test_the_csrf_page_explains_the_form_expired_in_the_users_language(
    investigator: Any, case: Case, settings: Any
) -> None:
    settings.DEBUG = True  # Django's own page would show its debugging help then.

    response = csrf_client(investigator).post(note_url(case), {}, HTTP_ACCEPT_LANGUAGE="es")

    text = response.content.decode()
    assert response.status_code == 403
    assert '<html lang="es">' in text
    assert "The form expired" in text
    assert f'href="{note_url(case)}"' in text  # reload the form
    assert "CSRF verification failed" not in text
    assert "CSRF_FAILURE_VIEW" not in text


def test_the_csrf_page_reloads_the_page_the_form_came_from_if_it_is_ours(
    investigator: Any, case: Case
) -> None:
    client = csrf_client(investigator)
    ours = f"http://testserver{case.get_absolute_url()}"

    from_us = client.post(note_url(case), {}, HTTP_REFERER=ours)
    from_elsewhere = client.post(note_url(case), {}, HTTP_REFERER="https://evil.example/x")

    assert f'href="{ours}"' in from_us.content.decode()
    text = from_elsewhere.content.decode()
    assert "evil.example" not in text
    assert f'href="{note_url(case)}"' in text


def test_a_post_with_its_csrf_token_is_not_refused(investigator: Any, case: Case) -> None:
    client = csrf_client(investigator)
    client.get(note_url(case))
    token = client.cookies["csrftoken"].value

    response = client.post(
        note_url(case), {"noted_on": "2026-03-02", "body": "Seen", "csrfmiddlewaretoken": token}
    )

    assert response.status_code == 302
    assert Note.objects.count() == 1
    assert not AccessLog.objects.filter(action=AccessLog.Action.REFUSED).exists()


# --- a log that cannot be written fails the request ----------------------------------------


def test_the_csv_export_fails_when_its_log_entry_cannot_be_written(
    supervisor: Any, log_inserts_fail: None
) -> None:
    with pytest.raises(DatabaseError), transaction.atomic():
        client_for(supervisor).get(reverse("access_log_export"))


def test_a_csrf_refusal_fails_when_it_cannot_be_logged(
    investigator: Any, case: Case, log_inserts_fail: None
) -> None:
    with pytest.raises(DatabaseError), transaction.atomic():
        csrf_client(investigator).post(note_url(case), {"noted_on": "2026-03-02", "body": "x"})

    assert not Note.objects.exists()


def test_a_csrf_refusal_that_cannot_be_logged_shows_no_page_of_ours(
    investigator: Any, case: Case, log_inserts_fail: None
) -> None:
    client = csrf_client(investigator)
    client.raise_request_exception = False

    with transaction.atomic():
        response = client.post(note_url(case), {"body": "x"})
        transaction.set_rollback(True)

    assert response.status_code == 500
    assert "The form expired" not in response.content.decode()


def test_a_refused_case_action_is_logged_with_the_case_action(
    case: Any, analyst: Any, outsider: Any
) -> None:
    """The case selectors declare what is attempted: an outsider adding a note to a case they
    may not see (404), an analyst editing a case of their agency (403: analysts may not)."""
    add_note = reverse("cases:note_add", kwargs={"case": case.uuid})
    assert client_for(outsider).post(add_note, {"body": "x"}).status_code == 404
    edit = reverse("cases:edit", kwargs={"case": case.uuid})
    assert client_for(analyst).get(edit).status_code == 403

    refused = AccessLog.objects.filter(action="refused").order_by("id")
    assert [(entry.username, entry.attempted) for entry in refused] == [
        (outsider.username, "contribute"),
        (analyst.username, "change"),
    ]


# --- a refused download is a refused download ----------------------------------------------


def _evidence(investigator: Any, case: Case, *, protected: bool) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from cases import services

    return services.evidence_add(
        access=case_access(investigator, case),
        upload=SimpleUploadedFile("statement.pdf", b"%PDF-1.4 statement"),
        description="Statement",
        protected=protected,
    )


def test_a_download_refused_on_a_case_the_user_may_not_see_is_logged_as_a_download(
    investigator: Any, outsider: Any, case: Case, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    evidence = _evidence(investigator, case, protected=False)
    url = reverse("cases:evidence_download", kwargs={"case": case.uuid, "evidence": evidence.uuid})

    assert client_for(outsider).get(url).status_code == 404

    entry = AccessLog.objects.get(action=AccessLog.Action.REFUSED)
    assert (entry.user, entry.attempted) == (outsider, "download")
    assert (entry.object_type, entry.object_uuid) == ("evidence", evidence.uuid)
    assert entry.detail == "cases:evidence_download GET 404"


def test_a_download_of_a_protected_file_refused_to_a_masked_viewer_is_logged_as_a_download(
    investigator: Any, analyst: Any, case: Case, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    evidence = _evidence(investigator, case, protected=True)
    url = reverse("cases:evidence_download", kwargs={"case": case.uuid, "evidence": evidence.uuid})

    assert client_for(analyst).get(url).status_code == 404

    entry = AccessLog.objects.get(action=AccessLog.Action.REFUSED)
    assert (entry.user, entry.attempted) == (analyst, "download")
    assert not AccessLog.objects.filter(action=AccessLog.Action.DOWNLOAD).exists()


def test_a_granted_download_leaves_no_overall_attempt_behind(
    investigator: Any, analyst: Any, case: Case, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    evidence = _evidence(investigator, case, protected=False)
    url = reverse("cases:evidence_download", kwargs={"case": case.uuid, "evidence": evidence.uuid})

    response = client_for(analyst).get(url)

    assert response.status_code == 200
    assert [entry.action for entry in AccessLog.objects.all()] == ["download"]
