"""Benchmark of hit detection at scale. A script, not a test: it prints the numbers.

Uses the bench database seeded by ``bench/pages.py`` (``casebook_bench``: the demo and 50,000
synthetic cases, about 540,000 entities and 420,000 match keys). Inside ONE transaction that
is rolled back at the end (the data is left as it was; only pending migrations are applied),
it adds ``--repeat`` phone entities to a case of ``investigator.pa``'s agency through
``services.entity_add``, each with the number of a phone already held by 1 to 3 entities of
other cases, and times ``services.hits_detect`` alone for each new entity (Celery is not eager
and the on-commit queueing never fires: the transaction never commits). Target: under 20 ms
median for one new entity. The notifications of the new hits, which detection queues as a
task of their own on commit, are timed separately.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/hits.py

It also times a second detection of the same entities (nothing to change), and the first
detection of a key held in the cases of more agencies than ``CASEBOOK_HIT_KEY_LIMIT`` (it is
recorded as common), which happens once per such key. ``entity_add`` counts each new phone
against the member's hourly detection budget (``CASEBOOK_HIT_DETECT_MEMBER_PER_HOUR``, 200 by
default): keep ``--repeat`` under it, or raise it for the run.
"""

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import ParamSpec, TypeVar

from _common import configure_postgres, explain, percentile

BENCH_DATABASE = "casebook_bench"
TARGET_MS = 20.0
WARM_UPS = 3
USERNAME = "investigator.pa"
BIG_CASE_TITLE = "Benchmark: network of 200 entities along the corridor"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=50, help="new entities timed")
    parser.add_argument("--seed", type=int, default=1, help="seed of the choice of phones")
    parser.add_argument(
        "--min-cases", type=int, default=50_000, help="refuse a bench database with fewer cases"
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        help=f"PostgreSQL server holding {BENCH_DATABASE!r} (default: $DATABASE_URL)",
    )
    parser.add_argument(
        "--explain", action="store_true", help="print EXPLAIN ANALYZE of the detection's queries"
    )
    return parser.parse_args(argv)


Params = ParamSpec("Params")
Result = TypeVar("Result")


def timed_ms(
    call: Callable[Params, Result], /, *args: Params.args, **kwargs: Params.kwargs
) -> tuple[float, Result]:
    """Milliseconds that ``call(*args, **kwargs)`` took, and what it returned."""
    started = time.perf_counter()
    result = call(*args, **kwargs)
    return (time.perf_counter() - started) * 1000, result


def phones_to_match(case_id: int, count: int, seed: int) -> list[str]:
    """``count`` phone keys held by 1, 2 or 3 entities (a third each), none of them in
    ``case_id``, in random order."""
    from django.db.models import Count, Max, Min

    from cases.models import MatchKey

    rows = (
        MatchKey.objects.filter(key__startswith="phone:")
        .values("key")
        .annotate(holders=Count("entity_id"), low=Min("case_id"), high=Max("case_id"))
        .filter(holders__lte=3)
        .exclude(low__lte=case_id, high__gte=case_id)
        .order_by("key")
        .values_list("key", "holders")
    )
    by_holders: dict[int, list[str]] = {1: [], 2: [], 3: []}
    for key, holders in rows:
        by_holders[holders].append(key)
    rng = random.Random(seed)
    chosen: list[str] = []
    for holders, keys in by_holders.items():
        wanted = count // 3 + (1 if holders <= count % 3 else 0)
        if len(keys) < wanted:
            sys.exit(f"only {len(keys)} phone keys held by {holders} entities")
        chosen += rng.sample(keys, wanted)
    rng.shuffle(chosen)
    return chosen


