"""The permutation oracle (issue 7 §1): nothing a masked viewer receives depends on the values
they may not see.

The world (``tests.leaks.world``) is built twice, each time from scratch inside a transaction
that is rolled back, with the same clock and the same UUIDs: once as declared, once with every
protected value permuted (names, aliases, numbers, birth dates, coordinates, protected notes
and evidence files replaced by values that sort the other way and are one character longer;
nationality, a document's type and issuing country changed). Every page, export and form
(GET) of the sweep is then requested, and what the cross-case readers every channel uses
return is read, in both worlds, by one member of each permission class who sees some case's
protected identities masked: the cases they see unmasked are left out
(their pages legitimately show, and may sort by, the values that changed). Each marker is
replaced by a placeholder (the same in both worlds), CSRF tokens and nonces are taken out,
and the two renderings must be byte-identical: any difference is something that depends on a
protected value, such as the order of a list, a drop-down or an export array, a count, a
page boundary, a file size or hash, a nationality or a document type.

Failures list the page, the persona and a short diff. The marker check itself (whether a
protected value is shown at all) is the job of ``sweep/test_pages.py``.
"""

import datetime
import difflib
import itertools
import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import pytest
import time_machine
from django.apps import apps
from django.db import models, transaction
from django.test import TestCase, override_settings
from factory import Factory
from factory.random import reseed_random

from cases import selectors
from cases.models import CommonKey, Entity, Hit
from tests import factories
from tests.conftest import analyze_tables, restart_sequences
from tests.leaks.access import OK, RULES
from tests.leaks.harness import FULL, LeanClient, fetch, url_for
from tests.leaks.targets import Target, sweep_targets
from tests.leaks.world import (
    _PHONE_RE,
    CASES,
    TIME_SHIFT,
    World,
    build_world,
)

# Both worlds are built at this instant and requested TIME_SHIFT later.
BUILT_AT = datetime.datetime(2026, 11, 2, 14, 0, tzinfo=datetime.UTC)

_NOISE = (
    re.compile(r"csrfmiddlewaretoken\" value=\"[^\"]*\""),
    re.compile(r"csrftoken=[^;\s]*"),
    re.compile(r"sessionid=[^;\s]*"),
    re.compile(r"\bnonce=\"[^\"]*\""),
    re.compile(r"^Content-Length: \d+$", re.M),
)


# Pages left out of the comparison, with the reason (they show no case data at all).
NOT_COMPARED = {
    "signin:two_factor_setup": "shows a new random authenticator key (and its QR code) each time",
}


@contextmanager
def deterministic_uuids() -> Iterator[None]:
    """Every UUID the application makes (model defaults and ``uuid.uuid4()`` calls) comes
    from a counter, so that the same world built twice has the same ids and URLs."""
    original = uuid.uuid4
    counter = itertools.count(1)

    def next_uuid() -> uuid.UUID:
        return uuid.UUID(int=(0x5EED << 100) | next(counter), version=4)

    fields = [
        model_field
        for model in apps.get_models(include_auto_created=True)
        for model_field in model._meta.concrete_fields
        if isinstance(model_field, models.UUIDField) and model_field.default is original
    ]
    for model_field in fields:
        model_field.default = next_uuid
        model_field.__dict__.pop("_get_default", None)
    try:
        with mock.patch("uuid.uuid4", next_uuid):
            yield
    finally:
        for model_field in fields:
            model_field.default = original
            model_field.__dict__.pop("_get_default", None)


def masked_cases(world: World, username: str) -> set[str]:
    """The cases the user sees with their protected identities masked."""
    assert world.oracle is not None
    return {
        code
        for code in CASES
        if world.oracle.may(username, "view", code)
        and not world.oracle.may(username, "view_protected", code)
    }


# Outside FULL mode: one viewer of each way of seeing a case masked (an owner's analyst, a
# view-level and a contribute-level recipient with and without protected identities
# elsewhere, manage-level recipients of RED and AMBER+STRICT, a RED viewer).
DEFAULT_VIEWERS = (
    "papol.analyst",
    "crpol.investigator",
    "papros.investigator",
    "copol.supervisor",
    "gtpol.analyst",
)


