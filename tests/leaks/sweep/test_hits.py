"""What hits tell: the hits page names the other agency and its contact point for exactly the
hits the oracle says a user is told of, and no hit page, dashboard or stored notification
carries anything of a case the reader may not see."""

import html
from typing import Any

import pytest
from django.urls import reverse

from casebook.models import Notification
from tests.leaks.access import told_of_hit
from tests.leaks.harness import Report, fetch, signed_in_users
from tests.leaks.targets import hit_label
from tests.leaks.world import AGENCIES, CASES, World


def test_hit_notifications_name_only_the_other_agency_and_its_contact_point(
    world: World, db: Any
) -> None:
    """The hits page of every user names the other agency's contact point for exactly the
    hits the oracle says they are told of, and no other; it and the dashboard show nothing of
    the other case (the marker check: no reference, title or value of a case they may not
    see)."""
    if not world.hits:
        pytest.fail("the world has no hits: hit detection did not run (cases.services.hits)")
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
                        f"LEAK GET {name} as {username}: hit {hit_label(world, hit)} "
                        f"({'a protected identity on one side' if protected else 'unprotected'})"
                        f" is listed, and the user may not be told of it"
                    )
                elif told and not listed:
                    report.add(f"MISSING GET {name} as {username}: hit {hit_label(world, hit)}")
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
