"""Writing content plans with bulk inserts, history rows included, for the synthetic
generator and the benchmarks."""

from collections.abc import Sequence
from typing import Any

from simple_history.utils import bulk_create_with_history

from casebook.demo.content import ContentPlan
from cases import services
from cases.models import Case, Entity, MatchKey, Movement, MovementFacilitator, Note, Relationship
from cases.services import entities as entity_services


def _attributed(objects: list[Any], actors: list[Any]) -> list[Any]:
    # bulk_create_with_history takes the history user from each object when it has one, so
    # every row is attributed to the member of the owning agency who "wrote" it.
    for obj, actor in zip(objects, actors, strict=True):
        obj._history_user = actor
    return objects


BULK_BATCH = 2000


def bulk_insert(model: Any, objects: list[Any], actors: list[Any]) -> list[Any]:
    """Insert ``objects`` of an audited ``model`` with their history rows, each attributed to
    its actor (``actors`` runs parallel to ``objects``). Returns the saved objects."""
    if not objects:
        return []
    saved: list[Any] = bulk_create_with_history(
        _attributed(objects, actors), model, batch_size=BULK_BATCH, default_user=actors[0]
    )
    return saved


def bulk_write_content(items: Sequence[tuple[Case, Any, ContentPlan]]) -> list[list[Entity]]:
    """Write the content plans of existing cases with bulk inserts (history included), with
    the match keys and pseudonym numbers the services give (``services.entity_match_keys``,
    ``protected_numbers_highest``). Call inside a transaction: the cases stay locked until it
    ends. Records no change event (see ``outbox.cases_created_in_bulk`` for new cases) and
    queues no hit detection. Returns the entities of each case, in plan order."""
    # Holders (people, organisations) first, so the rest can point at them.
    per_case: list[list[Entity | None]] = [[None] * len(plan.entities) for _, _, plan in items]
    # Pseudonym numbers as ``services.entity_add`` gives them, in the order entities are
    # written: under the cases' lock, one more than any given before in the case and role.
    case_ids = [case.pk for case, _actor, _plan in items]
    entity_services.cases_lock(case_ids=case_ids)
    numbers = entity_services.protected_numbers_highest(case_ids=case_ids)
    for holders_pass in (True, False):
        batch, actors, slots = [], [], []
        for index, (case, actor, plan) in enumerate(items):
            for position, item in enumerate(plan.entities):
                if (item.holder is None) != holders_pass:
                    continue
                values = dict(item.values)
                if item.holder is not None:
                    holder = per_case[index][item.holder]
                    values["holder_id"] = holder.pk if holder is not None else None
                # ``case`` itself (not its id), so that the match keys below need no query.
                entity = Entity(case=case, kind=item.kind, created_by=actor, **values)
                if entity.role in Entity.PROTECTED_ROLES:
                    entity.protected_number = entity_services.protected_number_next(
                        numbers, case_id=case.pk, role=entity.role
                    )
                batch.append(entity)
                actors.append(actor)
                slots.append((index, position))
        for entity, (index, position) in zip(
            bulk_insert(Entity, batch, actors), slots, strict=True
        ):
            per_case[index][position] = entity
    entities = [[e for e in row if e is not None] for row in per_case]

    keys = [
        MatchKey(entity_id=entity.pk, case_id=entity.case_id, key=key.key)
        for row in entities
        for entity in row
        for key in services.entity_match_keys(entity)
    ]
    MatchKey.objects.bulk_create(keys, batch_size=BULK_BATCH)

    relationships, rel_actors = [], []
    movements, move_actors, move_plans = [], [], []
    notes, note_actors = [], []
    for (case, actor, plan), row in zip(items, entities, strict=True):
        for rel in plan.relationships:
            relationships.append(
                Relationship(
                    case_id=case.pk,
                    source_id=row[rel.source].pk,
                    target_id=row[rel.target].pk,
                    kind=rel.kind,
                    started_on=rel.started_on,
                    evidence_note=rel.evidence_note,
                    source_reliability=rel.source_reliability,
                    information_assessment=rel.information_assessment,
                    created_by=actor,
                )
            )
            rel_actors.append(actor)
        for move in plan.movements:
            movements.append(
                Movement(
                    case_id=case.pk,
                    origin_id=row[move.origin].pk,
                    destination_id=row[move.destination].pk,
                    moved_on=move.moved_on,
                    means=move.means,
                    people_count=move.people_count,
                    description=move.description,
                    created_by=actor,
                )
            )
            move_actors.append(actor)
            move_plans.append((row, move))
        for note in plan.notes:
            notes.append(
                Note(case_id=case.pk, noted_on=note.noted_on, body=note.body, author=actor)
            )
            note_actors.append(actor)
    bulk_insert(Relationship, relationships, rel_actors)
    movements = bulk_insert(Movement, movements, move_actors)
    facilitators, facilitator_actors = [], []
    for movement, actor, (row, move) in zip(movements, move_actors, move_plans, strict=True):
        for index in move.facilitators:
            facilitators.append(
                MovementFacilitator(movement_id=movement.pk, entity_id=row[index].pk)
            )
            facilitator_actors.append(actor)
    bulk_insert(MovementFacilitator, facilitators, facilitator_actors)
    bulk_insert(Note, notes, note_actors)
    return entities
