"""The leak sweep's harness: the world opened for a run of tests, requests made as a persona
inside a rolled-back savepoint, the users a URL is requested as, and the report that collects
problems across a sweep.

The proof that nothing leaks (issue 3) is made of these modules beside this one:

- ``world``: seven agencies in six countries, users of every role in each, a Panamanian case
  of each handling code and a Costa Rican one, live, expired and revoked shares, protected
  and unprotected entities of every kind, records, evidence, notifications and hits, every
  identifying value a marker; and the independent oracle (``world.Oracle``) of who may see
  and do what.
- ``targets``: every URL pattern of the project, enumerated from the URLconf so that a pattern
  added later is covered without anyone remembering to, and the values its arguments are
  requested with (``KWARG_FIXTURES``).
- ``access``: the status the oracle expects for each pattern (``RULES``).
- ``post_data``: plausible data for each pattern that takes POST (``POST_DATA``).
- ``rules``: per-page rules (issue 14): a page about a case seen masked names none of its
  protected values even where the user may see the same value elsewhere; a masked entity's
  page names no other case; an entity's page names only the cases of matches the user may
  follow unmasked.

A pattern whose URL arguments have no fixture, or that has no access rule, or that accepts
POST without plausible data makes ``test_coverage.test_every_url_pattern_is_covered`` fail
(never skip). Each URL is then requested as the users below, and the status and the markers in
the response (body and headers: HTML, JSON, CSV or file bytes) are compared with what the
oracle says. Failures are collected and reported together, one line per problem.

Who requests what: every URL of the most shared case (AMB: owner, contribute, view, expired,
revoked and no share at all among the agencies) and every URL about no case, as every user;
every other URL as one user of each permission class (users the oracle cannot tell apart
there: same actions on the case, same expected statuses), taken in turn so that all users are
used. ``LEAK_TEST_FULL=1`` requests every URL as every user (about 7,000 GETs and 3,700 POSTs,
some six minutes).

The tests, by what they check, are in ``tests/leaks/sweep/`` and share one world (its
``conftest.world``): ``test_coverage`` (every pattern covered, the world as declared),
``test_pages`` (every GET as every user; anonymous and deactivated users), ``test_writes``
(refused POSTs change nothing), ``test_filters`` (search and filter forms tell nothing of
hidden records), ``test_hits`` (what hit notifications tell), ``test_public_pages`` (the admin,
the sign-in and the public account pages) and ``test_access_log_of_sweep`` (the access log of
the sweep's own reads). ``test_permutation``, beside this module, builds worlds of its own.

Requests are made inside a savepoint that is rolled back, so every request sees the same
database (the access log and the chain of custody do not grow between them) and a POST that
should have been refused can be inspected and then undone.
"""

import logging
import os
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import time_machine
from django.core.signals import got_request_exception
from django.db import transaction
from django.test import Client, TestCase, override_settings
from django.urls import reverse

from casebook.services import member_deactivate
from cases.models import CommonKey, Hit
from tests.conftest import analyze_tables
from tests.leaks.access import NOT_ALLOWED, Expect, Rule
from tests.leaks.targets import Pattern, Target
from tests.leaks.world import CASES, SHARES, TIME_SHIFT, World, build_world

# LEAK_TEST_FULL=1: request every URL as every user. By default, each URL of a case is
# requested as every user for one object per case (every pattern, every case, every user),
# and the other objects as one user of each permission class (see ``users_for``).
FULL = os.environ.get("LEAK_TEST_FULL", "") not in ("", "0")


class LeanClient(Client):
    """The test client without its capture of template contexts, which copies every context
    of every template rendered and doubles the cost of a page: the sweep reads responses
    only."""

    def request(self, **request: Any) -> Any:
        environ = self._base_environ(**request)  # type: ignore[attr-defined]
        uid = f"leak-request-exception-{id(request)}"
        got_request_exception.connect(self.store_exc_info, dispatch_uid=uid)
        try:
            response = self.handler(environ)
        finally:
            got_request_exception.disconnect(dispatch_uid=uid)
        self.check_exception(response)
        response.client = self
        response.request = request
        if response.cookies:
            self.cookies.update(response.cookies)
        return response


# --- the world, opened for a run of tests --------------------------------------------------


