"""The proof that nothing leaks (issue 3).

The world (``tests.leaks.world``) has seven agencies in six countries, users of every role in
each, a Panamanian case of each handling code and a Costa Rican one, live, expired and revoked
shares, protected and unprotected entities of every kind, records, evidence, notifications and
hits, every identifying value a marker.

Every URL pattern of the project is enumerated from the URLconf, so that a pattern added later
is covered without anyone remembering to: a pattern whose URL arguments have no fixture in
``KWARG_FIXTURES``, or that has no access rule in ``RULES``, or that accepts POST without
plausible data in ``POST_DATA``, makes ``test_every_url_pattern_is_covered`` fail (never skip).
Each URL is then requested as the users below, and the status and the markers in the response (body
and headers: HTML, JSON, CSV or file bytes) are compared with what the independent oracle
(``world.Oracle``) says. Failures are collected and reported together, one line per problem.

Who requests what: every URL of the most shared case (AMB: owner, contribute, view, expired,
revoked and no share at all among the agencies) and every URL about no case, as every user;
every other URL as one user of each permission class (users the oracle cannot tell apart
there: same actions on the case, same expected statuses), taken in turn so that all users are
used. ``LEAK_TEST_FULL=1`` requests every URL as every user (about 7,000 GETs and 3,700 POSTs,
some six minutes); the default run keeps the module under three minutes on two cores.

Issue 14 added: per-page rules (``tests.leaks.rules``: a page about a case seen masked names
none of its protected values even where the user may see the same value elsewhere; a masked
entity's page names no other case; an entity's page names only the cases of matches the user
may follow unmasked); a world that edits (``WorldBuilder.edits``: role changes both ways,
renames, a changed number, a relationship and a movement re-pointed, history swept); the
missing cases (a movement protected only through a facilitator, manage-level recipients of
RED and AMBER+STRICT, re-shares whose source share is revoked, expires or is replaced below
the manage level, matches between protected values and visible cases); hit by hit checks of
what the hits page tells about the other side. The permutation oracle is
``test_permutation``, the access log of the sweep's own reads ``test_access_log_of_sweep``.

Requests are made inside a savepoint that is rolled back, so every request sees the same
database (the access log and the chain of custody do not grow between them) and a POST that
should have been refused can be inspected and then undone.
"""

import html
import logging
import os
import re
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote_plus

import pytest
import time_machine
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.signals import got_request_exception
from django.db import connection, transaction
from django.db.models import Max
from django.test import Client, TestCase, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from casebook.models import AccessLog, Agency, Notification
from casebook.services import member_deactivate
from cases.models import Case, CaseShare, CommonKey, Entity, Hit
from tests.factories import PASSWORD
from tests.leaks.rules import page_problems
from tests.leaks.world import (
    AGENCIES,
    CASES,
    KIND_ABBR,
    LIVE,
    REMOVED,
    SHARES,
    TIME_SHIFT,
    World,
    build_world,
    token,
)

# --- which patterns are not swept, and why -------------------------------------------------

# Namespaces not swept by the main test: the Django admin is tested on its own
# (``test_the_admin_is_no_back_door``): it is for installation administrators, has its own
# login, and its object URLs are not Casebook's.
EXCLUDED_NAMESPACES = {"admin": "the Django admin: tested in test_the_admin_is_no_back_door"}
# Patterns not swept, each with the reason.
EXCLUDED_PATTERNS = {
    "login": "public by design (anonymous users must reach it); its page is checked for "
    "markers in test_the_login_page_shows_nothing",
    "logout": "ends the client's session (POST only); it shows no data",
    # Public by design (before sign-in, from a link in an e-mail): checked for markers and
    # for a clean answer to a wrong link in test_the_public_account_pages_show_nothing.
    "account_set_password": "public (an enrolment link); see test_the_public_account_pages_...",
    "password_reset": "public (asks for a reset link); see test_the_public_account_pages_...",
    "password_reset_done": "public; see test_the_public_account_pages_show_nothing",
    "password_reset_confirm": "public (a reset link); see test_the_public_account_pages_...",
    "password_reset_complete": "public; see test_the_public_account_pages_show_nothing",
}

NO_SUCH_UUID = "00000000-0000-4000-8000-00000000dead"

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


