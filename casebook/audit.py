"""Who made a change, for django-simple-history: the one place that sets it."""

from django.contrib.auth.models import User
from django.db.models import Model


def attribute_to(instance: Model, actor: User | None, *, reason: str = "") -> None:
    """Record ``actor`` as the author of the next history row of ``instance``, and ``reason``
    (if given) as that row's change reason.

    simple-history reads both from the instance itself (``_history_user``,
    ``_change_reason``), so history is right in tasks and commands too, where there is no
    request. The reason stays on the instance: a later save of it records it again."""
    instance._history_user = actor  # type: ignore[attr-defined]  # simple-history's hook
    if reason:
        instance._change_reason = reason  # type: ignore[attr-defined]  # simple-history's hook
