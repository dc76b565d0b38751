"""Benchmark of Casebook's main pages at scale. A script, not a test: ``make bench``.

Seeds a dedicated database (``casebook_bench``) with the demo and N synthetic cases (50,000
by default, about 500,000 entities), makes sure one case of ``investigator.pa``'s agency has
exactly 200 entities, then requests each page through Django's test client, signed in as
``investigator.pa``, and prints the median and 95th percentile time and the number of SQL
queries per page against the 50 ms target.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/pages.py

The database named in the URL is only used to create ``casebook_bench`` (dropped and seeded
again unless ``--reuse``). See bench/README.md.
"""

import argparse
import os
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from _common import (
    ROOT,
    database_url,
    percentile,
    prepare_postgres,
    print_plans,
    signed_in_client,
    vacuum_analyze,
)

if TYPE_CHECKING:  # Django is set up at run time, after this module is imported
    from cases.models import Case

BENCH_DATABASE = "casebook_bench"
TARGET_MS = 50.0
WARM_UPS = 3
BIG_CASE_TITLE = "Benchmark: network of 200 entities along the corridor"
BIG_CASE_ENTITIES = 200
USERNAME = "investigator.pa"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=50_000, help="synthetic cases to seed")
    parser.add_argument("--seed", type=int, default=1, help="seed of the synthetic cases")
    parser.add_argument("--repeat", type=int, default=30, help="measured requests per page")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", ""),
        help="PostgreSQL server to use (default: $DATABASE_URL); the bench database "
        f"{BENCH_DATABASE!r} is created on it",
    )
    parser.add_argument(
        "--allow-sqlite", action="store_true", help="run on SQLite (var/bench.sqlite3)"
    )
    parser.add_argument(
        "--reuse", action="store_true", help="keep an already seeded bench database"
    )
    parser.add_argument(
        "--explain",
        action="store_true",
        help="print EXPLAIN ANALYZE of the slowest queries of each page",
    )
    return parser.parse_args(argv)


def configure(args: argparse.Namespace) -> str:
    """Point Django at the bench database; returns a description of it."""
    url = args.database_url
    if not url or url.startswith("sqlite"):
        if not args.allow_sqlite:
            sys.exit(
                "bench/pages.py measures PostgreSQL: set DATABASE_URL=postgres://... or pass "
                "--database-url (or --allow-sqlite for a rough local run)."
            )
        path = ROOT / "var" / "bench.sqlite3"
        if not args.reuse:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        bench_url = f"sqlite:///{path}"
    elif url.startswith(("postgres://", "postgresql://")):
        prepare_postgres(url, BENCH_DATABASE, reuse=args.reuse)
        bench_url = database_url(url, BENCH_DATABASE)
    else:
        sys.exit(f"unsupported database URL: {url.split(':', 1)[0]}")
    # Before django.setup(): settings read these once.
    os.environ["DATABASE_URL"] = bench_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "casebook.settings"
    os.environ.setdefault("CASEBOOK_DEBUG", "0")
    # The test client speaks plain HTTP: production's HTTPS redirect would answer every page.
    os.environ.setdefault("CASEBOOK_SSL_REDIRECT", "0")
    sys.path.insert(0, str(ROOT))
    return bench_url.rsplit("@", 1)[-1]


def seed(args: argparse.Namespace) -> float | None:
    """Migrate and seed unless ``--reuse`` finds the data there; returns the seeding time."""
    from django.core.management import call_command

    from cases.models import Case

    call_command("migrate", verbosity=0)
    if args.reuse and Case.objects.filter(summary__startswith="Synthetic").count() >= args.cases:
        print(f"Reusing the seeded bench database ({Case.objects.count():,} cases).")
        vacuum_analyze()
        return None
    started = time.monotonic()
    call_command("seed_demo", cases=args.cases, seed=args.seed, no_demo_password=True)
    seconds = time.monotonic() - started
    vacuum_analyze()
    return seconds


