"""Property-based tests generated from the API's own OpenAPI document (Schemathesis).

The document is read from the running app, in-process (`GET /api/v1/openapi.json`),
and every operation is called with generated requests, valid and invalid, as a
relative (for /me/...) or an organisation admin (for the staff routes). Every
answer must be no 5xx, carry a documented status, and match the documented schema.
"""

from __future__ import annotations

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance

from guide.extensions import db
from guide.models import StaffRole
from guide.models.base import utcnow
from guide.services.accounts import create_staff, issue_api_token
from tests.factories import enrol, issue_cards, make_tenant

# Modest on purpose: CI runs this on both databases, and well under a minute each.
EXAMPLES = 25


@pytest.fixture
def tokens(app: Flask) -> dict[str, str]:
    tenant = make_tenant()
    relative = enrol(issue_cards(tenant.unit)[0]).relative
    issued = {
        "relative": issue_api_token(db.session, utcnow(), relative_id=relative.id),
        "staff": issue_api_token(db.session, utcnow(), staff=tenant.admin),
        "editor": issue_api_token(
            db.session,
            utcnow(),
            staff=create_staff(
                db.session, "redaktor@lots.se", StaffRole.EDITOR, tenant.organisation, None, None
            ),
        ),
    }
    db.session.commit()
    return issued


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_answers_as_documented(
    app: Flask, tokens: dict[str, str], mode: GenerationMode
) -> None:
    """Valid and invalid requests to every operation: no 5xx, documented status and shape."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    calls: list[str] = []
    nothing_to_break = 0
    for operation in operations:
        if (operation.path, operation.method.upper()) == ("/auth/token", "DELETE"):
            continue  # revoking the token would leave the rest of the run without one
        who = "relative" if operation.path.startswith("/me/") else "staff"
        if operation.path.startswith("/editor/"):
            who = "editor"

        if not fuzz(operation, mode, {"Authorization": f"Bearer {tokens[who]}"}, calls):
            nothing_to_break += 1
    # Not a test that cannot fail: many requests went out, to nearly every operation.
    assert len(calls) >= 5 * len(operations), len(calls)
    # Every operation was called but the one skipped above and, when only invalid
    # requests are wanted, those that take no parameter and no body.
    assert len(set(calls)) >= len(operations) - 1 - nothing_to_break
    assert nothing_to_break <= 5


def fuzz(
    operation: schemathesis.APIOperation,
    mode: GenerationMode,
    headers: dict[str, str],
    calls: list[str],
) -> bool:
    """Call one operation with EXAMPLES generated requests and check every answer.

    Return False when there was no request to make (nothing of it can be made invalid).
    """

    @given(case=operation.as_strategy(generation_mode=mode, headers=headers))
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,  # the same requests every run: a failure is reproducible, never flaky
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def call(case: schemathesis.Case) -> None:
        if isinstance(case.body, dict) and isinstance(case.body.get("count"), int):
            case.body["count"] = min(case.body["count"], 25)  # keep batches small
        # A schema-valid body can still be refused with a documented 400 (a code whose
        # check symbol is wrong, an unknown guide): that one check is left out.
        calls.append(f"{case.method} {case.path}")
        case.call_and_validate(excluded_checks=[positive_data_acceptance])

    try:
        call()
    except Unsatisfiable:
        # Nothing to get wrong: no parameters and no body (GET /health, GET /me/journey).
        assert mode is GenerationMode.NEGATIVE
        return False
    return True
