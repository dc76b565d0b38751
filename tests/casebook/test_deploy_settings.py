"""Production settings: with DEBUG off, HTTPS redirect and HSTS are on unless an installation
opts out; X-Forwarded-Proto is trusted only behind a configured trusted proxy, as
X-Forwarded-For is; and ``check --deploy`` is clean on the configuration of deploy/check.env.

The settings module is evaluated afresh under a given environment (``load_settings``): the
test process's own settings were fixed when it started."""

import os
import runpy
import secrets
import shutil
import subprocess
import sys
import warnings
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from casebook import access
from tests.conftest import client_for

ROOT = Path(__file__).resolve().parents[2]
YEAR = 365 * 24 * 3600


def production_environment() -> dict[str, str]:
    """deploy/check.env, the configuration CI checks."""
    lines = (ROOT / "deploy" / "check.env").read_text().splitlines()
    pairs = [line.split("=", 1) for line in lines if line.strip() and not line.startswith("#")]
    return {name.strip(): value.strip() for name, value in pairs}


def load_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **environment: str
) -> dict[str, Any]:
    """casebook/settings.py evaluated under ``environment`` alone (none of the caller's
    CASEBOOK_*, DATABASE_URL or CELERY_* variables)."""
    for name in list(os.environ):
        if name.startswith(("CASEBOOK_", "CELERY_", "DATABASE_URL")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CASEBOOK_SECRET_KEY", secrets.token_urlsafe(50))
    monkeypatch.setenv("CASEBOOK_VAR_DIR", str(tmp_path))
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    values = runpy.run_path(str(ROOT / "casebook" / "settings.py"))
    return {name: value for name, value in values.items() if name.isupper()}


@pytest.fixture
def production(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    return load_settings(monkeypatch, tmp_path, **production_environment())


def test_with_debug_off_https_redirect_and_a_year_of_hsts_are_on_by_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    values = load_settings(monkeypatch, tmp_path, CASEBOOK_DEBUG="0")

    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] == YEAR
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SESSION_COOKIE_SECURE"] and values["CSRF_COOKIE_SECURE"]


def test_an_installation_opts_out_of_the_redirect_and_hsts_by_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    values = load_settings(
        monkeypatch,
        tmp_path,
        CASEBOOK_DEBUG="0",
        CASEBOOK_SSL_REDIRECT="0",
        CASEBOOK_HSTS_SECONDS="0",
    )

    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_HSTS_SECONDS"] == 0


def test_the_demo_under_debug_neither_redirects_nor_sends_hsts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    values = load_settings(monkeypatch, tmp_path, CASEBOOK_DEBUG="1")

    assert not values.get("SECURE_SSL_REDIRECT", False)
    assert not values.get("SECURE_HSTS_SECONDS", 0)


def test_forwarded_proto_is_not_trusted_without_a_trusted_proxy(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    values = load_settings(monkeypatch, tmp_path, CASEBOOK_DEBUG="0")

    assert values.get("SECURE_PROXY_SSL_HEADER") is None


def test_forwarded_proto_is_trusted_behind_a_trusted_proxy(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    values = load_settings(
        monkeypatch, tmp_path, CASEBOOK_DEBUG="0", CASEBOOK_TRUSTED_PROXY_COUNT="1"
    )

    assert values["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")


# --- what a request over plain HTTP gets ---------------------------------------------------


def https_settings(values: dict[str, Any]) -> override_settings:
    names = ["SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS"]
    overrides = {name: values[name] for name in names}
    overrides["SECURE_PROXY_SSL_HEADER"] = values.get("SECURE_PROXY_SSL_HEADER")
    overrides["CASEBOOK_TRUSTED_PROXY_COUNT"] = values["CASEBOOK_TRUSTED_PROXY_COUNT"]
    return override_settings(**overrides)


def test_a_forged_forwarded_proto_over_plain_http_is_redirected_without_a_trusted_proxy(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, investigator: Any
) -> None:
    values = load_settings(monkeypatch, tmp_path, CASEBOOK_DEBUG="0")

    with https_settings(values):
        response = client_for(investigator).get(
            reverse("dashboard"), HTTP_X_FORWARDED_PROTO="https"
        )

    assert response.status_code == 301
    assert response["Location"] == "https://testserver/"


def test_behind_a_trusted_proxy_its_forwarded_proto_and_for_are_used(
    production: dict[str, Any], investigator: Any
) -> None:
    with https_settings(production):
        response = client_for(investigator).get(
            reverse("dashboard"),
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_PROTO="https",
            HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9",
        )

    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == f"max-age={YEAR}; includeSubDomains; preload"


def test_without_a_trusted_proxy_forwarded_for_is_ignored_by_the_shared_address_rule(
    rf: Any, settings: Any
) -> None:
    """The access log, chain of custody and sign-in lockout all use ``client_address``."""
    settings.CASEBOOK_TRUSTED_PROXY_COUNT = 0
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.9")

    assert access.client_address(request) == "10.0.0.2"
    settings.CASEBOOK_TRUSTED_PROXY_COUNT = 1
    assert access.client_address(request) == "203.0.113.9"
    assert django_settings.AXES_CLIENT_IP_CALLABLE == "casebook.access.client_address"


# --- check --deploy ------------------------------------------------------------------------


def test_check_deploy_is_clean_on_the_production_configuration(
    production: dict[str, Any],
) -> None:
    # Every setting the production configuration changes, the database and the secret key
    # included (``check`` reads them, connects to nothing).
    changed = {
        name: value
        for name, value in production.items()
        if getattr(django_settings, name, object()) != value
    }
    output = StringIO()
    with warnings.catch_warnings():
        # "Overriding DATABASES can lead to unexpected behavior": nothing here uses it.
        warnings.simplefilter("ignore", UserWarning)
        with override_settings(**changed):
            call_command("check", deploy=True, fail_level="WARNING", stdout=output)

    assert "System check identified no issues" in output.getvalue()


def test_the_ci_script_runs_check_deploy_clean() -> None:
    bash = shutil.which("bash")
    assert bash is not None
    # Our own script, with the test process's own Python: no outside input.
    result = subprocess.run(  # noqa: S603
        [bash, str(ROOT / "deploy" / "check.sh")],
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
