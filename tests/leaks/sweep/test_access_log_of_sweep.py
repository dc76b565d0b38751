"""The access log of the sweep's own reads (issue 14): every read is logged with the right
user, agency, action and object, a refusal as a refusal; and the log pages show a supervisor
only the rows of their agency's cases and of their own members, and no case they may not see.

The expectations come from the world's declaration and the oracle (``tests.leaks.world``), not
from the code under test. The world is the sweep's (the ``world`` fixture of
``tests/leaks/sweep/conftest.py``).
"""

import csv
import io
from typing import Any

from django.urls import reverse

from casebook.models import AccessLog
from tests.leaks.access import FORBIDDEN, NOT_FOUND, OK, RULES
from tests.leaks.harness import Report, expected_set, rolled_back, signed_in_users
from tests.leaks.targets import Target
from tests.leaks.world import CASES, World

ACTIONS_OF_A_READ = {AccessLog.Action.VIEW, AccessLog.Action.DOWNLOAD, AccessLog.Action.EXPORT}


def _reads(world: World) -> list[tuple[str, dict[str, Any], Target, Any]]:
    """(pattern, url, target, object uuid) of the reads each user makes."""
    amb, crc = world.cases["AMB"], world.cases["CRC"]
    victim = world.entities[("AMB", "P", "person")]
    evidence = world.evidence[("AMB", "P")]
    return [
        ("cases:detail", {"case": amb.uuid}, Target(case="AMB"), amb.uuid),
        ("cases:detail", {"case": crc.uuid}, Target(case="CRC"), crc.uuid),
        (
            "cases:entity",
            {"case": amb.uuid, "entity": victim.uuid},
            Target(case="AMB", obj=victim, obj_kind="entity"),
            victim.uuid,
        ),
        (
            "cases:evidence_download",
            {"case": amb.uuid, "evidence": evidence.uuid},
            Target(case="AMB", obj=evidence, obj_kind="evidence"),
            evidence.uuid,
        ),
        ("cases:export", {"case": amb.uuid}, Target(case="AMB"), amb.uuid),
    ]


def _get(world: World, username: str, url: str) -> int:
    response = world.clients[username].get(url)
    if getattr(response, "streaming", False):
        b"".join(response.streaming_content)
    return int(response.status_code)


def test_every_read_of_the_sweep_is_logged_with_its_reader_and_object(
    world: World,
    db: Any,
) -> None:
    """As every signed-in user: the case pages of AMB and CRC, AMB's victim, its protected
    evidence file and its export. Each request leaves rows of that user and agency only, on
    that path; a read the oracle allows leaves a read of that object of that case and no
    refusal; a refused one leaves exactly one refusal and no read."""
    report = Report()
    with rolled_back():
        for username in signed_in_users(world):
            user = world.users[username]
            member = getattr(user, "member", None)
            for name, kwargs, target, object_uuid in _reads(world):
                url = reverse(name, kwargs={k: str(v) for k, v in kwargs.items()})
                last = AccessLog.objects.order_by("-id").values_list("id", flat=True).first()
                status = _get(world, username, url)
                report.requests += 1
                rows = list(AccessLog.objects.filter(id__gt=last or 0).order_by("id"))
                where = f"GET {name} [{target.case}] as {username} ({status})"
                expect = expected_set(RULES[name].get(world, username, target))
                if status not in expect:
                    report.add(f"STATUS {where}: expected {sorted(expect)}")
                    continue
                if not rows:
                    report.add(f"NOT LOGGED {where}: no access-log row")
                    continue
                for row in rows:
                    if row.user_id != user.pk or row.username != username:
                        report.add(f"WRONG USER {where}: row {row.pk} of {row.username!r}")
                    if member is not None and row.agency_id != member.agency_id:
                        report.add(f"WRONG AGENCY {where}: row {row.pk} agency {row.agency_id}")
                    if row.path != url:
                        report.add(f"WRONG PATH {where}: row {row.pk} path {row.path!r}")
                refusals = [r for r in rows if r.action == AccessLog.Action.REFUSED]
                reads = [r for r in rows if r.action in ACTIONS_OF_A_READ]
                case = world.cases[target.case or "AMB"]
                if status == OK:
                    if refusals:
                        report.add(f"REFUSAL LOGGED {where}: for a read that was served")
                    if not any(
                        r.case_id == case.pk
                        and r.case_reference == case.reference
                        and str(r.object_uuid) == str(object_uuid)
                        for r in reads
                    ):
                        report.add(
                            f"READ NOT LOGGED {where}: no read row of {object_uuid} in "
                            f"{case.reference}: {[(r.action, r.object_type) for r in rows]}"
                        )
                    if name == "cases:export" and not any(
                        r.action == AccessLog.Action.EXPORT for r in rows
                    ):
                        report.add(f"EXPORT NOT LOGGED {where}")
                    if name == "cases:evidence_download" and not any(
                        r.action == AccessLog.Action.DOWNLOAD for r in rows
                    ):
                        report.add(f"DOWNLOAD NOT LOGGED {where}")
                elif status in (FORBIDDEN, NOT_FOUND) and (len(refusals) != 1 or reads):
                    report.add(
                        f"REFUSAL {where}: expected one refusal and no read, got "
                        f"{[(r.action, r.object_type) for r in rows]}"
                    )
    report.fail_if_any(f"access log of the sweep ({report.requests} requests)")