def viewers(world: World) -> list[str]:
    """One member of each permission class (agency, actions on every case) among those who
    see some case masked (FULL mode), else ``DEFAULT_VIEWERS``."""
    assert world.oracle is not None
    if not FULL:
        return [name for name in DEFAULT_VIEWERS if masked_cases(world, name)]
    chosen: dict[tuple[Any, ...], str] = {}
    for username, persona in world.personas.items():
        if persona.anonymous or not masked_cases(world, username):
            continue
        key = (persona.agency, tuple(world.oracle.actions(username, code) for code in CASES))
        chosen.setdefault(key, username)
    return sorted(chosen.values())


def wanted(world: World, username: str, target: Target) -> bool:
    """The pages about no case, and every object of the cases the user sees masked (in FULL
    mode also those of the cases they may not see, and objects that do not exist)."""
    if target.case is None:
        return True
    assert world.oracle is not None
    if FULL:
        return not world.oracle.may(username, "view_protected", target.case)
    return target.exists and target.case in masked_cases(world, username)


def normalise(world: World, text: str) -> str:
    """The text with every marker replaced by its label and the per-request noise removed."""
    for pattern in _NOISE:
        text = pattern.sub("@NOISE@", text)
    tokens = sorted(
        ((value, label) for value, kind, label, _v in world.canaries if kind == "token"),
        key=lambda pair: -len(pair[0]),
    )
    for value, label in tokens:
        text = re.sub(re.escape(value), f"@{label}@", text, flags=re.I)
    phones = {value: label for value, kind, label, _v in world.canaries if kind == "phone"}

    def phone(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group(0))
        for value, label in phones.items():
            if value in digits:
                return f"@PHONE{label}@"
        return match.group(0)

    text = _PHONE_RE.sub(phone, text)
    for value, kind, label, variants in world.canaries:
        if kind == "literal":
            for variant in sorted(variants or (value,), key=len, reverse=True):
                text = text.replace(variant, f"@{label}@")
    return text


def _entity_row(entity: Entity) -> str:
    holder = entity.holder.uuid if entity.holder is not None else None
    return " | ".join(
        str(value)
        for value in (
            entity.uuid, entity.case.reference, entity.kind, entity.role, entity.label,
            entity.name, entity.aliases, entity.identifier, entity.birth_date,
            entity.nationality, entity.subtype, entity.identifier_country,
            entity.latitude, entity.longitude, entity.description, holder,
        )
    )  # fmt: skip


def read_across_cases(world: World, username: str) -> dict[str, str]:
    """What the cross-case readers every channel uses (search, graphs, an API) give the user
    about the cases they see masked, as text, reader by reader: the rows, in their order,
    with every value a channel could show or derive from."""
    user = world.users[username]
    masked = [world.cases[code].pk for code in sorted(masked_cases(world, username))]
    entities = selectors.visible_entities(user, case_ids=masked)
    relationships = selectors.visible_relationships(user, case_ids=masked)
    movements = selectors.visible_movements(user, case_ids=masked)
    matches = selectors.visible_matches(user, case_ids=masked)
    by_pk = {entity.pk: entity.uuid for entity in entities}
    return {
        "visible_entities": "\n".join(_entity_row(entity) for entity in entities),
        "visible_relationships": "\n".join(
            f"{r.uuid} | {r.kind} | {_entity_row(r.source)} -> {_entity_row(r.target)} | "
            f"{r.started_on} | {r.ended_on} | {r.evidence_note}"
            for r in relationships
        ),
        "visible_movements": "\n".join(
            f"{m.uuid} | {_entity_row(m.origin)} -> {_entity_row(m.destination)} | "
            f"{m.moved_on} | {m.means} | {m.people_count} | {m.description} | "
            + "; ".join(_entity_row(f) for f in m.facilitators.all())
            for m in movements
        ),
        "visible_matches": "\n".join(
            f"{by_pk.get(edge.first_entity_id)} ~ {by_pk.get(edge.second_entity_id)} "
            f"| {edge.key_kind}"
            for edge in matches
        ),
    }


