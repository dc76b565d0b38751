"""Demo data: agencies, members and cases along the Colombia–Darién–Panama–Costa Rica–Central
America–Mexico corridor, and bulk-generated synthetic cases for benchmarks.

- ``seed_demo``: real agencies (real names, fictitious contact points), demo members with stable
  usernames, and about forty cases written through the services, so that their history, match
  keys and grants are exactly what a user would have made. A few identifiers are deliberately
  shared between cases of different agencies (see ``SHARED_*``), so cross-agency matches exist.
- ``seed_synthetic``: N generated cases written with bulk inserts (history included) for
  benchmarks; deterministic for a given seed on a given database. The bulk writer copies no
  rule of the services: references, owner grants, match keys, pseudonym numbers and change
  events come from the services' functions (``cases.services``, ``cases.outbox``), called for
  many rows at once.

Every person, company, phone number, account, document and plate here is fictitious; places
and the Darién figures are real. Everything is derived from a fixed random seed, so two runs
on fresh databases give the same data.

The modules: ``agencies`` (agencies and members), ``places`` (the corridor), ``identifiers``
(people, numbers, the shared identifiers), ``content`` (what a case contains, planned as plain
data and written through the services), ``cases`` (the handwritten demo cases and
``seed_demo``), ``bulk`` (plans written with bulk inserts) and ``synthetic`` (the generator).
"""

from casebook.demo.agencies import DemoConflict
from casebook.demo.bulk import bulk_write_content
from casebook.demo.cases import DemoResult, seed_demo
from casebook.demo.content import ContentPlan, EntityPlan, plan_content, write_plan
from casebook.demo.identifiers import (
    IBAN_BBAN_FORMATS,
    PHONE_PATTERNS,
    SHARED_IBAN_CR_PA,
    iban_number,
    iban_with_check,
    phone_number,
    shared_match_keys,
)
from casebook.demo.places import CORRIDOR
from casebook.demo.synthetic import SyntheticResult, seed_synthetic

__all__ = [
    "CORRIDOR",
    "IBAN_BBAN_FORMATS",
    "PHONE_PATTERNS",
    "SHARED_IBAN_CR_PA",
    "ContentPlan",
    "DemoConflict",
    "DemoResult",
    "EntityPlan",
    "SyntheticResult",
    "bulk_write_content",
    "iban_number",
    "iban_with_check",
    "phone_number",
    "plan_content",
    "seed_demo",
    "seed_synthetic",
    "shared_match_keys",
    "write_plan",
]