def _export_rows(world: World, username: str) -> list[dict[str, str]]:
    response = world.clients[username].get(reverse("access_log_export"))
    assert response.status_code == OK, (username, response.status_code)
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_the_access_log_shows_a_supervisor_only_their_cases_and_their_members(
    world: World,
    db: Any,
) -> None:
    """Every supervisor's log (the CSV export: every row, and the first page): each row is
    by a member of their agency or about a case their agency owns; it names a case only if
    they may see it; and every row of the database that is theirs to read is there."""
    assert world.oracle is not None
    report = Report()
    user_agency = {u: p.agency for u, p in world.personas.items()}
    for username, persona in world.personas.items():
        if persona.anonymous or "supervisor" not in persona.roles:
            continue
        agency = persona.agency
        assert agency is not None
        own_refs = {
            world.cases[code].reference: code for code, (owner, _h) in CASES.items()
            if owner == agency
        }  # fmt: skip
        visible_refs = {
            world.cases[code].reference
            for code in CASES
            if world.oracle.may(username, "view", code)
        }
        with rolled_back():
            rows = _export_rows(world, username)
            expected = AccessLog.objects.filter(
                agency=world.agencies[agency]
            ) | AccessLog.objects.filter(case__in=[world.cases[c] for c in own_refs.values()])
            expected_count = expected.count()
            page = world.clients[username].get(reverse("access_log")).content.decode()
        report.requests += 2
        where = f"access log of {username}"
        for row in rows:
            by_member = user_agency.get(row["user"]) == agency
            about_own = row["case"] in own_refs
            if not by_member and not about_own:
                report.add(
                    f"LEAK {where}: a row by {row['user']} ({row['action']} {row['path']}) "
                    f"that is neither by their member nor about their case"
                )
            if row["case"] and row["case"] not in visible_refs:
                report.add(f"LEAK {where}: names case {row['case']}, which they may not see")
        # The export writes its own row as it starts: it may or may not be in the file.
        if len(rows) not in (expected_count, expected_count + 1):
            report.add(
                f"INCOMPLETE {where}: {len(rows)} rows, the database holds {expected_count} "
                f"of theirs"
            )
        for other, other_agency in user_agency.items():
            if other_agency in (agency, None) or f">{other}<" not in page:
                continue
            if not any(r["user"] == other and r["case"] in own_refs for r in rows):
                report.add(f"LEAK {where} (page): names {other}, who never read their cases")
    report.fail_if_any(f"access log pages ({report.requests} requests)")