@contextmanager
def opened_world(media_root: str) -> Iterator[World]:
    """Build the world in a transaction rolled back on leaving; move the clock past the expiry
    of the expired shares, and sign every user in. The caller unblocks the database (the
    world outlives any one test: ``django_db_blocker.unblock()``); while the world is open,
    the clock stays moved and every request a test makes runs inside its transaction."""
    overrides = override_settings(
        MEDIA_ROOT=media_root,
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        # Small, so that the world has a common key without hundreds of entities.
        CASEBOOK_HIT_KEY_LIMIT=3,
        # Users sign in with force_login, which has no second step (the two-factor pages
        # themselves are swept; the second step is tested in tests/casebook).
        CASEBOOK_REQUIRE_2FA=False,
    )
    # Thousands of expected 403s and 404s: their log lines (with tracebacks) cost more than
    # the requests. Errors are collected by the sweep itself.
    quiet = [logging.getLogger(name) for name in ("django.request", "django.security")]
    levels = [logger.level for logger in quiet]
    for logger in quiet:
        logger.setLevel(logging.CRITICAL)
    with overrides:
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            # on_commit callbacks (hit detection, evidence checks) do not run inside the
            # outer transaction; run them as the world is built.
            with TestCase.captureOnCommitCallbacks(execute=True):
                built = build_world()
            analyze_tables()
            assert built.built_at is not None
            traveller = time_machine.travel(built.built_at + TIME_SHIFT, tick=False)
            traveller.start()
            try:
                for username, user in built.users.items():
                    client = LeanClient()
                    client.force_login(user)
                    built.clients[username] = client
                built.clients[None] = LeanClient()
                # The former investigator was signed in when their supervisor deactivated
                # them: the session they still hold must open nothing.
                former = built.users["papol.former"]
                member_deactivate(actor=built.users["papol.supervisor"], member=former.member)
                seed_access_log(built)
                built.hits = list(Hit.objects.order_by("pk"))
                built.common_keys = list(CommonKey.objects.order_by("pk"))
                yield built
            finally:
                traveller.stop()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            for logger, level in zip(quiet, levels, strict=True):
                logger.setLevel(level)


def seed_access_log(world: World) -> None:
    """Reads and refused reads by every user, kept (not rolled back), so that the access-log
    pages have rows to show, and to hide: each user opens three cases, an entity and an
    evidence file, whether they may or not."""
    amb = world.cases["AMB"]
    urls = [
        reverse("cases:detail", kwargs={"case": world.cases[code].uuid})
        for code in ("AMB", "RED", "CRC")
    ]
    victim = world.entities[("AMB", "P", "person")]
    urls.append(reverse("cases:entity", kwargs={"case": amb.uuid, "entity": victim.uuid}))
    evidence = world.evidence[("AMB", "P")]
    urls.append(
        reverse("cases:evidence_download", kwargs={"case": amb.uuid, "evidence": evidence.uuid})
    )
    for username, client in world.clients.items():
        if username is None:
            continue
        for url in urls:
            try:
                response = client.get(url)
            except Exception:  # noqa: BLE001, S112 - the sweep reports errors; this only seeds
                continue
            if getattr(response, "streaming", False):
                # Reading it through closes it, as the client does: never call close() on a
                # client's response (its request_finished signal would close the connection
                # holding the world's open transaction).
                b"".join(response.streaming_content)


# --- requests and checks ---------------------------------------------------------------------


@dataclass
class Fetched:
    status: int
    text: str
    location: str = ""
    error: str = ""


def response_text(response: Any) -> str:
    """Body (HTML, JSON, CSV or file bytes, decoded leniently) and headers, as one text."""
    if getattr(response, "streaming", False):
        body = b"".join(response.streaming_content)
    else:
        body = response.content
    headers = "\n".join(f"{name}: {value}" for name, value in response.items())
    return headers + "\n\n" + body.decode("utf-8", errors="replace")


@contextmanager
def rolled_back() -> Iterator[None]:
    sid = transaction.savepoint()
    try:
        yield
    finally:
        transaction.savepoint_rollback(sid)


def fetch(
    world: World,
    username: str | None,
    method: str,
    url: str,
    data: dict[str, Any] | None = None,
    *,
    after: Callable[[], Any] | None = None,
) -> tuple[Fetched, Any]:
    """Request ``url`` as ``username`` (None: anonymous) inside a rolled-back savepoint;
    ``after`` runs before the rollback (to inspect what the request changed)."""
    client = world.clients[username]
    inspected = None
    with rolled_back():
        try:
            post = method != "GET"
            response = client.post(url, data or {}) if post else client.get(url)
            # response_text() reads a streamed body through, which closes it; the client has
            # closed any other response already.
            fetched = Fetched(
                response.status_code, response_text(response), response.get("Location", "")
            )
        except Exception as error:  # noqa: BLE001 - reported, with the URL and the user
            fetched = Fetched(500, "", error=f"{type(error).__name__}: {error}")
        if after is not None:
            inspected = after()
    return fetched, inspected


def expected_set(expect: Expect) -> frozenset[int]:
    return expect if isinstance(expect, frozenset) else frozenset({expect})


