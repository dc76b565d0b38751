"""A chain-of-custody entry and the access-log row of the same request name the same client,
behind a reverse proxy too (``CASEBOOK_TRUSTED_PROXY_COUNT``)."""

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from casebook.models import AccessLog
from cases import services
from cases.models import Case, CustodyEntry, Evidence
from cases.selectors import case_access
from tests.conftest import client_for

PROXY = "10.0.0.2"
CLIENT = "203.0.113.9"
FORGED = "6.6.6.6"


@pytest.fixture
def evidence(investigator: Any, case: Case, settings: Any, tmp_path: Path) -> Evidence:
    settings.MEDIA_ROOT = tmp_path
    return services.evidence_add(
        access=case_access(investigator, case),
        upload=SimpleUploadedFile("ledger.pdf", b"%PDF-1.4 ledger"),
        description="Ledger",
        protected=False,
        remote_addr="192.0.2.1",
    )


def download(user: Any, case: Case, evidence: Evidence, **headers: Any) -> CustodyEntry:
    url = reverse("cases:evidence_download", kwargs={"case": case.uuid, "evidence": evidence.uuid})
    response = client_for(user).get(url, **headers)
    assert response.status_code == 200
    response.getvalue()  # read through, as a browser does
    return evidence.custody.get(action=CustodyEntry.Action.DOWNLOADED)


def test_behind_a_trusted_proxy_custody_and_access_log_name_the_client_it_saw(
    analyst: Any, case: Case, evidence: Evidence, settings: Any
) -> None:
    settings.CASEBOOK_TRUSTED_PROXY_COUNT = 1

    custody = download(
        analyst, case, evidence, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"{FORGED}, {CLIENT}"
    )

    logged = AccessLog.objects.get(action=AccessLog.Action.DOWNLOAD)
    assert custody.remote_addr == logged.remote_addr == CLIENT


def test_without_a_trusted_proxy_a_forwarded_for_header_is_ignored_by_custody_too(
    analyst: Any, case: Case, evidence: Evidence
) -> None:
    custody = download(analyst, case, evidence, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=CLIENT)

    logged = AccessLog.objects.get(action=AccessLog.Action.DOWNLOAD)
    assert custody.remote_addr == logged.remote_addr == PROXY


def test_a_forged_forwarded_address_is_dropped_from_custody_and_the_download_served(
    analyst: Any, case: Case, evidence: Evidence, settings: Any
) -> None:
    settings.CASEBOOK_TRUSTED_PROXY_COUNT = 1

    custody = download(
        analyst, case, evidence, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="'; DROP TABLE x"
    )

    assert custody.remote_addr is None
    assert AccessLog.objects.get(action=AccessLog.Action.DOWNLOAD).remote_addr is None


def test_an_upload_behind_a_trusted_proxy_records_the_client_in_custody(
    investigator: Any, case: Case, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    settings.CASEBOOK_TRUSTED_PROXY_COUNT = 1
    url = reverse("cases:evidence_add", kwargs={"case": case.uuid})
    file = SimpleUploadedFile("photo.pdf", b"%PDF-1.4 photo", content_type="application/pdf")

    response = client_for(investigator).post(
        url,
        {"file": file, "description": "Photo"},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=f"{FORGED}, {CLIENT}",
    )

    assert response.status_code == 302
    uploaded = CustodyEntry.objects.get(action=CustodyEntry.Action.UPLOADED)
    assert uploaded.remote_addr == CLIENT
    assert AccessLog.objects.get(action="contribute").remote_addr == CLIENT


# --- who sees the addresses -----------------------------------------------------------------


def share_view(case: Case, agency: Any) -> None:
    """A view grant to ``agency`` (what a share writes, without the sharing service)."""
    from cases import selectors
    from cases.models import CaseGroupObjectPermission

    CaseGroupObjectPermission.objects.create(
        content_object=case, group=agency.group, permission_id=selectors.permission_id("view_case")
    )


def evidence_page(user: Any, case: Case, evidence: Evidence) -> str:
    url = reverse("cases:evidence", kwargs={"case": case.uuid, "evidence": evidence.uuid})
    response = client_for(user).get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_the_owner_agency_sees_the_custody_addresses_of_its_officers(
    analyst: Any, case: Case, evidence: Evidence
) -> None:
    download(analyst, case, evidence, REMOTE_ADDR=CLIENT)

    page = evidence_page(analyst, case, evidence)

    assert "From address" in page
    assert "192.0.2.1" in page and CLIENT in page


def test_a_recipient_agency_sees_who_and_when_in_custody_but_no_address(
    investigator: Any, outsider: Any, case: Case, evidence: Evidence
) -> None:
    share_view(case, outsider.member.agency)
    download(outsider, case, evidence, REMOTE_ADDR=CLIENT)

    page = evidence_page(outsider, case, evidence)

    assert "Chain of custody" in page
    assert (investigator.get_full_name() or investigator.get_username()) in page
    assert "From address" not in page
    assert "192.0.2.1" not in page
    assert CLIENT not in page  # not even their own: the chain is the owner agency's record
