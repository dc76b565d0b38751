"""``manage.py detect_hits``: run hit detection again for every entity with match keys.

Hits are derived data (``cases.services.hits``): run this after ``rebuild_match_keys``, after
a change of ``CASEBOOK_HIT_KEY_LIMIT``, or to catch up on detections a broker outage lost. Each
entity is detected in its own transaction, so an interrupted run can simply be started again.
"""

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from tqdm import tqdm

from cases.models import MatchKey
from cases.services import hits_detect


class Command(BaseCommand):
    help = "Run cross-case hit detection again for every entity that has match keys."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-notify",
            action="store_true",
            help="Store new hits without notifying the agencies (e.g. for a first backfill).",
        )
        parser.add_argument(
            "--batch-size", type=int, default=2000, help="Entity ids read per query."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        batch_size = max(1, options["batch_size"])
        entity_ids = MatchKey.objects.order_by("entity_id").values_list("entity_id", flat=True)
        created = checked = 0
        last = 0
        with tqdm(
            total=entity_ids.distinct().count(),
            desc="entities",
            unit="entity",
            file=sys.stderr,
            disable=options["verbosity"] == 0,
        ) as bar:
            while True:
                batch = list(entity_ids.filter(entity_id__gt=last).distinct()[:batch_size])
                if not batch:
                    break
                for entity_id in batch:
                    created += len(
                        hits_detect(entity_id=entity_id, notify=not options["no_notify"])
                    )
                checked += len(batch)
                last = batch[-1]
                bar.update(len(batch))
        self.stdout.write(f"{checked} entities checked: {created} new hits.")
