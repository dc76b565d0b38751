"""``manage.py rebuild_match_keys``: recompute every entity's match keys from its values.

Match keys are derived data (``cases.matchkeys``); rebuild them after a change to the
normalisation rules or to the phone-number metadata. Entities whose values no longer
normalise are reported and keep the keys they had, so a rule change never silently drops a
cross-case match; the rest of the run goes on.
"""

import sys
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from tqdm import tqdm

from cases.models import Entity, MatchKey
from cases.services import entity_match_keys


@dataclass
class Outcome:
    checked: int = 0
    added: int = 0
    removed: int = 0
    invalid: list[str] = field(default_factory=list)


def rebuild_batch(entities: list[Entity], outcome: Outcome, *, dry_run: bool) -> None:
    """Bring the stored keys of ``entities`` in line with their values, in one transaction.
    Only the differences are written."""
    wanted: dict[int, set[tuple[int, str]]] = {}
    for entity in entities:
        outcome.checked += 1
        try:
            keys = entity_match_keys(entity)
        except ValidationError as error:
            problems = "; ".join(
                f"{name}: {' '.join(messages)}" for name, messages in error.message_dict.items()
            )
            outcome.invalid.append(
                f"{entity.case.reference} entity {entity.uuid} ({entity.kind}): {problems}"
            )
            continue
        wanted[entity.pk] = {(entity.case_id, key.key) for key in keys}
    stored: dict[int, dict[tuple[int, str], int]] = {pk: {} for pk in wanted}
    rows = MatchKey.objects.filter(entity_id__in=list(wanted)).values_list(
        "pk", "entity_id", "case_id", "key"
    )
    for pk, entity_id, case_id, key in rows:
        stored[entity_id][(case_id, key)] = pk
    stale = [
        pk
        for entity_id, keys in stored.items()
        for pair, pk in keys.items()
        if pair not in wanted[entity_id]
    ]
    missing = [
        MatchKey(entity_id=entity_id, case_id=case_id, key=key)
        for entity_id, pairs in wanted.items()
        for case_id, key in sorted(pairs - stored[entity_id].keys())
    ]
    outcome.removed += len(stale)
    outcome.added += len(missing)
    if dry_run:
        return
    with transaction.atomic():
        MatchKey.objects.filter(pk__in=stale).delete()
        MatchKey.objects.bulk_create(missing)


class Command(BaseCommand):
    help = "Recompute every entity's match keys from its values, in batches."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=2000, help="Entities per batch.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Report the changes without writing them."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        batch_size = options["batch_size"]
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        outcome = Outcome()
        entities = Entity.objects.select_related("case__owner_agency").only(
            *("kind", "name", "aliases", "birth_date", "identifier", "identifier_country"),
            *("subtype", "uuid", "case__reference", "case__owner_agency__country"),
        )
        last = 0
        with tqdm(
            total=Entity.objects.count(),
            desc="entities",
            unit="entity",
            file=sys.stderr,
            disable=options["verbosity"] == 0,
        ) as bar:
            while True:
                batch = list(entities.filter(pk__gt=last).order_by("pk")[:batch_size])
                if not batch:
                    break
                rebuild_batch(batch, outcome, dry_run=options["dry_run"])
                last = batch[-1].pk
                bar.update(len(batch))
        for line in outcome.invalid:
            self.stderr.write(f"Not valid any more, keys kept: {line}")
        verb = "would be" if options["dry_run"] else "were"
        self.stdout.write(
            f"{outcome.checked} entities checked: {outcome.added} keys {verb} added, "
            f"{outcome.removed} {verb} removed; {len(outcome.invalid)} entities with values "
            "that no longer validate."
        )
