"""Every page as every user (the GET sweep): the status the oracle expects, no marker of
anything the user may not see, the per-page rules (``tests.leaks.rules``), and every marker
shown to someone allowed to see it; and anonymous and deactivated users are sent to sign in
everywhere."""

import time
from typing import Any

from django.urls import reverse

from tests.leaks.access import FOUND, OK, RULES
from tests.leaks.harness import Report, fetch, primary_targets, url_for, users_for
from tests.leaks.rules import page_problems
from tests.leaks.targets import ENTITY_TARGETS, Pattern, Target, sweep_targets
from tests.leaks.world import CASES, REMOVED, World, token

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


def test_every_url_as_every_user_shows_only_what_they_may_see(world: World, db: Any) -> None:
    """GET every URL as every signed-in user: the status the oracle expects, and no marker of
    anything they may not see. Every marker must also be seen by someone allowed to see it,
    or its absence elsewhere would prove nothing."""
    report = Report()
    seen: set[str] = set()
    started = time.monotonic()
    for pattern, targets in sweep_targets(world):
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
    for pattern, targets in sweep_targets(world):
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
