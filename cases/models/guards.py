"""A model guard: instances masked for a viewer are never written back."""

from typing import Any

from django.db import models

# Set on an instance by ``cases.protection`` when it masks it (pseudonyms, blanked values).
MASKED = "_casebook_masked"


class RefusesMasked(models.Model):
    """Refuses to save or delete an instance that ``cases.protection`` masked: it holds a
    pseudonym or a blank where a protected value is, and saving it would write that over the
    real value (deleting it would write it into the change history)."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if getattr(self, MASKED, False):
            raise RuntimeError(f"A masked {type(self).__name__} cannot be saved.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if getattr(self, MASKED, False):
            raise RuntimeError(f"A masked {type(self).__name__} cannot be deleted.")
        return super().delete(*args, **kwargs)
