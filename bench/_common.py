"""What the bench scripts share: a dedicated PostgreSQL database per script, Django pointed at
it, percentiles and query plans. Import from a script in bench/ (``from _common import ...``).
"""

import math
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:  # Django is set up at run time, after this module is imported
    from django.contrib.auth.models import User
    from django.test import Client

ROOT = Path(__file__).resolve().parent.parent


def database_url(url: str, database: str) -> str:
    """The same server and credentials, with another database's name."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


def prepare_postgres(url: str, database: str, *, reuse: bool) -> None:
    """Create ``database`` on the server of ``url`` if missing; drop and create it again
    unless ``reuse``. The database named in ``url`` is only used to do that."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    admin_database = parts.path.strip("/")
    if admin_database in ("", database):
        admin_database = "postgres"
    admin_url = urlunsplit(parts._replace(path=f"/{admin_database}"))
    with psycopg.connect(admin_url, autocommit=True) as admin:
        exists = admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [database]
        ).fetchone()
        name = sql.Identifier(database)
        if exists and not reuse:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(name))
            exists = None
        if not exists:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(name))


def configure_postgres(url: str, database: str, *, reuse: bool, script: str) -> str:
    """Create (or keep) the bench database and point Django at it, before ``django.setup()``.
    Returns where it is (host and name, without credentials)."""
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit(
            f"{script} measures PostgreSQL: set DATABASE_URL=postgres://... or pass --database-url."
        )
    prepare_postgres(url, database, reuse=reuse)
    bench_url = database_url(url, database)
    # Before django.setup(): settings read these once.
    os.environ["DATABASE_URL"] = bench_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "casebook.settings"
    os.environ.setdefault("CASEBOOK_DEBUG", "0")
    # The test client speaks plain HTTP: production's HTTPS redirect would answer every page.
    os.environ.setdefault("CASEBOOK_SSL_REDIRECT", "0")
    sys.path.insert(0, str(ROOT))
    return bench_url.rsplit("@", 1)[-1]


def vacuum_analyze() -> None:
    """What autovacuum does soon after a bulk load or a migration in production: fresh
    statistics for the planner and a visibility map for index-only scans (PostgreSQL only).
    Also worth running on a reused database: servers with autovacuum off (CI machines)
    otherwise keep the statistics of the last seeding."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def database_size() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        return str(cursor.fetchone()[0])


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(len(ordered) * share)) - 1]


class QueryTimer:
    """Records each SQL statement and the milliseconds it took, measured with
    ``perf_counter`` around the driver's execute (results fetched included). Precise to the
    microsecond, where ``CaptureQueriesContext`` rounds each query to a millisecond.

        with QueryTimer() as timer:
            ...
        timer.ms, len(timer.queries)
    """

    def __init__(self) -> None:
        self.queries: list[dict[str, Any]] = []

    @property
    def ms(self) -> float:
        return sum(float(q["time"]) for q in self.queries) * 1000

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = time.perf_counter() - started
            self.queries.append({"sql": sql, "params": params, "time": f"{elapsed:.6f}"})

    def __enter__(self) -> "QueryTimer":
        from django.db import connection

        self._wrapper = connection.execute_wrapper(self)
        self._wrapper.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._wrapper.__exit__(*exc)


def print_plans(queries: Sequence[dict[str, Any]], slowest: int = 3, indent: str = "    ") -> None:
    """``EXPLAIN (ANALYZE, BUFFERS)`` of the slowest captured queries (PostgreSQL only)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    for query in sorted(queries, key=lambda q: float(q["time"]), reverse=True)[:slowest]:
        print(f"\n{indent[:-2]}{float(query['time']) * 1000:.1f} ms: {query['sql'][:300]}")
        explain(query["sql"], query.get("params"), indent=indent)
    print()


def explain(sql: str, params: Sequence[Any] | None = None, indent: str = "    ") -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        for (line,) in cursor.fetchall():
            print(f"{indent}{line}")


def signed_in_client(user: "User") -> "Client":
    """A test client signed in as ``user`` as a member is in production: past the second step,
    with a confirmed authenticator (OTPMiddleware loads it on every request, as it would)."""
    from django.test import Client
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device, _ = TOTPDevice.objects.get_or_create(
        user=user, name="bench", defaults={"confirmed": True}
    )
    client = Client()
    client.force_login(user)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    return client