def big_case() -> "Case":
    """The case of investigator.pa's agency with exactly BIG_CASE_ENTITIES entities (created
    through the services, filled with bulk writes like the synthetic cases)."""
    import datetime
    import random

    from django.contrib.auth import get_user_model
    from django.db import transaction

    from casebook import demo
    from cases import services
    from cases.models import Case, Entity

    user = get_user_model().objects.select_related("member__agency").get(username=USERNAME)
    agency = user.member.agency
    case = Case.objects.filter(owner_agency=agency, title=BIG_CASE_TITLE).first()
    if case is None:
        with transaction.atomic():
            opened_on = datetime.date(2025, 6, 2)
            case = services.case_create(
                actor=user,
                agency=agency,
                title=BIG_CASE_TITLE,
                kind=Case.Kind.BOTH,
                status=Case.Status.INVESTIGATION,
                handling_code=Case.HandlingCode.AMBER,
                summary="A large network case for the page benchmark.",
                lead_officer=user,
                opened_on=opened_on,
            )
            rng = random.Random(BIG_CASE_ENTITIES)
            plan = demo.plan_content(
                rng,
                kind=Case.Kind.BOTH,
                country=agency.country_id,
                route=demo.CORRIDOR[:8],
                opened_on=opened_on,
                suspects=60,
                victims=40,
                notes=12,
            )
            people = [i for i, item in enumerate(plan.entities) if item.kind == Entity.Kind.PERSON]
            while len(plan.entities) < BIG_CASE_ENTITIES:
                holder = rng.choice(people)
                country = plan.entities[holder].values.get("nationality") or "PA"
                number = demo.phone_number(rng, country)
                values = {"role": Entity.Role.OTHER, "identifier": number}
                plan.add(demo.EntityPlan(Entity.Kind.PHONE, values, holder=holder))
            demo.bulk_write_content([(case, user, plan)])
    count = case.entities.count()
    if count != BIG_CASE_ENTITIES:
        sys.exit(f"{case.reference} has {count} entities, not {BIG_CASE_ENTITIES}")
    return case


@dataclass
class Result:
    page: str
    median: float
    p95: float
    queries: int
    sql_ms: float  # time in the database, of the request that counted the queries
    status: int

    @property
    def ratio(self) -> float:
        return self.median / TARGET_MS


def measure(pages: Sequence[tuple[str, str]], repeat: int, explain: bool) -> list[Result]:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = signed_in_client(get_user_model().objects.get(username=USERNAME))
    results = []
    for page, url in pages:
        for _ in range(WARM_UPS):
            response = client.get(url)
        if response.status_code != 200:
            print(f"  warning: {page} answered {response.status_code}")
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        # Counted on one more request, so that recording the SQL does not slow the timed ones.
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        result = Result(
            page,
            statistics.median(times),
            percentile(times, 0.95),
            len(captured),
            sum(float(query["time"]) for query in captured.captured_queries) * 1000,
            response.status_code,
        )
        results.append(result)
        print(
            f"{page}: median {result.median:.1f} ms, p95 {result.p95:.1f} ms, "
            f"{result.queries} queries ({result.sql_ms:.0f} ms in SQL), "
            f"{result.ratio:.2f} x the {TARGET_MS:.0f} ms target"
        )
        if explain:
            print_plans(captured.captured_queries)
    return results


def print_table(results: Sequence[Result]) -> None:
    print()
    header = f"{'page':<32} {'median ms':>10} {'p95 ms':>8} {'queries':>8} {'sql ms':>7}"
    print(f"{header} {'x target':>9}")
    for r in results:
        flag = "" if r.median <= TARGET_MS else "  over target"
        print(
            f"{r.page:<32} {r.median:>10.1f} {r.p95:>8.1f} {r.queries:>8} {r.sql_ms:>7.0f} "
            f"{r.ratio:>9.2f}{flag}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    where = configure(args)
    import django

    django.setup()
    from django.urls import reverse

    from cases.models import Case, Entity

    print(f"Bench database: {where}")
    seconds = seed(args)
    if seconds is not None:
        print(f"Seeded the demo and {args.cases:,} synthetic cases in {seconds:.0f} s.")
    case = big_case()
    print(
        f"{Case.objects.count():,} cases, {Entity.objects.count():,} entities; "
        f"detail page of {case.reference} ({BIG_CASE_ENTITIES} entities)."
    )
    pages = [
        ("case list", reverse("cases:list")),
        ("case list, page 50", f"{reverse('cases:list')}?page=50"),
        (f"case detail ({BIG_CASE_ENTITIES} entities)", case.get_absolute_url()),
        ("dashboard", reverse("dashboard")),
    ]
    results = measure(pages, args.repeat, args.explain)
    print_table(results)
    return 0 if all(r.status == 200 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
