"""Playwright fixtures: Debian's Chromium, driven headless against pytest-django's live server.

The browser is the machine's ``/usr/bin/chromium`` (Playwright's own browser download is not
used). Without it the browser tests are skipped, except in CI, where they fail.
"""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connections
from django.test import Client

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LAPTOP = {"width": 1366, "height": 768}
TABLET = {"width": 768, "height": 1024}
TIMEOUT_MS = 10_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: CI must install Debian's chromium package")
        pytest.skip("install Debian's chromium package")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio event loop running in the main thread. Django then
    # (1) takes every ORM call of a fixture or a test for a call from async code and refuses
    # it, and (2) keeps its connections in a context-local store instead of the thread-local
    # one, so the test would get new connections, not those of the test database setup (which
    # hold what serialized_rollback restores, and on PostgreSQL would keep the test database
    # from being dropped). The tests are plain synchronous code: let them through, and put
    # the set-up connections in the context-local store too.
    setup_connections = {alias: connections[alias] for alias in connections}
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        for alias, connection in setup_connections.items():
            connections[alias] = connection
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def plain_http(settings: Any) -> None:
    """The live server speaks plain HTTP: keep the session and CSRF cookies usable on it."""
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False


@pytest.fixture
def new_page(browser: Any, live_server: Any, plain_http: None) -> Iterator[Any]:
    """Returns ``open_page(user=None, viewport=LAPTOP)``: a fresh browser context (signed in
    as ``user`` through a session cookie if given) and a page in it."""
    contexts: list[Any] = []

    def open_page(user: Any = None, viewport: dict[str, int] = LAPTOP) -> Any:
        context = browser.new_context(viewport=viewport, base_url=live_server.url)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        if user is not None:
            client = Client()
            client.force_login(user)
            cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
            context.add_cookies(
                [
                    {
                        "name": django_settings.SESSION_COOKIE_NAME,
                        "value": cookie.value,
                        "url": live_server.url,
                    }
                ]
            )
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()
