"""The sweep covers everything and talks about the world it built: every URL pattern has
fixtures for its arguments, an access rule, and POST data if it takes POST; the shares and
hits the oracle reads are those in the database."""

from typing import Any

from tests.leaks.access import RULES
from tests.leaks.harness import accepts_post
from tests.leaks.post_data import POST_DATA
from tests.leaks.targets import EXCLUDED_PATTERNS, all_patterns, hit_label, targets_for
from tests.leaks.world import LIVE, World


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
        pairs = {hit_label(world, hit) for hit in world.hits}
        # AMB~CRC is a match on AMB's protected phone: a hit only where policy allows it.
        assert "RED~CRC" in pairs | {"CRC~RED"}, pairs
    assert world.scanner is not None
    # The scanner finds each kind of marker in the forms pages print them.
    sample = "LEAKMARKAMBPPERSNAME 6700-0001 8.125457 July 12, 1923"
    assert {"LEAKMARKAMBPPERSNAME"} <= world.scanner.scan(sample)