def report(label: str, times: Sequence[float]) -> None:
    median = statistics.median(times)
    print(
        f"  {label:<44} median {median:6.2f} ms   p95 {percentile(times, 0.95):6.2f} ms   "
        f"max {max(times):6.2f} ms   ({median / TARGET_MS:.2f} x target)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    where = configure_postgres(
        args.database_url, BENCH_DATABASE, reuse=True, script="bench/hits.py"
    )
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from casebook.celery import app
    from cases import services
    from cases.models import Case, CommonKey, Entity, Hit, MatchKey
    from cases.selectors import case_access

    print(f"Bench database: {where}")
    call_command("migrate", verbosity=0)
    cases = Case.objects.count()
    if cases < args.min_cases:
        sys.exit(f"{cases} cases: seed the bench database with bench/pages.py first")
    app.conf.task_always_eager = False
    user = get_user_model().objects.select_related("member__agency").get(username=USERNAME)
    agency = user.member.agency
    case = (
        Case.objects.filter(owner_agency=agency, title=BIG_CASE_TITLE).first()
        or Case.objects.filter(owner_agency=agency).order_by("pk").first()
    )
    if case is None:
        sys.exit(f"{agency} owns no case: seed the bench database with bench/pages.py first")
    keys = phones_to_match(case.pk, args.repeat + WARM_UPS + 1, args.seed)
    print(
        f"{cases:,} cases, {Entity.objects.count():,} entities, {MatchKey.objects.count():,} "
        f"match keys, {Hit.objects.count():,} hits; key limit {settings.CASEBOOK_HIT_KEY_LIMIT}."
    )
    print(f"New phone entities go to {case.reference} ({agency.acronym or agency.name}).\n")

    def add_phone(key: str) -> Entity:
        return services.entity_add(
            access=case_access(user, case),
            kind=Entity.Kind.PHONE,
            role=Entity.Role.SUSPECT,
            identifier=key.removeprefix("phone:"),
        )

    first: list[float] = []
    again: list[float] = []
    notify: list[float] = []
    pairs: list[list[list[int]]] = []
    adds: list[float] = []
    created: list[int] = []
    with transaction.atomic():
        entities = []
        for index, key in enumerate(keys):
            add_ms, entity = timed_ms(add_phone, key)
            if index == len(keys) - 1:
                # One more, with the queries recorded (not timed: recording costs time).
                with CaptureQueriesContext(connection) as captured:
                    services.hits_detect(entity_id=entity.pk)
                continue
            detect_ms, new = timed_ms(services.hits_detect, entity_id=entity.pk)
            if index < WARM_UPS:
                continue
            adds.append(add_ms)
            first.append(detect_ms)
            created.append(len(new))
            pairs.append([[hit.entity_id, hit.other_id] for hit in new])
            entities.append(entity)
        for entity in entities:
            again.append(timed_ms(services.hits_detect, entity_id=entity.pk)[0])
        for batch in pairs:
            notify.append(timed_ms(services.hits_notify, pairs=batch)[0])

        common = (
            MatchKey.objects.filter(key__startswith="email:")
            .exclude(key__in=CommonKey.objects.values("key"))
            .values("key")
            # Distinct agencies, not entities, make a key common (cases.hits).
            .annotate(holders=django.db.models.Count("case__owner_agency", distinct=True))
            .filter(holders__gt=settings.CASEBOOK_HIT_KEY_LIMIT)
            .order_by("-holders")
            .first()
        )
        common_run: tuple[int, float] | None = None  # (holders, milliseconds)
        if common:
            entity = services.entity_add(
                access=case_access(user, case),
                kind=Entity.Kind.ONLINE,
                role=Entity.Role.SUSPECT,
                subtype="email",
                identifier=common["key"].removeprefix("email:"),
            )
            common_run = (common["holders"], timed_ms(services.hits_detect, entity_id=entity.pk)[0])
        if args.explain:
            # Inside the transaction, while the last entity exists; reads only.
            for query in captured:
                if query["sql"].startswith("SELECT"):
                    print(f"\n  {float(query['time']) * 1000:.1f} ms: {query['sql'][:300]}")
                    explain(query["sql"], indent="    ")
            print()
        transaction.set_rollback(True)

    print(f"hits_detect for one new phone entity, {len(first)} entities:")
    report("new entity (matches 1-3 entities)", first)
    report("same entities again (nothing to change)", again)
    report("their notifications (the task queued after)", notify)
    report("entity_add itself (for comparison)", adds)
    print(
        f"  hits created per entity: {min(created)}-{max(created)} "
        f"(mean {statistics.mean(created):.1f}); {len(captured)} queries per detection"
    )
    if common_run is not None:
        holders, milliseconds = common_run
        print(
            f"  first detection of a key held in the cases of {holders:,} agencies "
            f"(recorded as common, once): {milliseconds:.1f} ms"
        )
    print("The transaction was rolled back: the bench data is as it was.")
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"Load average of the machine during the run: {load} ({os.cpu_count()} CPUs).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
