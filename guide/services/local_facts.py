"""An organisation's values for the content's `{{ local.* }}` placeholders."""

from __future__ import annotations

from sqlalchemy import select

from guide.models import LocalFactValue
from guide.models.base import DbSession


def local_values(session: DbSession, organisation_id: int) -> dict[str, str]:
    """Return key -> value for the facts the organisation has filled in."""
    rows = session.execute(
        select(LocalFactValue.key, LocalFactValue.value).where(
            LocalFactValue.organisation_id == organisation_id
        )
    )
    return {key: value for key, value in rows if value and value.strip()}
