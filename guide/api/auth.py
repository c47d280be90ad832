"""Bearer-token authentication for the API: a relative's token or a staff member's."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, g

from guide.api.tokens import bearer_token
from guide.errors import N_, GuideError
from guide.extensions import db
from guide.models import Relative, StaffRole
from guide.services.login import relative_may_use

F = TypeVar("F", bound=Callable[..., Any])


class ApiError(GuideError):
    """An API request that cannot be answered: a stable code, a sentence and an HTTP status."""

    def __init__(self, status: int, code: str, message: str, **extra: Any):
        field = extra.pop("field", None)
        super().__init__(code, message, status, field, **extra)


def relative_token_required(view: F) -> F:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        token = bearer_token()
        relative = (
            db.session.get(Relative, token.relative_id) if token and token.relative_id else None
        )
        if (
            token is None
            or relative is None
            or not relative_may_use(relative, token.address_proved)
        ):
            raise ApiError(
                401, "unauthorized", N_("Logga in med en giltig token (Authorization: Bearer ...).")
            )
        g.api_relative = relative
        g.api_address_proved = token.address_proved
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def staff_token_required(*roles: StaffRole) -> Callable[[F], F]:
    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            token = bearer_token()
            staff = token.staff_user if token else None
            if staff is None:
                raise ApiError(
                    401,
                    "unauthorized",
                    N_("Använd en API-nyckel för personal (guide staff token)."),
                )
            if roles and not staff.has_role(*roles):
                abort(403)
            g.api_staff = staff
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator
