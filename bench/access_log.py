"""What the access log costs a page. A script, not a test:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/access_log.py

Reuses the bench database ``casebook_bench`` seeded by ``bench/pages.py`` (run that first; this
script never drops or re-seeds it). Makes sure the access log already holds ``--log-rows``
entries (1,000,000 by default, bulk-inserted in SQL) so that every INSERT maintains indexes of a
realistic size, then requests the case detail page (200 entities) and the case list as
``investigator.pa``, alternating requests with the log on and off (``casebook.access.record``
replaced by a no-op), and prints the median of each and the median paired difference. The
target is under 2 ms added per request. It also times the supervisors' access-log page on that log,
unfiltered for a busy agency and for a quiet one, and filtered by a rare user, a common user, a
case, the action "refused" and one day (``--log-page-only`` times only those).

The rows this script writes stay in the bench database: the log is append-only (a trigger
refuses DELETE); drop the database to start again.
"""

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pages  # noqa: E402  (bench/pages.py: configure, seed, big_case)
from _common import signed_in_client  # noqa: E402

if TYPE_CHECKING:  # Django is set up at run time, after this module is imported
    from django.contrib.auth.models import User
    from django.test import Client

    from cases.models import Case

TARGET_MS = 2.0
SUPERVISOR = "supervisor.pa"
# A quiet agency (two cases, a handful of entries) and a member of the busy one who has read
# almost nothing: the log pages whose entries are few among millions.
QUIET_SUPERVISOR = "supervisor.quiet"
QUIET_MEMBER = "investigator.quiet"
RARE_USER = "rare.pa"
COMMON_USER = "investigator.pa"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=150, help="on/off request pairs per page")
    parser.add_argument(
        "--log-rows", type=int, default=1_000_000, help="access-log rows to have beforehand"
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", ""),
        help="PostgreSQL server holding casebook_bench (default: $DATABASE_URL)",
    )
    parser.add_argument(
        "--allow-sqlite", action="store_true", help="run on SQLite (var/bench.sqlite3)"
    )
    parser.add_argument(
        "--log-page-only",
        action="store_true",
        help="time only the supervisors' access-log page (not what the log adds to reads)",
    )
    parser.add_argument(
        "--log-page-repeat", type=int, default=30, help="requests per access-log page variant"
    )
    args = parser.parse_args(argv)
    # What bench/pages.py's helpers expect: never drop the seeded database here.
    args.reuse, args.cases, args.seed = True, 50_000, 1
    return args


def fill_log(rows: int) -> int:
    """Insert synthetic entries until the log holds ``rows``; returns how many it holds."""
    from django.db import connection
    from django.db.models import Max, Min

    from casebook.models import AccessLog
    from cases.models import Case

    have = AccessLog.objects.count()
    missing = rows - have
    if missing <= 0 or connection.vendor != "postgresql":
        return have
    started = time.monotonic()
    bounds = Case.objects.aggregate(first=Min("pk"), last=Max("pk"))
    with connection.cursor() as cursor:
        # Spread over 90 days and every case, by a handful of users of several agencies.
        cursor.execute(
            """
            INSERT INTO casebook_accesslog
                (at, user_id, username, agency_id, case_id, case_reference, action,
                 attempted, object_type, object_uuid, path, remote_addr, detail)
            SELECT now() - (i %% 7776000) * interval '1 second', u.id, u.username,
                   m.agency_id, c.id, c.reference, 'view', '', 'case', c.uuid,
                   '/cases/' || c.uuid || '/', '192.0.2.1', 'cases:detail'
            FROM generate_series(1, %s) AS i
            JOIN cases_case c ON c.id = %s + (i::bigint * 7919) %% (%s - %s + 1)
            JOIN casebook_member m ON m.id = 1 + i %% (SELECT count(*) FROM casebook_member)
            JOIN auth_user u ON u.id = m.user_id
            """,
            [missing, bounds["first"], bounds["last"], bounds["first"]],
        )
        cursor.execute("ANALYZE casebook_accesslog")
    print(f"Added {missing:,} entries to the access log in {time.monotonic() - started:.0f} s.")
    return AccessLog.objects.count()