class Report:
    """Failures collected across a sweep, reported together."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.requests = 0

    def add(self, line: str) -> None:
        self.lines.append(line)

    def check_markers(
        self,
        world: World,
        username: str | None,
        where: str,
        fetched: Fetched,
        seen: set[str] | None = None,
    ) -> set[str]:
        """Report the markers the user may not see; return every marker found."""
        assert world.oracle is not None and world.scanner is not None
        found = world.scanner.scan(fetched.text)
        if username is None or world.personas[username].anonymous:
            leaked = found
        else:
            leaked = found & world.oracle.forbidden(username)
            if seen is not None:
                seen |= found - leaked
        for text in sorted(leaked):
            self.add(
                f"LEAK {where} as {username or 'anonymous'}: {text!r} "
                f"({world.oracle.describe(text)})"
            )
        return found

    def check_status(
        self, where: str, username: str | None, expect: Expect, fetched: Fetched
    ) -> None:
        allowed = expected_set(expect)
        if fetched.status not in allowed:
            detail = f" ({fetched.error})" if fetched.error else ""
            self.add(
                f"STATUS {where} as {username or 'anonymous'}: expected "
                f"{'/'.join(map(str, sorted(allowed)))}, got {fetched.status}{detail}"
            )

    def fail_if_any(self, summary: str) -> None:
        print(f"\n{summary}: {len(self.lines)} problem(s)")
        if self.lines:
            shown = "\n".join(self.lines[:400])
            more = f"\n... and {len(self.lines) - 400} more" if len(self.lines) > 400 else ""
            pytest.fail(f"{summary}: {len(self.lines)} problem(s)\n{shown}{more}", pytrace=False)


def signed_in_users(world: World) -> list[str]:
    return [name for name, persona in world.personas.items() if not persona.anonymous]


def relation(world: World, username: str, case: str) -> str:
    """How the user's agency stands to a case: owner, live/expired/revoked share, or none."""
    agency = world.personas[username].agency
    if agency is None:
        return "none"
    if CASES[case][0] == agency:
        return "owner"
    states = [s.state for s in SHARES if s.case == case and s.agency == agency]
    return "/".join(sorted(states)) or "none"


def permission_class(
    world: World, username: str, target: Target, rule: "Rule | None"
) -> tuple[Any, ...]:
    """What the oracle says of the user on this URL: their actions on its case, whether
    their agency once had a share of it, and the statuses the rule expects. Users with the
    same class are indistinguishable to the oracle there."""
    assert world.oracle is not None
    case_part: tuple[Any, ...] = ()
    if target.case is not None:
        actions = world.oracle.actions(username, target.case)
        ended = not actions and relation(world, username, target.case) not in ("none", "owner")
        case_part = (actions, ended)
    statuses: tuple[Any, ...] = ()
    if rule is not None:
        statuses = (
            rule.get(world, username, target),
            rule.post(world, username, target) if rule.post else None,
        )
    return (*case_part, *statuses)


# The targets requested as every user: those of the most shared case (every relation an
# agency can have to a case: owner, contribute, view, expired, revoked, none), and the first
# of every URL about no case.
EVERY_USER_CASES = ("AMB",)


def primary_targets(targets: list[Target]) -> set[int]:
    first: dict[tuple[Any, ...], int] = {}
    for index, target in enumerate(targets):
        if target.case is None or target.case in EVERY_USER_CASES:
            first.setdefault((target.case, target.exists, target.obj_kind), index)
    return set(first.values())


_rotation: dict[tuple[Any, ...], int] = defaultdict(int)


def users_for(world: World, target: Target, primary: bool, rule: "Rule | None") -> list[str]:
    """Every signed-in user for primary targets and in FULL mode; else one user of each
    permission class, taken in turn, so that every user is used across the targets."""
    users = signed_in_users(world)
    if FULL or primary:
        return users
    classes: dict[tuple[Any, ...], list[str]] = defaultdict(list)
    for username in users:
        classes[permission_class(world, username, target, rule)].append(username)
    chosen = []
    for key, members in classes.items():
        chosen.append(members[_rotation[key] % len(members)])
        _rotation[key] += 1
    return chosen


def url_for(pattern: Pattern, target: Target) -> str:
    return reverse(pattern.name, kwargs=target.kwargs)


def accepts_post(world: World, pattern: Pattern, target: Target) -> bool:
    """Whether the view takes POST at all: a method check answers 405 before anything else
    (after the sign-in check), whoever asks. Asked as the outsider agency's analyst."""
    fetched, _ = fetch(world, "hnpol.analyst", "POST", url_for(pattern, target), {})
    return fetched.status != NOT_ALLOWED
