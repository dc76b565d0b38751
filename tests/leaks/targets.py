"""The URLs the leak sweep requests: every pattern of the URLconf (those not swept, with the
reason), and the values each URL argument is requested with (``KWARG_FIXTURES``), taken from
the world (``tests.leaks.world``). A pattern whose arguments have no fixture here makes
``test_coverage.test_every_url_pattern_is_covered`` fail."""

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

from cases.models import Hit
from tests.leaks.world import CASES, KIND_ABBR, World

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
            {"hit": str(hit.uuid)}, label=f"hit-{hit_label(world, hit)}", obj=hit, obj_kind="hit"
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


def hit_label(world: World, hit: Hit) -> str:
    return f"{world.case_code(hit.case_id)}~{world.case_code(hit.other_case_id)}"


def swept_patterns() -> list[Pattern]:
    patterns, _problems = all_patterns()
    return [p for p in patterns if p.name not in EXCLUDED_PATTERNS]


def sweep_targets(world: World) -> list[tuple[Pattern, list[Target]]]:
    out = []
    for pattern in swept_patterns():
        try:
            out.append((pattern, targets_for(world, pattern)))
        except LookupError:
            continue  # reported by test_every_url_pattern_is_covered
    return out