# --- the world, once per module ------------------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: Any) -> Iterator[World]:
    """Build the world once, in a transaction rolled back after the module; move the clock
    past the expiry of the expired shares, and sign every user in."""
    media = tmp_path_factory.mktemp("leak-evidence")
    overrides = override_settings(
        MEDIA_ROOT=str(media),
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
    with overrides, django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            # on_commit callbacks (hit detection, evidence checks) do not run inside the
            # outer transaction; run them as the world is built.
            with TestCase.captureOnCommitCallbacks(execute=True):
                built = build_world()
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


# --- URL patterns --------------------------------------------------------------------------


@dataclass(frozen=True)
class Pattern:
    name: str  # namespaced, for reverse()
    route: str
    kwargs: tuple[str, ...]
    callback: Any


def _kwarg_names(pattern: Any) -> list[str]:
    converters = getattr(pattern.pattern, "converters", None)
    if converters is not None:
        return list(converters)
    return list(re.compile(str(pattern.pattern.regex.pattern)).groupindex)


def all_patterns() -> tuple[list[Pattern], list[str]]:
    """Every pattern of the URLconf, recursively; and the problems found (unnamed patterns)."""
    found: list[Pattern] = []
    problems: list[str] = []

    def walk(resolvers: list[Any], prefix: str, namespace: str, kwargs: list[str]) -> None:
        for entry in resolvers:
            if isinstance(entry, URLResolver):
                ns = entry.namespace
                full_ns = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
                if (ns or "") in EXCLUDED_NAMESPACES:
                    continue
                walk(
                    entry.url_patterns,
                    prefix + str(entry.pattern),
                    full_ns or "",
                    kwargs + _kwarg_names(entry),
                )
            elif isinstance(entry, URLPattern):
                route = prefix + str(entry.pattern)
                if not entry.name:
                    problems.append(f"unnamed URL pattern {route!r}: name it so it can be tested")
                    continue
                name = f"{namespace}:{entry.name}" if namespace else entry.name
                found.append(
                    Pattern(name, route, tuple(kwargs + _kwarg_names(entry)), entry.callback)
                )

    walk(get_resolver().url_patterns, "/", "", [])
    return found, problems


# --- targets: values for URL arguments ------------------------------------------------------


@dataclass
class Target:
    """One set of URL arguments and what the oracle needs to know about it."""

    kwargs: dict[str, str] = field(default_factory=dict)
    label: str = ""
    case: str | None = None  # the case code the URL is about
    exists: bool = True  # False: an object that does not exist, or not in that case
    obj: Any = None  # the model instance or spec the URL names (its last argument)
    obj_kind: str = ""

    def merged(self, other: "Target") -> "Target":
        return Target(
            kwargs={**self.kwargs, **other.kwargs},
            label="/".join(part for part in (self.label, other.label) if part),
            case=other.case or self.case,
            exists=self.exists and other.exists,
            obj=other.obj if other.obj is not None else self.obj,
            obj_kind=other.obj_kind or self.obj_kind,
        )


Fixture = Callable[[World, Target], list[Target]]

# Entities requested on the entity URLs: the victim of every case (requested as every user),
# the entities that match other cases (their pages may show the match), and on the most
# shared case one of each way of being protected or not (by role, by holder, a place...).
ENTITY_TARGETS = (
    *((code, "P", "person") for code in CASES),
    ("RED", "U", "phone"),
    ("AMB", "P", "phone"),
    ("CRC", "U", "phoneX"),
    ("CRC", "U", "phoneY"),
    ("CRC", "U", "phoneW"),
    ("RED", "P", "phone"),
    ("CLR", "U", "organisation2"),
    ("GRN", "U", "organisation2"),
    ("AMB", "U", "person"),
    ("AMB", "H", "document"),
    ("AMB", "P", "location"),
    ("AMB", "U", "location2"),
    ("AMB", "P", "online"),
    # The entities that changed (``WorldBuilder.edits``).
    ("AMB", "P", "v2w"),
    ("AMB", "U", "v2o"),
    ("AMB", "P", "s2i"),
    ("AMB", "P", "phone2"),
)


def _case_target(world: World, code: str) -> Target:
    return Target({"case": str(world.cases[code].uuid)}, label=code, case=code)


def fx_case(world: World, ctx: Target) -> list[Target]:
    targets = [_case_target(world, code) for code in world.cases]
    targets.append(Target({"case": NO_SUCH_UUID}, label="no-such-case", exists=False))
    return targets


def _objects_in_cases(
    world: World, name: str, objects: dict[tuple[str, str], Any], kind: str
) -> list[Target]:
    targets = []
    for (code, flag), obj in objects.items():
        targets.append(
            _case_target(world, code).merged(
                Target({name: str(obj.uuid)}, label=f"{flag}-{kind}", obj=obj, obj_kind=kind)
            )
        )
    # Another case's object under a case the user may see, and one that does not exist.
    (_code, _flag), foreign = next((k, v) for k, v in objects.items() if k[0] == "RED")
    targets.append(
        _case_target(world, "AMB").merged(
            Target({name: str(foreign.uuid)}, label=f"RED-{kind}", exists=False, obj_kind=kind)
        )
    )
    targets.append(
        _case_target(world, "AMB").merged(
            Target({name: NO_SUCH_UUID}, label=f"no-such-{kind}", exists=False, obj_kind=kind)
        )
    )
    return targets


def fx_entity(world: World, ctx: Target) -> list[Target]:
    objects = {
        (code, f"{flag}{kind}"): world.entities[(code, flag, kind)]
        for code, flag, kind in ENTITY_TARGETS
    }
    return _objects_in_cases(world, "entity", objects, "entity")


def fx_relationship(world: World, ctx: Target) -> list[Target]:
    return _objects_in_cases(world, "relationship", world.relationships, "relationship")


def fx_movement(world: World, ctx: Target) -> list[Target]:
    return _objects_in_cases(world, "movement", world.movements, "movement")


def fx_evidence(world: World, ctx: Target) -> list[Target]:
    return _objects_in_cases(world, "evidence", world.evidence, "evidence")


def fx_kind(world: World, ctx: Target) -> list[Target]:
    """Every kind on the most shared case, two on the others, and a kind that does not exist."""
    kinds = list(KIND_ABBR) if ctx.case == "AMB" else ["person", "phone"][: 2 if ctx.case else 1]
    targets = [Target({"kind": str(kind)}, label=str(kind), obj_kind="kind") for kind in kinds]
    if ctx.case == "AMB":
        targets.append(Target({"kind": "nonsense"}, label="nonsense", exists=False))
    return targets


def fx_member(world: World, ctx: Target) -> list[Target]:
    """The analyst of every agency, and a member that does not exist."""
    targets = []
    for username, persona in world.personas.items():
        if persona.agency and persona.roles == ("analyst",):
            member = world.users[username].member
            targets.append(
                Target({"member": str(member.uuid)}, label=username, obj=persona, obj_kind="member")
            )
    targets.append(Target({"member": NO_SUCH_UUID}, label="no-such-member", exists=False))
    return targets


def fx_share(world: World, ctx: Target) -> list[Target]:
    targets = []
    for (code, key), share in world.shares.items():
        spec = world.share_specs[(code, key)]
        agency = key
        targets.append(
            _case_target(world, code).merged(
                Target(
                    {"share": str(share.uuid)},
                    label=f"share-{agency}-{spec.state}",
                    obj=spec,
                    obj_kind="share",
                )
            )
        )
    # A share of another case under a case the user may see.
    foreign = world.shares[("RED", "MXPROS")]
    targets.append(
        _case_target(world, "AMB").merged(
            Target({"share": str(foreign.uuid)}, label="RED-share", exists=False, obj_kind="share")
        )
    )
    return targets


def fx_hit(world: World, ctx: Target) -> list[Target]:
    targets = [
        Target(
            {"hit": str(hit.uuid)}, label=f"hit-{_hit_label(world, hit)}", obj=hit, obj_kind="hit"
        )
        for hit in world.hits
    ]
    targets.append(Target({"hit": NO_SUCH_UUID}, label="no-such-hit", exists=False))
    return targets


def fx_key(world: World, ctx: Target) -> list[Target]:
    targets = [
        Target({"key": str(key.uuid)}, label=f"key-{key.pk}", obj=key, obj_kind="common_key")
        for key in world.common_keys
    ]
    targets.append(Target({"key": NO_SUCH_UUID}, label="no-such-key", exists=False))
    return targets


# URL argument name -> the values to request it with. A pattern with an argument missing here
# fails the coverage test: add a fixture (and the objects to the world) for it.
KWARG_FIXTURES: dict[str, Fixture] = {
    "case": fx_case,
    "entity": fx_entity,
    "relationship": fx_relationship,
    "movement": fx_movement,
    "evidence": fx_evidence,
    "kind": fx_kind,
    "member": fx_member,
    "share": fx_share,
    "hit": fx_hit,
    "key": fx_key,
}
# Object arguments first: their targets carry the case they belong to.
KWARG_ORDER = ("case", "kind")


def targets_for(world: World, pattern: Pattern) -> list[Target]:
    names = list(pattern.kwargs)
    missing = [name for name in names if name not in KWARG_FIXTURES]
    if missing:
        raise LookupError(f"no fixture for URL argument(s) {missing} of {pattern.name}")
    # Object arguments (not "case"/"kind") bring their case; then "case" if still needed,
    # then "kind" (which depends on the case).
    ordered = sorted(names, key=lambda n: KWARG_ORDER.index(n) + 1 if n in KWARG_ORDER else 0)
    partials = [Target()]
    for name in ordered:
        if all(name in partial.kwargs for partial in partials):
            continue
        grown = []
        for partial in partials:
            for produced in KWARG_FIXTURES[name](world, partial):
                grown.append(partial.merged(produced))
        partials = grown
    wanted = set(names)
    return [replace(t, kwargs={k: v for k, v in t.kwargs.items() if k in wanted}) for t in partials]


def _hit_label(world: World, hit: Hit) -> str:
    return f"{world.case_code(hit.case_id)}~{world.case_code(hit.other_case_id)}"


# --- access rules: the status the oracle expects --------------------------------------------

OK, FOUND, FORBIDDEN, NOT_FOUND, NOT_ALLOWED = 200, 302, 403, 404, 405


class Unchanged(frozenset[int]):
    """Any of these statuses, and the database unchanged: a request that is answered (e.g.
    with a redirect) but must have no effect."""


Expect = int | frozenset[int]
RuleFn = Callable[[World, str, Target], Expect]


@dataclass(frozen=True)
class Rule:
    """``get``: the status of a GET; ``post``: the status of a POST by someone who may not
    act (the refusal), ``None`` for views that refuse POST (405). A user for whom ``get``
    gives 200 (or ``post`` 302) may act."""

    get: RuleFn
    post: RuleFn | None = None


def case_action(action: str, *, then: Expect = OK) -> RuleFn:
    """404 for a case the user may not see (or that does not exist); 403 for an action their
    agency's grant or their role does not allow; 404 for an object not in that case."""

    def rule(world: World, username: str, target: Target) -> Expect:
        oracle = world.oracle
        assert oracle is not None
        if target.case is None or not oracle.may(username, "view", target.case):
            return NOT_FOUND
        if not oracle.may(username, action, target.case):
            # Whether the action or the object's absence is found first, nothing is told.
            return FORBIDDEN if target.exists else frozenset({FORBIDDEN, NOT_FOUND})
        if not target.exists:
            return NOT_FOUND
        return then

    return rule


# The flags of the world's protected relationships and movements (``world.records``,
# ``WorldBuilder.edits``): by a protected end, place or facilitator.
PROTECTED_RECORD_FLAGS = {"relationship": {"P", "R"}, "movement": {"P", "F", "S"}}


def record_is_protected(world: World, target: Target) -> bool:
    if target.obj is None:
        return False
    if target.obj_kind == "entity":
        return world.entity_protected.get(target.obj.pk, False)
    flag = target.label.rsplit("/", 1)[-1].split("-", 1)[0]
    return flag in PROTECTED_RECORD_FLAGS.get(target.obj_kind, set())


def protected_record_action(action: str) -> RuleFn:
    """As ``case_action``; and editing or removing a protected entity, or a relationship or
    movement that involves one, requires seeing protected identities (issue 7 §1): 403."""
    base = case_action(action)

    def rule(world: World, username: str, target: Target) -> Expect:
        status = base(world, username, target)
        if status != OK or not record_is_protected(world, target):
            return status
        assert world.oracle is not None and target.case is not None
        if not world.oracle.may(username, "view_protected", target.case):
            return FORBIDDEN
        return status

    return rule


def entity_add_rule(world: World, username: str, target: Target) -> Expect:
    if not target.exists and target.obj_kind != "kind":
        # An unknown kind is a 404 before anything is looked up.
        return NOT_FOUND
    return case_action("contribute")(world, username, target)


def evidence_download_rule(world: World, username: str, target: Target) -> Expect:
    """A protected evidence file's content is only for those who may see protected
    identities; to the others the file is listed under a pseudonym and its content is "not
    found" (404), as anything they may not see."""
    status = case_action("view")(world, username, target)
    evidence = target.obj
    if status == OK and evidence is not None and evidence.protected:
        assert world.oracle is not None and target.case is not None
        if not world.oracle.may(username, "view_protected", target.case):
            return NOT_FOUND
    return status


def export_rule(world: World, username: str, target: Target) -> Expect:
    """The JSON export of a case: as the case page for those who may not see it (404); for
    those who may, 403 where the handling code forbids their agency to export it (a recipient
    of a RED case)."""
    status = case_action("view")(world, username, target)
    assert world.oracle is not None
    if (
        status == OK
        and target.case is not None
        and not world.oracle.may_export(username, target.case)
    ):
        return FORBIDDEN
    return status


def signed_in(world: World, username: str, target: Target) -> Expect:
    return OK


def global_perm(permission: str) -> RuleFn:
    def rule(world: World, username: str, target: Target) -> Expect:
        assert world.oracle is not None
        return OK if world.oracle.has_global(username, permission) else FORBIDDEN

    return rule


def member_rule(world: World, username: str, target: Target) -> Expect:
    """Supervisors manage their own agency's members: another agency's is a 404."""
    assert world.oracle is not None
    if not world.oracle.has_global(username, "manage_members"):
        return FORBIDDEN
    persona = world.personas[username]
    if not target.exists or target.obj.agency != persona.agency:
        return NOT_FOUND
    return OK


def method_not_allowed(world: World, username: str, target: Target) -> Expect:
    return NOT_ALLOWED


def refused(rule: RuleFn) -> RuleFn:
    """The POST twin of a GET rule: who may GET the page may post it (a redirect, or the form
    again with errors)."""

    def post_rule(world: World, username: str, target: Target) -> Expect:
        status = rule(world, username, target)
        return frozenset({FOUND, OK}) if status == OK else status

    return post_rule


def _editable(rule: RuleFn) -> Rule:
    return Rule(get=rule, post=refused(rule))


def share_rule(world: World, username: str, target: Target) -> Expect:
    """Managing a share: the case's managers; a share of another case is a 404."""
    return case_action("manage")(world, username, target)


# Handling codes under which only the owner agency may grant shares (the TLP table).
OWNER_ONLY_GRANTS = (Case.HandlingCode.RED, Case.HandlingCode.AMBER_STRICT)


def share_post_rule(world: World, username: str, target: Target) -> Expect:
    """Sharing: the case's managers; a manage-level recipient of a RED or AMBER+STRICT case
    sees the form but may not grant (the form again, with the reason; nothing changes)."""
    status = refused(share_rule)(world, username, target)
    if status != frozenset({FOUND, OK}) or target.case is None:
        return status
    owner, handling = CASES[target.case]
    if handling in OWNER_ONLY_GRANTS and world.personas[username].agency != owner:
        return Unchanged({OK})
    return status


def share_revoke_rule(world: World, username: str, target: Target) -> Expect:
    """The revoke page of a share: the case's managers see it; another case's share is a
    404."""
    return case_action("manage")(world, username, target)


def share_revoke_post_rule(world: World, username: str, target: Target) -> Expect:
    """Revoking: the owner's managers may end any share, a recipient's only those it granted
    (else 403); an ended share cannot be ended again (refused, nothing changes)."""
    status = case_action("manage")(world, username, target)
    if status != OK:
        return status
    spec = target.obj
    if world.personas[username].agency not in (CASES[spec.case][0], spec.granted_by):
        return FORBIDDEN
    if spec.state != LIVE:
        return Unchanged({FOUND, NOT_FOUND})
    return FOUND


def told_of_hit(world: World, username: str, hit: Hit) -> bool:
    """Whether the user is told of the hit (the issue: "if the member may see the other case,
    the match is shown as a link ...; if not, both owner agencies get a hit notification";
    "matches on protected identities notify only members who may see protected
    identities"): their agency owns one side's case, they see that case and its entity
    unmasked, and they may not see the other case."""
    oracle = world.oracle
    assert oracle is not None
    persona = world.personas[username]
    sides = ((hit.case_id, hit.entity_id, hit.other_case_id, hit.other_id),
             (hit.other_case_id, hit.other_id, hit.case_id, hit.entity_id))  # fmt: skip
    for case_id, entity_id, other_case_id, other_id in sides:
        code, other = world.case_code(case_id), world.case_code(other_case_id)
        protected = world.entity_protected.get(entity_id, False)
        if (
            # Issue 7 §3: no hit on the other side's protected identity (the agencies'
            # policies in this world do not allow it): it would tell its value.
            not world.entity_protected.get(other_id, False)
            and CASES[code][0] == persona.agency
            and oracle.may(username, "view", code)
            and (not protected or oracle.may(username, "view_protected", code))
            and not oracle.may(username, "view", other)
        ):
            return True
    return False


def hit_dismiss_rule(world: World, username: str, target: Target) -> Expect:
    if not target.exists or not told_of_hit(world, username, target.obj):
        return NOT_FOUND
    return FOUND


def common_key_mark_rule(world: World, username: str, target: Target) -> Expect:
    """Supervisors confirm the common keys their agency's cases hold (through an entity they
    may see unmasked); others' keys are a 404; non-supervisors are refused (403)."""
    persona = world.personas[username]
    if "supervisor" not in persona.roles or not persona.active or persona.agency is None:
        return FORBIDDEN
    if not target.exists or not _agency_holds_key(world, username, target.obj):
        return NOT_FOUND
    return FOUND


def _agency_holds_key(world: World, username: str, key: CommonKey) -> bool:
    from cases.models import MatchKey

    assert world.oracle is not None
    agency = world.personas[username].agency
    for entity_id, case_id in MatchKey.objects.filter(key=key.key).values_list(
        "entity_id", "case_id"
    ):
        code = world.case_code(case_id)
        protected = world.entity_protected.get(entity_id, False)
        if CASES[code][0] == agency and (
            not protected or world.oracle.may(username, "view_protected", code)
        ):
            return True
    return False


def notifications_post_rule(world: World, username: str, target: Target) -> Expect:
    """Marking as read the notification ``post_notification`` names (one to Costa Rica's
    police): only its agency's members change anything; for the others it is no notification
    of theirs, and nothing changes."""
    persona = world.personas[username]
    return FOUND if persona.agency == "CRPOL" else Unchanged({FOUND})


def member_action_rule(world: World, username: str, target: Target) -> Expect:
    """A supervisor's action on a member (unlock, two-factor reset): their own agency's
    members only (another's is a 404, a non-supervisor's request a 403). On a member who is
    neither locked nor has an authenticator it changes nothing."""
    status = member_rule(world, username, target)
    return Unchanged({FOUND}) if status == OK else status


def answered_unchanged(*statuses: int) -> RuleFn:
    """Any signed-in user gets an answer (``statuses``) that changes nothing: a form of
    their own sent with a wrong code, a second step they do not owe."""

    def rule(world: World, username: str, target: Target) -> Expect:
        return Unchanged(set(statuses))

    return rule


def redirected(world: World, username: str, target: Target) -> Expect:
    return FOUND


def supervisor_page(world: World, username: str, target: Target) -> Expect:
    persona = world.personas[username]
    return OK if persona.active and "supervisor" in persona.roles else FORBIDDEN


# Pattern name -> its access rule. A pattern missing here fails the coverage test.
RULES: dict[str, Rule] = {
    "dashboard": Rule(get=signed_in),
    "notifications": Rule(get=signed_in, post=notifications_post_rule),
    "members": Rule(get=global_perm("manage_members")),
    "member_add": _editable(global_perm("manage_members")),
    "member_edit": _editable(member_rule),
    "access_log": Rule(get=supervisor_page),
    # A supervisor's own agency's contact point and protected-match policy.
    "agency_settings": _editable(global_perm("manage_members")),
    "access_log_export": Rule(get=supervisor_page),
    "cases:list": Rule(get=signed_in),
    "cases:create": _editable(global_perm("add_case")),
    "cases:hits": Rule(get=signed_in),
    "cases:hit_dismiss": Rule(get=method_not_allowed, post=hit_dismiss_rule),
    "cases:common_keys": Rule(get=supervisor_page),
    "cases:common_key_mark": Rule(get=method_not_allowed, post=common_key_mark_rule),
    "cases:common_key_restore": Rule(get=method_not_allowed, post=common_key_mark_rule),
    # Accounts and sign-in (issue 7 §2): one's own password and second factor; a
    # supervisor's actions on their members.
    # Posted with a wrong current password (a right one would end the client's session):
    # the form again, nothing changed.
    "account_password_change": Rule(get=signed_in, post=answered_unchanged(OK)),
    # Two-factor sign-in is off in the sweep (force_login): the second step is not owed.
    "signin:two_factor_verify": Rule(get=redirected, post=answered_unchanged(FOUND)),
    # Posted with a wrong code: the form again, no authenticator confirmed.
    "signin:two_factor_setup": Rule(get=signed_in, post=answered_unchanged(OK)),
    "signin:security": Rule(get=signed_in),
    "signin:recovery_codes": Rule(get=method_not_allowed, post=answered_unchanged(OK)),
    "signin:member_unlock": Rule(get=method_not_allowed, post=member_action_rule),
    "signin:member_two_factor_reset": Rule(get=method_not_allowed, post=member_action_rule),
    "cases:detail": Rule(get=case_action("view")),
    "cases:edit": _editable(case_action("change")),
    "cases:timeline": Rule(get=case_action("view")),
    "cases:history": Rule(get=case_action("view")),
    "cases:export": Rule(get=export_rule),
    "cases:entity_add": _editable(entity_add_rule),
    "cases:entity": Rule(get=case_action("view")),
    "cases:entity_edit": _editable(protected_record_action("contribute")),
    "cases:entity_remove": _editable(protected_record_action("contribute")),
    "cases:relationship_add": _editable(case_action("contribute")),
    "cases:relationship_remove": _editable(protected_record_action("contribute")),
    "cases:movement_add": _editable(case_action("contribute")),
    "cases:movement_remove": _editable(protected_record_action("contribute")),
    "cases:note_add": _editable(case_action("contribute")),
    "cases:evidence_add": _editable(case_action("contribute")),
    "cases:evidence": Rule(get=case_action("view")),
    "cases:evidence_download": Rule(get=evidence_download_rule),
    "cases:shares": Rule(get=share_rule, post=share_post_rule),
    "cases:share_revoke": Rule(get=share_revoke_rule, post=share_revoke_post_rule),
}


# --- plausible POST data ---------------------------------------------------------------------

PostData = Callable[[World, Target], dict[str, Any]]


def _today() -> str:
    return timezone.localdate().isoformat()


ENTITY_POST = {
    "person": {"role": "suspect", "name": "Posted Person"},
    "organisation": {"role": "suspect", "name": "Posted Organisation"},
    "phone": {"role": "suspect", "identifier": "+50769990001", "identifier_country": "PA"},
    "vehicle": {
        "role": "transporter",
        "subtype": "car",
        "identifier": "POST123",
        "identifier_country": "PA",
    },
    "account": {
        "role": "financier",
        "subtype": "bank_account",
        "identifier": "POST123",
        "identifier_country": "PA",
    },
    "document": {
        "role": "suspect",
        "subtype": "passport",
        "identifier": "POST123",
        "identifier_country": "HN",
    },
    "online": {"role": "recruiter", "subtype": "telegram", "identifier": "posted_handle"},
    "location": {
        "role": "other",
        "name": "Posted place",
        "subtype": "city",
        "identifier_country": "PA",
    },
}


def post_case(world: World, target: Target) -> dict[str, Any]:
    """A new case, or the case's own values with a new title (its handling code kept: a
    change of code is a decision about its shares, a form of its own)."""
    code = CASES[target.case][1] if target.case else Case.HandlingCode.AMBER
    return {
        "title": "Posted case",
        "kind": "smuggling",
        "status": "open",
        "handling_code": str(code),
        "summary": "Posted",
        "opened_on": _today(),
    }


def post_entity_add(world: World, target: Target) -> dict[str, Any]:
    return dict(ENTITY_POST.get(target.kwargs.get("kind", ""), {"role": "suspect"}))


def post_entity_edit(world: World, target: Target) -> dict[str, Any]:
    entity = target.obj
    if entity is None:
        return {"role": "suspect", "name": "Posted change", "description": "Posted change"}
    data = dict(ENTITY_POST[entity.kind])
    data["description"] = "Posted change"
    return data


def _case_entities(world: World, target: Target) -> tuple[str, dict[str, Entity]]:
    code = target.case or "AMB"
    return code, {
        "person": world.entities[(code, "U", "person")],
        "organisation": world.entities[(code, "U", "organisation")],
        "location": world.entities[(code, "U", "location")],
        "location2": world.entities[(code, "U", "location2")],
    }


def post_relationship(world: World, target: Target) -> dict[str, Any]:
    _code, entities = _case_entities(world, target)
    return {
        "source": str(entities["person"].uuid),
        "target": str(entities["organisation"].uuid),
        "kind": "pays",
        "source_reliability": "X",
        "information_assessment": "4",
    }


def post_movement(world: World, target: Target) -> dict[str, Any]:
    _code, entities = _case_entities(world, target)
    return {
        "origin": str(entities["location2"].uuid),
        "destination": str(entities["location"].uuid),
        "moved_on": (timezone.localdate() - TIME_SHIFT).isoformat(),
        "means": "car",
        "people_count": "2",
    }


def post_note(world: World, target: Target) -> dict[str, Any]:
    return {"body": "Posted note", "noted_on": _today()}


def post_evidence(world: World, target: Target) -> dict[str, Any]:
    return {
        "file": SimpleUploadedFile("posted.txt", b"posted evidence", content_type="text/plain"),
        "description": "Posted",
        "protected": "on",
    }


def post_member_add(world: World, target: Target) -> dict[str, Any]:
    return {
        "username": "posted.member",
        "first_name": "Posted",
        "last_name": "Member",
        "email": "posted.member@example.org",
        "roles": ["analyst"],
        "password": "a posted password 1234",
        "password_confirmation": "a posted password 1234",
    }


def post_member_edit(world: World, target: Target) -> dict[str, Any]:
    return {
        "first_name": "Posted",
        "last_name": "Change",
        "email": "posted.change@example.org",
        "roles": ["analyst", "investigator"],
    }


def post_share(world: World, target: Target) -> dict[str, Any]:
    outsider = world.agencies["HNPOL"]
    return {
        "agency": str(outsider.uuid),
        "level": CaseShare.Level.VIEW,
        "purpose": "Posted share",
    }


def post_notification(world: World, target: Target) -> dict[str, Any]:
    """Mark as read a notification of Costa Rica's police (a hit on its case)."""
    notification = (
        Notification.objects.filter(agency=world.agencies["CRPOL"], protected_only=False)
        .order_by("pk")
        .first()
    )
    assert notification is not None, "the world has no notification for CRPOL"
    return {"notification": str(notification.uuid)}


def post_password_change(world: World, target: Target) -> dict[str, Any]:
    """A wrong current password (not the factories'), and a new one the validators take."""
    new = "a posted passphrase, long 7319"
    return {"old_password": PASSWORD + "-wrong", "new_password1": new, "new_password2": new}


def post_agency_settings(world: World, target: Target) -> dict[str, Any]:
    return {
        "contact_point": "posted.contact@agency.example",
        "protected_match_policy": str(Agency.ProtectedMatchPolicy.OWNER_DECIDES),
    }


def post_wrong_code(world: World, target: Target) -> dict[str, Any]:
    return {"code": "000000"}


def post_nothing(world: World, target: Target) -> dict[str, Any]:
    return {}


# Pattern name -> plausible data for a POST (what the form would send). Every pattern that
# accepts POST must be here (the coverage test checks it).
POST_DATA: dict[str, PostData] = {
    "notifications": post_notification,
    "member_add": post_member_add,
    "member_edit": post_member_edit,
    "cases:create": post_case,
    "cases:edit": post_case,
    "cases:entity_add": post_entity_add,
    "cases:entity_edit": post_entity_edit,
    "cases:entity_remove": post_nothing,
    "cases:relationship_add": post_relationship,
    "cases:relationship_remove": post_nothing,
    "cases:movement_add": post_movement,
    "cases:movement_remove": post_nothing,
    "cases:note_add": post_note,
    "cases:evidence_add": post_evidence,
    "cases:shares": post_share,
    "cases:share_revoke": post_nothing,
    "cases:hit_dismiss": post_nothing,
    "cases:common_key_mark": post_nothing,
    "cases:common_key_restore": post_nothing,
    "account_password_change": post_password_change,
    "agency_settings": post_agency_settings,
    "signin:two_factor_verify": post_wrong_code,
    "signin:two_factor_setup": post_wrong_code,
    "signin:recovery_codes": post_wrong_code,
    "signin:member_unlock": post_nothing,
    "signin:member_two_factor_reset": post_nothing,
}


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


def swept_patterns() -> list[Pattern]:
    patterns, _problems = all_patterns()
    return [p for p in patterns if p.name not in EXCLUDED_PATTERNS]


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


# --- the tests ----------------------------------------------------------------------------------


# Pages that show the whole case: its title, its notes, its people (the victim's name to
# those who may see protected identities).
SHOWS_THE_CASE = ("cases:detail", "cases:export")


def must_show(world: World, pattern: Pattern, username: str, target: Target) -> set[str]:
    """Markers a page must show (masking must not hide what the user may see): the case list
    lists exactly the cases the oracle says, the case page shows the victim's name to those
    who may see protected identities."""
    oracle = world.oracle
    assert oracle is not None
    if pattern.name == "cases:list":
        return {
            token(code, "C", "CASETITLE") for code in CASES if oracle.may(username, "view", code)
        }
    if pattern.name in SHOWS_THE_CASE and target.exists and target.case is not None:
        code = target.case
        if not oracle.may(username, "view", code):
            return set()
        if pattern.name == "cases:export" and not oracle.may_export(username, code):
            return set()
        shown = {token(code, "C", "CASETITLE"), token(code, "C", "NOTEBODY")}
        shown.add(token(code, "U", "PERSNAME"))
        if oracle.may(username, "view_protected", code):
            shown.add(token(code, "P", "PERSNAME"))
        return shown
    return set()


def test_every_url_pattern_is_covered(world: World, db: Any) -> None:
    """Every pattern has fixtures for its arguments, an access rule, and POST data if it
    takes POST; nothing is skipped silently."""
    patterns, problems = all_patterns()
    for pattern in patterns:
        if pattern.name in EXCLUDED_PATTERNS:
            continue
        try:
            targets = targets_for(world, pattern)
        except LookupError as error:
            problems.append(str(error))
            continue
        if not targets:
            problems.append(f"no targets for {pattern.name}: add objects to the world")
        if pattern.name not in RULES:
            problems.append(f"no access rule for {pattern.name} ({pattern.route}): add it to RULES")
            continue
        if targets and accepts_post(world, pattern, targets[0]):
            if pattern.name not in POST_DATA:
                problems.append(f"{pattern.name} accepts POST: add plausible data to POST_DATA")
            if RULES[pattern.name].post is None:
                problems.append(f"{pattern.name} accepts POST: give its rule a post= part")
    stale = set(RULES) - {p.name for p in patterns}
    problems += [f"RULES names {name}, which is no URL pattern any more" for name in stale]
    assert not problems, "\n".join(problems)


def test_the_world_is_as_declared(world: World, db: Any) -> None:
    """The shares the oracle reads are the ones in the database, in the state declared; the
    hits exist; so that the oracle and the application talk about the same world."""
    for (code, agency), share in world.shares.items():
        share.refresh_from_db()
        spec = world.share_specs[(code, agency)]
        assert share.is_active() == (spec.state == LIVE), (code, agency, spec.state)
    if world.hits:
        pairs = {_hit_label(world, hit) for hit in world.hits}
        # AMB~CRC is a match on AMB's protected phone: a hit only where policy allows it.
        assert "RED~CRC" in pairs | {"CRC~RED"}, pairs
    assert world.scanner is not None
    # The scanner finds each kind of marker in the forms pages print them.
    sample = "LEAKMARKAMBPPERSNAME 6700-0001 8.125457 July 12, 1923"
    assert {"LEAKMARKAMBPPERSNAME"} <= world.scanner.scan(sample)


def _sweep_targets(world: World) -> list[tuple[Pattern, list[Target]]]:
    out = []
    for pattern in swept_patterns():
        try:
            out.append((pattern, targets_for(world, pattern)))
        except LookupError:
            continue  # reported by test_every_url_pattern_is_covered
    return out


def test_every_url_as_every_user_shows_only_what_they_may_see(world: World, db: Any) -> None:
    """GET every URL as every signed-in user: the status the oracle expects, and no marker of
    anything they may not see. Every marker must also be seen by someone allowed to see it,
    or its absence elsewhere would prove nothing."""
    report = Report()
    seen: set[str] = set()
    started = time.monotonic()
    for pattern, targets in _sweep_targets(world):
        rule = RULES.get(pattern.name)
        if rule is None:
            report.add(f"NO RULE for {pattern.name} (see test_every_url_pattern_is_covered)")
        primary = primary_targets(targets)
        for index, target in enumerate(targets):
            url = url_for(pattern, target)
            for username in users_for(world, target, index in primary, rule):
                fetched, _ = fetch(world, username, "GET", url)
                report.requests += 1
                where = f"GET {pattern.name} [{target.label}] {url}"
                if rule is not None:
                    report.check_status(where, username, rule.get(world, username, target), fetched)
                found = report.check_markers(world, username, where, fetched, seen)
                if fetched.status == OK:
                    for problem in page_problems(
                        world, pattern.name, username, target, fetched.text, found
                    ):
                        report.add(f"PAGE RULE {where} as {username}: {problem}")
                for text in sorted(must_show(world, pattern, username, target) - found):
                    report.add(f"MISSING {where} as {username}: {text!r} is not shown")
    # Positive control: the pages of the entities the sweep does not request, as the owner
    # agency's investigator (who may see everything of their cases), so that every marker is
    # shown somewhere; checked for leaks like any other page.
    swept = {world.entities[(code, flag, kind)].pk for code, flag, kind in ENTITY_TARGETS}
    for (code, _flag, _kind), entity in world.entities.items():
        if entity.pk in swept:
            continue
        username = f"{CASES[code][0].lower()}.investigator"
        url = reverse("cases:entity", kwargs={"case": entity.case.uuid, "entity": entity.uuid})
        fetched, _ = fetch(world, username, "GET", url)
        report.requests += 1
        where = f"GET cases:entity [{code}] {url}"
        report.check_status(where, username, OK, fetched)
        report.check_markers(world, username, where, fetched, seen)
    assert world.oracle is not None
    removed = {m.text for m in world.markers if m.what == REMOVED}
    unseen = sorted(world.oracle.texts - seen - removed)
    for text in unseen:
        report.add(
            f"NEVER SHOWN {text!r} ({world.oracle.describe(text)}): no page showed it "
            f"to anyone allowed, so its absence proves nothing"
        )
    elapsed = time.monotonic() - started
    print(f"\nleak sweep: {report.requests} GET requests in {elapsed:.1f}s")
    report.fail_if_any(f"GET sweep ({report.requests} requests)")


def test_anonymous_and_deactivated_users_are_sent_to_sign_in_everywhere(
    world: World, db: Any
) -> None:
    report = Report()
    login = reverse("login")
    for pattern, targets in _sweep_targets(world):
        for target in targets[:2]:
            url = url_for(pattern, target)
            for username in (None, "papol.former"):
                for method in ("GET", "POST"):
                    fetched, _ = fetch(world, username, method, url, {})
                    report.requests += 1
                    where = f"{method} {pattern.name} [{target.label}]"
                    if fetched.status != FOUND or not fetched.location.startswith(login):
                        report.add(
                            f"NOT SENT TO SIGN IN {where} as {username or 'anonymous'}: "
                            f"{fetched.status} {fetched.location}{fetched.error}"
                        )
                    report.check_markers(world, None, where, fetched)
    report.fail_if_any(f"anonymous sweep ({report.requests} requests)")


# --- state-changing requests -----------------------------------------------------------------


def _history_and_tables() -> list[tuple[str, str]]:
    """(label, table) of every model of the cases and casebook apps (history and through
    tables included) and of users and groups."""
    models = []
    for label in ("cases", "casebook"):
        models += list(apps.get_app_config(label).get_models(include_auto_created=True))
    user_model = get_user_model()
    models += [user_model, user_model.groups.through, apps.get_model("auth", "Group")]
    return [(m._meta.label, m._meta.db_table) for m in models]


# Tables whose rows change in place without a history row: fingerprinted, not just counted.
FINGERPRINTED = (
    "cases.MatchKey",
    "cases.CaseGroupObjectPermission",
    "cases.Hit",
    "cases.HitDismissal",
    "cases.CommonKey",
    "casebook.Notification",
    "casebook.Notification_read_by",
    "cases.Evidence",
    "auth.User",
)


def snapshot() -> dict[str, Any]:
    """Row counts of every table (one query), and fingerprints of the tables above."""
    tables = [
        (label, table) for label, table in _history_and_tables() if label != AccessLog._meta.label
    ]
    quote = connection.ops.quote_name
    # Table names from the models' own metadata, quoted: no user input.
    counts_sql = ", ".join(
        f"(SELECT COUNT(*) FROM {quote(table)})"  # noqa: S608
        for _l, table in tables
    )
    sql = f"SELECT {counts_sql}"
    with connection.cursor() as cursor:
        cursor.execute(sql)
        counts = dict(zip([label for label, _t in tables], cursor.fetchone(), strict=True))
    state: dict[str, Any] = dict(counts)
    for label in FINGERPRINTED:
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        state[f"{label}#rows"] = hash(tuple(model._default_manager.order_by("pk").values_list()))
    state["access_log_max_id"] = AccessLog.objects.aggregate(top=Max("id"))["top"] or 0
    return state


def changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return [
        f"{key}: {before.get(key)} -> {after.get(key)}"
        for key in sorted(set(before) | set(after))
        if key != "access_log_max_id" and before.get(key) != after.get(key)
    ]


def _new_access_log_rows(before: dict[str, Any]) -> list[tuple[str, str]]:
    return list(
        AccessLog.objects.filter(id__gt=before["access_log_max_id"]).values_list(
            "action", "object_type"
        )
    )


# Access-log actions that record something done (not a read, not a refusal).
ACTS = (AccessLog.Action.SHARE, AccessLog.Action.REVOKE, AccessLog.Action.EXPORT)


def _post_targets(targets: list[Target]) -> list[Target]:
    """Fewer targets for POST: one per case, protectedness and existence."""
    chosen: dict[tuple[Any, ...], Target] = {}
    for target in targets:
        key = (target.case, target.exists, target.label.split("/")[-1][:1], target.obj_kind)
        chosen.setdefault(key, target)
    return list(chosen.values())


def test_state_changing_requests_by_those_who_may_not_act_change_nothing(
    world: World, db: Any
) -> None:
    """POST every URL that takes POST, with plausible data, as every user who may not act:
    404 or 403 as the oracle says, and the database unchanged (row counts of every table and
    every history table, fingerprints of tables changed in place); the access log grows only
    by refusals. And as one user who may act, to show the data would have changed something."""
    report = Report()
    baseline = snapshot()
    for pattern, targets in _sweep_targets(world):
        rule = RULES.get(pattern.name)
        if rule is None or not targets:
            continue
        if not accepts_post(world, pattern, targets[0]):
            continue
        make_data = POST_DATA.get(pattern.name)
        if make_data is None or rule.post is None:
            continue  # reported by test_every_url_pattern_is_covered
        post_targets = _post_targets(targets)
        # Every user posts to the first URL of a pattern about no case (a form of their own:
        # new case, new member...); elsewhere one user of each permission class, in turn.
        primary = {0} if post_targets and post_targets[0].case is None else set()
        for index, target in enumerate(post_targets):
            url = url_for(pattern, target)
            where = f"POST {pattern.name} [{target.label}] {url}"
            actor_checked = False
            for username in users_for(world, target, index in primary, rule):
                expect = rule.post(world, username, target)
                may_act = not isinstance(expect, Unchanged) and not (
                    expected_set(expect) & {FORBIDDEN, NOT_FOUND}
                )
                if may_act and actor_checked:
                    continue
                fetched, after = fetch(
                    world,
                    username,
                    "POST",
                    url,
                    make_data(world, target),
                    after=lambda: (snapshot(), _new_access_log_rows(baseline)),
                )
                report.requests += 1
                state, log_rows = after
                report.check_markers(world, username, where, fetched)
                report.check_status(where, username, expect, fetched)
                diff = changes(baseline, state)
                if may_act:
                    actor_checked = True
                    if not diff and target.exists:
                        report.add(
                            f"VACUOUS {where} as {username}: a user who may act changed "
                            f"nothing ({fetched.status}); fix POST_DATA"
                        )
                    continue
                if diff:
                    report.add(
                        f"CHANGED {where} as {username} ({fetched.status}): " + "; ".join(diff)
                    )
                # Reads that passed before the refusal (the case page, the share) are logged
                # as reads; a refused request must never be logged as done.
                wrong_log = [row for row in log_rows if row[0] in ACTS]
                if wrong_log:
                    report.add(f"ACCESS LOG {where} as {username}: logged as done {wrong_log}")
                if fetched.status in (FORBIDDEN, NOT_FOUND) and not log_rows:
                    report.add(
                        f"NOT LOGGED {where} as {username}: a refusal ({fetched.status}) "
                        f"left no row in the access log"
                    )
    report.fail_if_any(f"POST sweep ({report.requests} requests)")


# --- query strings that could reveal hidden records ------------------------------------------

_FORM = re.compile(r"<form\b[^>]*>.*?</form>", re.S | re.I)
_FIELD = re.compile(r"<(input|select|textarea)\b([^>]*)>(.*?</select>)?", re.S | re.I)
_ATTR = re.compile(r"\b(name|type|value)=\"([^\"]*)\"", re.I)
_OPTION_VALUE = re.compile(r"<option\b[^>]*\bvalue=\"([^\"]*)\"", re.I)
_CSRF = re.compile(r"csrfmiddlewaretoken\" value=\"[^\"]*\"|csrftoken=[^;\s]*")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TEXT_TYPES = ("", "text", "search")


@dataclass(frozen=True)
class FormField:
    name: str
    kind: str  # "text" or "select"
    options: tuple[str, ...] = ()


def get_form_fields(text: str) -> list[FormField]:
    """The fields of the page's GET forms (search and filter forms)."""
    fields: dict[str, FormField] = {}
    for form in _FORM.findall(text):
        opening = form[: form.find(">")].lower()
        if 'method="post"' in opening:
            continue
        for tag, attrs, rest in _FIELD.findall(form):
            values = {k.lower(): v for k, v in _ATTR.findall(attrs)}
            name = values.get("name", "")
            if not name or name in ("csrfmiddlewaretoken", "page") or name in fields:
                continue
            if tag.lower() == "select":
                options = tuple(html.unescape(v) for v in _OPTION_VALUE.findall(rest or ""))
                fields[name] = FormField(name, "select", options)
            elif tag.lower() == "textarea" or values.get("type", "").lower() in TEXT_TYPES:
                fields[name] = FormField(name, "text")
    return list(fields.values())


# Pages where a username is not a hidden value: the access log lists who tried to read the
# agency's cases, and in this world every user tried (``seed_access_log``).
NO_USER_PROBES = ("access_log", "access_log_export")


def _probes(world: World, username: str, form_field: FormField, page: str) -> list[tuple[str, str]]:
    """(hidden value, control value of the same shape): the hidden one matches only records
    the user may not see; the control matches nothing. Text fields get names, references and
    numbers; selects get what their options are made of (UUIDs, usernames, numbers)."""
    assert world.oracle is not None
    oracle = world.oracle
    forbidden = oracle.forbidden(username)
    hidden_cases = [code for code in CASES if not oracle.may(username, "view", code)]
    # Someone who worked only on cases the user may not see: the investigator of an agency
    # whose own cases are all hidden from the user.
    others = [
        f"{owner.lower()}.investigator"
        for owner in sorted({owner for owner, _code in CASES.values()})
        if owner != world.personas[username].agency
        and all(not oracle.may(username, "view", c) for c, (o, _h) in CASES.items() if o == owner)
    ]
    probes: list[tuple[str, str]] = []
    if form_field.kind == "text":
        for field_name in ("CASETITLE", "PERSNAME"):
            flag = "C" if field_name == "CASETITLE" else "P"
            hidden = next(
                (
                    token(c, flag, field_name)
                    for c in CASES
                    if token(c, flag, field_name) in forbidden
                ),
                None,
            )
            if hidden:
                probes.append((hidden, "LEAKMARKZZZ" + "Q" * (len(hidden) - 11)))
        if hidden_cases:
            case = world.cases[hidden_cases[0]]
            probes.append((case.reference, case.reference[:-5] + "99999"))
            phone = world.entities[(hidden_cases[0], "U", "phone")].identifier
            probes.append((phone, phone[:-4] + "9999"))
        if others and page not in NO_USER_PROBES:
            probes.append((others[0], "z" * len(others[0])))
        return probes
    options = form_field.options
    if hidden_cases and any(_UUID.fullmatch(o) for o in options):
        case = world.cases[hidden_cases[0]]
        probes.append((str(case.uuid), str(uuid.UUID(int=case.uuid.int ^ 0xFFFF))))
        entity = world.entities[(hidden_cases[0], "P", "person")]
        probes.append((str(entity.uuid), str(uuid.UUID(int=entity.uuid.int ^ 0xFFFF))))
    if hidden_cases and any(o.isdigit() for o in options):
        case = world.cases[hidden_cases[0]]
        probes.append((str(case.pk), str(10_000 + case.pk)))
    if others and page not in NO_USER_PROBES and any(o in world.personas for o in options):
        probes.append((others[0], "z" * len(others[0])))
    return probes


def _without(text: str, values: tuple[str, ...]) -> str:
    """The text with the probe value (as typed, escaped or URL-encoded) taken out: a page
    may repeat what the user typed."""
    for value in values:
        for form in {value, html.escape(value), _q(value), value.replace(" ", "+")}:
            text = text.replace(form, "@@PROBE@@")
    return text


def _normalised(text: str, values: tuple[str, ...]) -> str:
    body = text.split("\n\n", 1)[-1]
    body = _CSRF.sub("", body)
    return _without(body, values)


# Pages with a search or filter form probed as each user: those about no case, and the
# case pages of the most shared case.
PROBED_CASES = ("AMB",)


def probe_users(world: World, pattern: Pattern, rule: Rule) -> list[str]:
    """One user of each agency per distinct view of the world: the same actions on every
    case and the same status on the page (a supervisor's access log, say) see the same."""
    assert world.oracle is not None
    oracle = world.oracle
    chosen: dict[tuple[Any, ...], str] = {}
    for username in signed_in_users(world):
        key = (
            world.personas[username].agency,
            tuple(oracle.actions(username, code) for code in CASES),
            rule.get(world, username, Target()) if not pattern.kwargs else None,
        )
        chosen.setdefault(key, username)
    return list(chosen.values())


def test_filters_do_not_tell_whether_hidden_records_match(world: World, db: Any) -> None:
    """On every page with a search or filter form (found in the pages themselves), a value
    that matches only records the user may not see gives the same page as a value that
    matches nothing: same status, no marker, same counts, same everything."""
    report = Report()
    for pattern, targets in _sweep_targets(world):
        rule = RULES.get(pattern.name)
        if rule is None:
            continue
        for username in probe_users(world, pattern, rule):
            target = next(
                (
                    t
                    for t in targets
                    if t.exists
                    and t.case in (None, *PROBED_CASES)
                    and rule.get(world, username, t) == OK
                ),
                None,
            )
            if target is None:
                continue
            url = url_for(pattern, target)
            page, _ = fetch(world, username, "GET", url)
            report.requests += 1
            if page.status != OK or "<form" not in page.text:
                continue
            for form_field in get_form_fields(page.text):
                for hidden, control in _probes(world, username, form_field, pattern.name):
                    name = form_field.name
                    probe, _ = fetch(world, username, "GET", f"{url}?{name}={_q(hidden)}")
                    blank, _ = fetch(world, username, "GET", f"{url}?{name}={_q(control)}")
                    report.requests += 2
                    where = f"GET {pattern.name} [{target.label}] ?{name}={hidden}"
                    probe.text = _without(probe.text, (hidden,))
                    report.check_markers(world, username, where, probe)
                    if probe.status != blank.status:
                        report.add(
                            f"DIFFERS {where} as {username}: status {probe.status} "
                            f"vs {blank.status} for a value matching nothing"
                        )
                    elif _normalised(probe.text, (hidden,)) != _normalised(blank.text, (control,)):
                        report.add(
                            f"DIFFERS {where} as {username}: the page is not the same "
                            f"as for a value matching nothing"
                        )
    report.fail_if_any(f"filter probes ({report.requests} requests)")


def _q(value: str) -> str:
    return quote_plus(value)


# --- hits ------------------------------------------------------------------------------------


def test_hit_notifications_name_only_the_other_agency_and_its_contact_point(
    world: World, db: Any
) -> None:
    """The hits page of every user names the other agency's contact point for exactly the
    hits the oracle says they are told of, and no other; it and the dashboard show nothing of
    the other case (the marker check: no reference, title or value of a case they may not
    see)."""
    if not world.hits:
        pytest.fail("the world has no hits: hit detection did not run (cases.hits)")
    assert world.oracle is not None
    report = Report()
    contacts = {spec.contact_point: spec.key for spec in AGENCIES}
    told_any = 0
    for username in signed_in_users(world):
        expected = set()
        for hit in world.hits:
            if told_of_hit(world, username, hit):
                own_agency = world.personas[username].agency
                codes = (world.case_code(hit.case_id), world.case_code(hit.other_case_id))
                other = next(code for code in codes if CASES[code][0] != own_agency)
                expected.add(CASES[other][0])
        told_any += bool(expected)
        for name in ("cases:hits", "dashboard"):
            fetched, _ = fetch(world, username, "GET", reverse(name))
            report.requests += 1
            report.check_markers(world, username, f"GET {name}", fetched)
            if name != "cases:hits":
                continue
            text = html.unescape(fetched.text)
            # Hit by hit (each row names its hit): the contact points alone do not say which
            # hit told them, and one told wrongly hides behind another told rightly.
            for hit in world.hits:
                told = told_of_hit(world, username, hit)
                listed = str(hit.uuid) in text
                if listed and not told:
                    protected = world.entity_protected.get(
                        hit.entity_id, False
                    ) or world.entity_protected.get(hit.other_id, False)
                    report.add(
                        f"LEAK GET {name} as {username}: hit {_hit_label(world, hit)} "
                        f"({'a protected identity on one side' if protected else 'unprotected'})"
                        f" is listed, and the user may not be told of it"
                    )
                elif told and not listed:
                    report.add(f"MISSING GET {name} as {username}: hit {_hit_label(world, hit)}")
            shown = {key for contact, key in contacts.items() if contact in text}
            for key in sorted(expected - shown):
                report.add(f"MISSING GET {name} as {username}: the contact point of {key}")
            for key in sorted(shown - expected):
                report.add(
                    f"LEAK GET {name} as {username}: the contact point of {key}, for a hit "
                    f"the user may not be told of"
                )
    if not told_any:
        report.add("no user is told of any hit: the world's hits do not test the hit pages")
    report.fail_if_any(f"hit pages ({report.requests} requests)")


def test_hit_notifications_never_carry_the_other_cases_content(world: World, db: Any) -> None:
    """The stored texts: every notification is read by all its agency's members (or those who
    may see protected identities): no marker of a case the agency may not see."""
    report = Report()
    assert world.oracle is not None and world.scanner is not None
    for notification in Notification.objects.select_related("agency"):
        agency = world.agency_key(notification.agency_id)
        readers = [u for u, p in world.personas.items() if p.agency == agency and not p.anonymous]
        found = world.scanner.scan(notification.message)
        for username in readers:
            if notification.protected_only and notification.case_id is not None:
                code = world.case_code(notification.case_id)
                if not world.oracle.may(username, "view_protected", code):
                    continue
            for text in sorted(found & world.oracle.forbidden(username)):
                report.add(
                    f"LEAK notification to {agency} ({notification.kind}) read by "
                    f"{username}: {text!r} ({world.oracle.describe(text)})"
                )
    report.fail_if_any("notification texts")


# --- the admin and the login page ---------------------------------------------------------------


def test_the_admin_is_no_back_door(world: World, db: Any) -> None:
    """A superuser without membership sees no case content anywhere in the admin (every
    registered model's list, and the change and history pages of the world's agencies,
    members and users); members of agencies are sent to the admin's sign-in."""
    report = Report()
    root = "root"
    pages = [reverse("admin:index")]
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        base = f"admin:{opts.app_label}_{opts.model_name}"
        pages.append(reverse(f"{base}_changelist"))
        for obj in model_admin.get_queryset(_admin_request(world))[:40]:
            pages.append(reverse(f"{base}_change", args=[obj.pk]))
            pages.append(reverse(f"{base}_history", args=[obj.pk]))
    for code in ("AMB", "RED"):
        case = world.cases[code]
        pages.append(f"/admin/cases/case/{case.pk}/change/")
        pages.append(f"/admin/cases/case/?q={case.reference}")
    for url in pages:
        fetched, _ = fetch(world, root, "GET", url)
        report.requests += 1
        report.check_markers(world, None, f"GET {url} (admin)", fetched)
        if fetched.status >= 500:
            report.add(f"STATUS GET {url} as root: {fetched.status} {fetched.error}")
    for username in ("papol.supervisor", "papol.investigator", "hnpol.supervisor"):
        for url in pages[:6]:
            fetched, _ = fetch(world, username, "GET", url)
            report.requests += 1
            if fetched.status != FOUND or "/admin/login/" not in fetched.location:
                report.add(f"ADMIN OPEN GET {url} as {username}: {fetched.status}")
            report.check_markers(world, None, f"GET {url} (admin)", fetched)
    report.fail_if_any(f"admin ({report.requests} requests)")


def _admin_request(world: World) -> Any:
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = world.users["root"]
    return request


def test_the_login_page_shows_nothing(world: World, db: Any) -> None:
    report = Report()
    for username in (None, "papol.investigator"):
        fetched, _ = fetch(world, username, "GET", reverse("login"))
        report.check_markers(world, None, "GET login", fetched)
        if fetched.status != OK:
            report.add(f"STATUS GET login as {username}: {fetched.status}")
    report.fail_if_any("login page")


def test_the_public_account_pages_show_nothing(world: World, db: Any) -> None:
    """The pages reached before signing in (a reset request, a reset or enrolment link,
    right or wrong) show no marker to anyone, and a wrong link is answered, not a 500."""
    report = Report()
    victim = world.entities[("AMB", "P", "person")]
    urls = [
        reverse("password_reset"),
        reverse("password_reset_done"),
        reverse("password_reset_complete"),
        reverse("password_reset_confirm", kwargs={"uidb64": "MQ", "token": "set-password"}),
        reverse("password_reset_confirm", kwargs={"uidb64": "zz", "token": "abc-def"}),
        reverse("account_set_password", kwargs={"token": "no-such-link"}),
        reverse("account_set_password", kwargs={"token": "choose"}),
        reverse("account_set_password", kwargs={"token": str(victim.uuid)}),
    ]
    for username in (None, "papol.investigator", "hnpol.analyst"):
        for url in urls:
            for method in ("GET", "POST"):
                fetched, _ = fetch(world, username, method, url, {"email": "x@example.org"})
                report.requests += 1
                where = f"{method} {url} (public)"
                report.check_markers(world, None, where, fetched)
                if fetched.status >= 500:
                    report.add(f"STATUS {where} as {username}: {fetched.status} {fetched.error}")
    report.fail_if_any(f"public account pages ({report.requests} requests)")
