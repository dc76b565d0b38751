"""Per-page oracle rules (issue 14): what one page may name, for one persona.

The per-user marker check (``harness.Report.check_markers``) asks whether a user may see
a value anywhere. That misses a page that links a masked entity to a value the user may see
elsewhere: a masked victim's number shown on the victim's page is "visible" to a user who holds
the same number in a case of their own. These rules are worked out from the world's
declaration alone (markers, entities as built, the oracle's grants), never from the code
under test:

- A page about a case the user sees masked names no protected value of that case, even one
  the user may see elsewhere (the same number in another case).
- A masked entity's page names nothing of any other case (no cross-case link, no match, no
  other agency's contact point): its links to other cases would identify it.
- An entity's page names another case only if an entity of that case holds one of its values
  and the user may see that entity unmasked (a link to a masked match tells its value).
"""

import html
from typing import Any

from cases.models import Entity
from tests.leaks.world import AGENCIES, World, phone_digits

Problem = str


def protected_texts(world: World, code: str) -> frozenset[str]:
    """The texts of the case's protected markers (whatever other case holds them too)."""
    return frozenset(m.text for m in world.markers if m.case == code and m.protected)


def entity_values(entity: Entity) -> set[str]:
    """The values of an entity that make cross-case matches, as the world declared them."""
    values = set()
    if entity.kind == Entity.Kind.PHONE and entity.identifier:
        values.add(phone_digits(entity.identifier))
    elif entity.identifier:
        values.add(entity.identifier.lower())
    if entity.name:
        values.add(entity.name.lower())
    return values


def expected_links(world: World, username: str, entity: Entity) -> set[str]:
    """The other cases an entity's page may name for this user: those where an entity holds
    one of its values and the user sees that entity unmasked (and the entity itself)."""
    oracle = world.oracle
    assert oracle is not None
    code = world.case_code(entity.case_id)
    if world.entity_protected.get(entity.pk) and not oracle.may(username, "view_protected", code):
        return set()
    mine = entity_values(entity)
    linked = set()
    for (other_code, _flag, _kind), other in world.entities.items():
        if other_code == code or not mine & entity_values(other):
            continue
        if not oracle.may(username, "view", other_code):
            continue
        if world.entity_protected.get(other.pk) and not oracle.may(
            username, "view_protected", other_code
        ):
            continue
        linked.add(other_code)
    return linked


def _reference_of(world: World, code: str) -> str:
    return world.cases[code].reference


def page_problems(
    world: World, pattern_name: str, username: str, target: Any, text: str, found: set[str]
) -> list[Problem]:
    """The rules this page breaks (``found``: the markers in it)."""
    oracle = world.oracle
    assert oracle is not None
    code = target.case
    if code is None or not target.exists or not oracle.may(username, "view", code):
        return []
    problems: list[Problem] = []
    masked = not oracle.may(username, "view_protected", code)
    if masked:
        for value in sorted(found & protected_texts(world, code)):
            problems.append(
                f"a protected value of {code} seen masked, though visible elsewhere: {value!r}"
            )
    if pattern_name == "cases:entity" and target.obj_kind == "entity":
        entity = target.obj
        allowed = expected_links(world, username, entity) | {code}
        for other in sorted(set(world.cases) - allowed):
            reference = _reference_of(world, other)
            if reference in text:
                what = (
                    "a masked entity's page"
                    if masked and world.entity_protected.get(entity.pk)
                    else "an entity's page"
                )
                problems.append(
                    f"{what} names case {other} ({reference}): a link to a match the user "
                    f"may not follow unmasked"
                )
        if masked and world.entity_protected.get(entity.pk):
            own = world.personas[username].agency
            plain = html.unescape(text)
            for spec in AGENCIES:
                if spec.key != own and spec.contact_point in plain:
                    problems.append(
                        f"a masked entity's page names {spec.key}'s contact point (a hit)"
                    )
    return problems