def timed(client: "Client", url: str, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            sys.exit(f"{url} answered {response.status_code}")
    return times


def set_logging(on: bool, original: Callable[..., None]) -> None:
    """Put ``casebook.access.record`` back (on) or replace it by a no-op (off)."""
    from casebook import access

    def no_op(**kwargs: Any) -> None:
        return None

    access.record = original if on else no_op


def compare(client: "Client", url: str, pairs: int) -> tuple[float, float, float]:
    """Medians with the log on and off, and the median of the paired differences.

    Requests alternate on, off, on, off... (the order flipped every pair) so that whatever
    else the machine does slows both alike; each pair's difference is one sample.
    """
    from casebook import access

    original = access.record
    on: list[float] = []
    off: list[float] = []
    timed(client, url, 3)  # warm-up
    try:
        for number in range(pairs):
            for mode in (True, False) if number % 2 == 0 else (False, True):
                set_logging(mode, original)
                (on if mode else off).extend(timed(client, url, 1))
    finally:
        access.record = original
    differences = [a - b for a, b in zip(on, off, strict=True)]
    return statistics.median(on), statistics.median(off), statistics.median(differences)


def record_alone(user: "User", case: "Case", repeat: int) -> float:
    """Median time of one ``record`` call in a request context: the INSERT and its commit,
    what the log adds to any page whatever else the page does."""
    import uuid

    from django.http import HttpRequest, HttpResponse
    from django.test import RequestFactory

    from casebook import access

    times: list[float] = []

    def view(request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        access.record(action="view", object_type="entity", case=case, object_uuid=uuid.uuid4())
        times.append((time.perf_counter() - started) * 1000)
        return HttpResponse()

    middleware = access.AccessLogMiddleware(view)
    for _ in range(repeat):
        request = RequestFactory().get(case.get_absolute_url(), REMOTE_ADDR="192.0.2.1")
        request.user = user
        middleware(request)
    return statistics.median(times[3:])


def ensure_sparse_readers() -> None:
    """A quiet agency (its supervisor, a member, two cases, seven entries about its cases or
    by its member) and a member of SENAFRONT with three entries, created once."""
    import datetime

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from casebook.demo.agencies import AgencySpec, ensure_agency, ensure_member
    from casebook.models import AccessLog, Agency
    from cases import services
    from cases.models import Case

    agency, _created = ensure_agency(
        AgencySpec(
            "bench_quiet",
            "PA",
            "Benchmark: quiet labour inspectorate",
            "QUIET",
            Agency.Kind.LABOUR,
            "desk@quiet.example",
        )
    )
    ensure_member(
        username=QUIET_SUPERVISOR,
        agency=agency,
        roles=("supervisor",),
        names=("Quiet", "Supervisor"),
        password="",
    )
    member, _created = ensure_member(
        username=QUIET_MEMBER,
        agency=agency,
        roles=("investigator",),
        names=("Quiet", "Investigator"),
        password="",
    )
    users = get_user_model().objects
    busy = users.select_related("member").get(username=COMMON_USER)
    rare, _created = ensure_member(
        username=RARE_USER,
        agency=busy.member.agency,
        roles=("investigator",),
        names=("Rare", "Reader"),
        password="",
    )
    cases = list(Case.objects.filter(owner_agency=agency).order_by("pk"))
    while len(cases) < 2:
        cases.append(
            services.case_create(
                actor=member,
                agency=agency,
                title=f"Benchmark: quiet case {len(cases) + 1}",
                kind=Case.Kind.TRAFFICKING,
                handling_code=Case.HandlingCode.AMBER,
                opened_on=datetime.date(2026, 1, 5),
            )
        )
    foreign = Case.objects.exclude(owner_agency=agency).order_by("pk").first()
    now = timezone.now()
    if AccessLog.objects.filter(detail="bench:sparse").exists():
        return
    # (days ago, reader, case): reads of the quiet agency's cases, reads by its member, and
    # the rare user's three reads.
    planned = [
        (2, busy, cases[0]),
        (40, busy, cases[1]),
        (85, busy, cases[0]),
        (88, busy, cases[1]),
        (5, member, foreign),
        (60, member, cases[0]),
        (70, member, foreign),
        (3, rare, foreign),
        (30, rare, foreign),
        (80, rare, foreign),
    ]
    for days, reader, case in planned:
        AccessLog.objects.create(
            at=now - datetime.timedelta(days=days),
            user=reader,
            username=reader.username,
            agency_id=reader.member.agency_id,
            case=case,
            case_reference=case.reference if case else "",
            action="view",
            object_type="case",
            object_uuid=case.uuid if case else None,
            path="/bench/",
            detail="bench:sparse",
        )


def log_page_timings(case_reference: str, repeat: int) -> list[tuple[str, float, int, int]]:
    """Median time of the supervisors' access-log page for each kind of reading: the name,
    the median in ms, the number of SQL queries and the entries shown."""
    import datetime

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django.utils import timezone

    from casebook import listparams, selectors
    from casebook.access_views import AccessLogFilterForm, LogPage

    ensure_sparse_readers()
    day = (timezone.now() - datetime.timedelta(days=60)).date().isoformat()
    variants: list[tuple[str, str, dict[str, str]]] = [
        ("no filter, busy agency", SUPERVISOR, {}),
        ("no filter, quiet agency", QUIET_SUPERVISOR, {}),
        ("rare user", SUPERVISOR, {"user": RARE_USER}),
        ("common user", SUPERVISOR, {"user": COMMON_USER}),
        ("case", SUPERVISOR, {"case": case_reference}),
        ("action=refused", SUPERVISOR, {"action": "refused"}),
        ("one day", SUPERVISOR, {"date_from": day, "date_to": day}),
        ("page 20, busy agency", SUPERVISOR, {"page": "20"}),
    ]
    users = get_user_model().objects
    url = reverse("access_log")
    results = []
    for name, username, query in variants:
        client = signed_in_client(users.get(username=username))
        query_url = f"{url}?{'&'.join(f'{key}={value}' for key, value in query.items())}"
        timed(client, query_url, 3)  # warm-up
        times = timed(client, query_url, repeat)
        with CaptureQueriesContext(connection) as captured:
            client.get(query_url)
        # The entries the page showed, read again the way the page reads them.
        user = users.get(username=username)
        filters = AccessLogFilterForm(query).filters()
        page = LogPage.read(
            selectors.access_log_for_supervisor(user, filters=filters),
            listparams.page_number(query),
        )
        results.append((name, statistics.median(times), len(captured), len(page)))
    return results


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    where = pages.configure(args)
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from casebook.models import AccessLog
    from cases.models import Case

    print(f"Bench database: {where}")
    pages.seed(args)
    if Case.objects.count() < 50_000:
        sys.exit("casebook_bench is not seeded: run bench/pages.py first.")
    case = pages.big_case()
    log_rows = fill_log(args.log_rows)
    print(f"{Case.objects.count():,} cases, {log_rows:,} access-log entries.")

    users = get_user_model().objects
    rows: list[tuple[str, float, float, float]] = []
    if not args.log_page_only:
        client = signed_in_client(users.get(username=pages.USERNAME))
        for page, url in [
            (f"case detail ({pages.BIG_CASE_ENTITIES} entities)", case.get_absolute_url()),
            ("case list", reverse("cases:list")),
        ]:
            before = AccessLog.objects.count()
            with CaptureQueriesContext(connection) as captured:
                client.get(url)
            inserts = sum(q["sql"].startswith("INSERT") for q in captured.captured_queries)
            insert_ms = sum(
                float(q["time"]) * 1000
                for q in captured.captured_queries
                if q["sql"].startswith('INSERT INTO "casebook_accesslog"')
            )
            written = AccessLog.objects.count() - before
            on, off, added = compare(client, url, args.pairs)
            rows.append((page, on, off, added))
            print(
                f"{page}: on {on:.2f} ms, off {off:.2f} ms, paired difference {added:+.2f} ms; "
                f"{written} row(s) written per request ({inserts} INSERT, "
                f"{insert_ms:.2f} ms in SQL)"
            )

        member = users.select_related("member").get(username=pages.USERNAME)
        alone = record_alone(member, case, 200)
        print(f"record() alone: median {alone:.2f} ms per row (INSERT and commit)")

    print()
    print(f"The supervisors' access-log page, median of {args.log_page_repeat} requests:")
    print(f"{'page':<28} {'median ms':>10} {'queries':>8} {'entries':>8}")
    for name, median, queries, shown in log_page_timings(case.reference, args.log_page_repeat):
        print(f"{name:<28} {median:>10.1f} {queries:>8} {shown:>8}")

    if rows:
        print()
        print(f"{'page':<28} {'on ms':>8} {'off ms':>8} {'added ms':>9}")
    for page, on, off, added in rows:
        flag = "" if added <= TARGET_MS else f"  over the {TARGET_MS:.0f} ms target"
        print(f"{page:<28} {on:>8.2f} {off:>8.2f} {added:>9.2f}{flag}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
