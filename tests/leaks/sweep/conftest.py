"""The sweep's world (``tests.leaks.harness.opened_world``), built once for the tests of this
package and rolled back after the last of them.

Package-scoped, not module-scoped: the tests are split into modules by what they check, and
a world per module would be built seven times. Each test leaves the world as it found it (its
requests run in rolled-back savepoints, ``harness.fetch``), so the modules may share it. Not
session-scoped: while the world is open the clock stays moved and every test runs inside its
transaction, which the other tests (``test_permutation``, which builds worlds of its own, and
the rest of the suite) must not."""

from collections.abc import Iterator
from typing import Any

import pytest

from tests.leaks.harness import opened_world
from tests.leaks.world import World


@pytest.fixture(scope="package")
def world(django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: Any) -> Iterator[World]:
    """The world, built in a transaction rolled back after the package, the clock moved past
    the expiry of the expired shares, every user signed in."""
    media = tmp_path_factory.mktemp("leak-evidence")
    with django_db_blocker.unblock(), opened_world(str(media)) as built:
        yield built