def render(permuted: bool, media: str) -> dict[tuple[str, str], str]:
    """Build a world and request every page the oracle compares; returns the normalised
    texts by (page, username). Everything is rolled back."""
    rendered: dict[tuple[str, str], str] = {}
    overrides = override_settings(
        MEDIA_ROOT=media,
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        CASEBOOK_HIT_KEY_LIMIT=3,
        # Users sign in with force_login, which has no second step (the two-factor pages
        # themselves are swept; the second step is tested in tests/casebook).
        CASEBOOK_REQUIRE_2FA=False,
    )
    with overrides, deterministic_uuids(), time_machine.travel(BUILT_AT, tick=False):
        restart_sequences()
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            # The same fake names (factories) in both worlds.
            reseed_random(20261102)
            for factory_class in vars(factories).values():
                if isinstance(factory_class, type) and issubclass(factory_class, Factory):
                    factory_class.reset_sequence(force=True)
            with TestCase.captureOnCommitCallbacks(execute=True):
                world = build_world(permuted=permuted)
            analyze_tables()
            with time_machine.travel(BUILT_AT + TIME_SHIFT, tick=False):
                users = viewers(world)
                for username in users:
                    client = LeanClient()
                    client.force_login(world.users[username])
                    world.clients[username] = client
                world.hits = list(Hit.objects.order_by("pk"))
                world.common_keys = list(CommonKey.objects.order_by("pk"))
                for username in users:
                    for reader, text in read_across_cases(world, username).items():
                        rendered[(f"READER {reader}", username)] = normalise(world, text)
                for pattern, targets in sweep_targets(world):
                    rule = RULES.get(pattern.name)
                    if rule is None or pattern.name in NOT_COMPARED:
                        continue
                    for target in targets:
                        url = url_for(pattern, target)
                        for username in users:
                            if not wanted(world, username, target):
                                continue
                            fetched, _ = fetch(world, username, "GET", url)
                            page = f"GET {pattern.name} [{target.label}] {url}"
                            text = f"status {fetched.status} {fetched.error}\n{fetched.text}"
                            rendered[(page, username)] = normalise(world, text)
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
    return rendered


@pytest.fixture(scope="module")
def renderings(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: Any
) -> tuple[dict[tuple[str, str], str], dict[tuple[str, str], str]]:
    quiet = [logging.getLogger(name) for name in ("django.request", "django.security")]
    levels = [logger.level for logger in quiet]
    for logger in quiet:
        logger.setLevel(logging.CRITICAL)
    try:
        with django_db_blocker.unblock():
            declared = render(False, str(tmp_path_factory.mktemp("perm-a")))
            permuted = render(True, str(tmp_path_factory.mktemp("perm-b")))
    finally:
        for logger, level in zip(quiet, levels, strict=True):
            logger.setLevel(level)
    return declared, permuted


def short_diff(first: str, second: str, lines: int = 14) -> str:
    diff = difflib.unified_diff(
        first.splitlines(), second.splitlines(), "declared", "permuted", n=1, lineterm=""
    )
    shown = [line[:160] for line in itertools.islice(diff, 2, 2 + lines)]
    return "\n      ".join(shown)


def test_masked_pages_are_identical_whatever_the_protected_values(
    renderings: tuple[dict[tuple[str, str], str], dict[tuple[str, str], str]], db: Any
) -> None:
    """Every page, export and form seen masked is byte-identical in the declared and the
    permuted world once the markers are replaced by their labels."""
    declared, permuted = renderings
    problems = []
    assert declared.keys() == permuted.keys(), "the two worlds do not have the same pages"
    statuses = {text.split("\n", 1)[0] for text in declared.values()}
    assert any(status.startswith(f"status {OK}") for status in statuses)
    for key in sorted(declared):
        if declared[key] != permuted[key]:
            page, username = key
            problems.append(
                f"DEPENDS ON PROTECTED VALUES {page} as {username}:\n      "
                + short_diff(declared[key], permuted[key])
            )
    print(f"\npermutation oracle: {len(declared)} pages compared, {len(problems)} differ")
    if problems:
        shown = "\n".join(problems[:120])
        more = f"\n... and {len(problems) - 120} more" if len(problems) > 120 else ""
        pytest.fail(
            f"permutation oracle: {len(problems)} of {len(declared)} pages depend on "
            f"protected values\n{shown}{more}",
            pytrace=False,
        )


def test_the_permuted_world_really_differs(db: Any) -> None:
    """The oracle is not vacuous: the permuted values differ from the declared ones and sort
    the other way round against the unprotected values of the same case."""
    from tests.leaks.world import permute_token, phone_number, token

    protected, unprotected = token("AMB", "P", "PERSNAME"), token("AMB", "U", "PERSNAME")
    assert protected < unprotected < permute_token(protected)
    assert protected.lower() < unprotected.lower() < permute_token(protected).lower()
    assert (
        phone_number("AMB", "P")
        < phone_number("AMB", "U")
        < phone_number("AMB", "P", permuted=True)
    )
