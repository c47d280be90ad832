"""Who may call what: every route of the url_map, called as every identity, with others' ids.

ACCESS below declares, for every endpoint, which identities get through. Adding a
route? Add its line here, or `test_every_route_declares_who_may_call_it` fails.

The matrix then calls each route (each of its methods) as each identity:
anonymous, a relative, unit staff, an organisation admin, an editor placed in the
organisation, and a system admin of none. Ids in the path come in several kinds:
the identity's own (tenant A, relative A), another tenant's and another relative's
(tenant B, relative B), and ids no row has or no column can hold. The outcome must
be the declared one: an identity that may call the route reaches it with its own
ids and gets 403/404 with anyone else's; every other identity is refused (401, 403,
404, or sent to a login page); nothing ever answers 5xx.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from guide.extensions import db
from guide.mail.delivery import UNRENDERABLE
from guide.models import (
    CheckinInstance,
    EditorDraft,
    ModuleVersion,
    OutboxMessage,
    StaffRole,
    StaffUser,
)
from guide.models.base import utcnow
from guide.services.accounts import create_staff, issue_api_token
from guide.services.followup import raise_alert
from guide.services.journey import advance_enrolment
from guide.services.library import current_library
from tests.checkin_support import log_in_relative, log_in_staff
from tests.factories import PASSWORD, enrol, issue_cards, make_tenant

ANONYMOUS, RELATIVE, STAFF, ORG_ADMIN, EDITOR, ADMIN = (
    "anonymous",
    "relative",
    "staff",
    "org_admin",
    "editor",
    "admin",
)
IDENTITIES = (ANONYMOUS, RELATIVE, STAFF, ORG_ADMIN, EDITOR, ADMIN)
ANYONE = frozenset(IDENTITIES)
LOGGED_IN = ANYONE - {ANONYMOUS}
CARD_WORKERS = frozenset({STAFF, ORG_ADMIN})
NOBODY: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Access:
    """Who gets through a route, and what its path parameters are."""

    who: frozenset[str]
    ids: dict[str, str] = field(default_factory=dict)  # parameter -> kind of row it names
    values: dict[str, str] = field(default_factory=dict)  # other parameters: a fixed value
    capability: bool = False  # the path holds a secret: a wrong one is 404 for everyone
    all_tenants: frozenset[str] = NOBODY  # who may reach every organisation's rows


TOKEN = {"token": "x" * 43}
EDITORS = frozenset({EDITOR, ADMIN})  # a system admin has every role
DRAFT = {"draft_id": "draft"}
MODULE = {"guide_id": "stod", "module_id": "valkommen"}
ACCESS: dict[str, Access] = {
    # Public pages and the relative's way in.
    "public.index": Access(ANYONE),
    "public.activate": Access(ANYONE),
    "public.activate_questions": Access(ANYONE),
    "public.activate_consent": Access(ANYONE),
    "public.login": Access(ANYONE),
    "public.login_with_token": Access(ANYONE, values=TOKEN),
    "public.login_with_token_confirm": Access(ANYONE, values=TOKEN, capability=True),
    "public.logout": Access(ANYONE),
    "public.unsubscribe_page": Access(ANYONE, values=TOKEN, capability=True),
    "public.unsubscribe": Access(ANYONE, values=TOKEN, capability=True),
    "static": Access(ANYONE, values={"filename": "style.css"}),
    "language.choose": Access(ANYONE),
    # The demo's local inbox: no identity in a deployment without --demo.
    "inbox.index": Access(NOBODY),
    "inbox.show": Access(NOBODY, ids={"mail_id": "mail"}),
    "inbox.html_body": Access(NOBODY, ids={"mail_id": "mail"}),
    # Min guide.
    "journey.index": Access(frozenset({RELATIVE})),
    "journey.module": Access(
        frozenset({RELATIVE}), ids={"enrolment_id": "enrolment"}, values={"module_id": "valkommen"}
    ),
    "needs.tick": Access(
        frozenset({RELATIVE}), ids={"enrolment_id": "enrolment"}, values={"module_id": "valkommen"}
    ),
    "checkins.answer": Access(
        frozenset({RELATIVE}), ids={"enrolment_id": "enrolment", "instance_id": "checkin"}
    ),
    "checkins.answered": Access(
        frozenset({RELATIVE}), ids={"enrolment_id": "enrolment", "instance_id": "checkin"}
    ),
    "profile.answers": Access(frozenset({RELATIVE}), ids={"enrolment_id": "enrolment"}),
    "contact.form": Access(frozenset({RELATIVE})),
    "contact.sent": Access(frozenset({RELATIVE})),
    "contact.accept_call": Access(frozenset({RELATIVE}), ids={"enrolment_id": "enrolment"}),
    "contact.decline_call": Access(frozenset({RELATIVE}), ids={"enrolment_id": "enrolment"}),
    # Staff pages.
    "staff.login": Access(ANYONE),
    "staff.logout": Access(ANYONE),
    "staff.set_password": Access(ANYONE, values=TOKEN, capability=True),
    "cards.index": Access(CARD_WORKERS),
    "cards.issue": Access(CARD_WORKERS),
    "cards.batch": Access(CARD_WORKERS, ids={"batch_id": "batch"}),
    "cards.batch_pdf": Access(CARD_WORKERS, ids={"batch_id": "batch"}),
    "cards.revoke": Access(CARD_WORKERS, ids={"card_id": "card"}),
    # A system admin of no organisation has an (empty) queue page but no alert of it.
    "followup.queue": Access(CARD_WORKERS | {ADMIN}),
    "followup.alert": Access(CARD_WORKERS, ids={"alert_id": "alert"}),
    "followup.contacted": Access(CARD_WORKERS, ids={"alert_id": "alert"}),
    "followup.close": Access(CARD_WORKERS, ids={"alert_id": "alert"}),
    "followup.no_answer": Access(CARD_WORKERS, ids={"alert_id": "alert"}),
    "followup.take": Access(CARD_WORKERS, ids={"alert_id": "alert"}),
    "followup.change_contact_person": Access(CARD_WORKERS, ids={"alert_id": "alert"}),
    "followup.profile": Access(CARD_WORKERS | {ADMIN}),
    "mail_problems.problems": Access(frozenset({ORG_ADMIN, ADMIN})),
    "mail_problems.retry": Access(
        frozenset({ORG_ADMIN, ADMIN}),
        ids={"message_id": "unrenderable_mail"},
        all_tenants=frozenset({ADMIN}),
    ),
    # The API.
    "api.openapi": Access(ANYONE),
    "api.health": Access(ANYONE),
    "api.create_activation": Access(ANYONE),
    "api.login_link": Access(ANYONE),
    "api.exchange_token": Access(ANYONE),
    "api.revoke_token": Access(LOGGED_IN),
    "api.my_journey": Access(frozenset({RELATIVE})),
    "api.my_module": Access(frozenset({RELATIVE}), values={"module_id": "valkommen"}),
    "api.answer_my_checkin": Access(frozenset({RELATIVE}), ids={"instance_id": "checkin"}),
    "api.change_my_profile": Access(frozenset({RELATIVE}), ids={"enrolment_id": "enrolment"}),
    "api.tick_my_needs": Access(frozenset({RELATIVE})),
    "api.request_my_contact": Access(frozenset({RELATIVE})),
    "api.create_cards": Access(CARD_WORKERS),
    "api.list_cards": Access(CARD_WORKERS),
    "api.revoke_one_card": Access(CARD_WORKERS, ids={"card_id": "card"}),
    "api.list_alerts": Access(CARD_WORKERS),
    "api.show_alert": Access(CARD_WORKERS, ids={"alert_id": "alert"}),
    "api.alert_contacted": Access(CARD_WORKERS, ids={"alert_id": "alert"}),
    "api.alert_close": Access(CARD_WORKERS, ids={"alert_id": "alert"}),
    # Organisation admin (issue 12): the system admin has a landing page but no organisation.
    "admin.index": Access(frozenset({ORG_ADMIN, ADMIN})),
    "admin.create_unit": Access(frozenset({ORG_ADMIN})),
    "admin.update_unit": Access(frozenset({ORG_ADMIN}), ids={"unit_id": "unit"}),
    "admin.invite": Access(frozenset({ORG_ADMIN, ADMIN})),
    "admin.deactivate": Access(
        frozenset({ORG_ADMIN, ADMIN}), ids={"staff_id": "colleague"}, all_tenants=frozenset({ADMIN})
    ),
    "admin.create_organisation": Access(frozenset({ADMIN})),
    "local_facts.index": Access(frozenset({ORG_ADMIN})),
    "local_facts.edit": Access(frozenset({ORG_ADMIN}), values={"key": "anhorigstod.telefon"}),
    "stats.index": Access(CARD_WORKERS),
    "stats.csv_export": Access(CARD_WORKERS),
    "api.list_local_facts": Access(frozenset({ORG_ADMIN})),
    "api.put_local_fact": Access(frozenset({ORG_ADMIN}), values={"key": "anhorigstod.telefon"}),
    "api.get_stats": Access(CARD_WORKERS),
    # Issue 13: a relative's own settings and data (erasing needs a confirmation in
    # the body or form, which the matrix's probe does not carry).
    "settings.index": Access(frozenset({RELATIVE})),
    "settings.save": Access(frozenset({RELATIVE})),
    "settings.pause": Access(frozenset({RELATIVE}), ids={"enrolment_id": "enrolment"}),
    "settings.consent": Access(frozenset({RELATIVE}), values={"purpose": "statistics"}),
    "settings.export": Access(frozenset({RELATIVE})),
    "settings.erase": Access(frozenset({RELATIVE})),
    "settings.erased": Access(ANYONE),
    "settings.change_email": Access(frozenset({RELATIVE})),
    "settings.confirm_email": Access(ANYONE, values=TOKEN, capability=True),
    "settings.confirm_email_post": Access(ANYONE, values=TOKEN, capability=True),
    "audit.index": Access(frozenset({ORG_ADMIN, ADMIN})),
    "api.export_me": Access(frozenset({RELATIVE})),
    "api.erase_me": Access(frozenset({RELATIVE})),
    "api.my_settings": Access(frozenset({RELATIVE})),
    "api.change_my_settings": Access(frozenset({RELATIVE})),
    "api.give_my_consent": Access(frozenset({RELATIVE}), values={"purpose": "statistics"}),
    "api.withdraw_my_consent": Access(frozenset({RELATIVE}), values={"purpose": "statistics"}),
    "api.alert_no_answer": Access(CARD_WORKERS, ids={"alert_id": "alert"}),
    "api.alert_take": Access(CARD_WORKERS, ids={"alert_id": "alert"}),
    # The editors' workspace (issue 11): content is shared, so any editor reaches any draft.
    "api.editor_modules": Access(EDITORS),
    "api.create_draft": Access(EDITORS),
    "api.show_draft": Access(EDITORS, ids=DRAFT, all_tenants=EDITORS),
    # Only the author sends a draft for review: another editor's draft answers 403.
    "api.submit_for_review": Access(frozenset({EDITOR}), ids=DRAFT),
    "api.review": Access(EDITORS, ids=DRAFT, all_tenants=EDITORS),
    "api.publish": Access(EDITORS, ids=DRAFT, all_tenants=EDITORS),
    "api.module_versions": Access(EDITORS, values=MODULE),
    "api.module_diff": Access(EDITORS, values=MODULE),
    "api.simulate_journey": Access(EDITORS),
    "editor.home": Access(EDITORS),
    "editor.new": Access(EDITORS),
    "editor.edit": Access(EDITORS, values=MODULE),
    "editor.draft": Access(EDITORS, ids=DRAFT, all_tenants=EDITORS),
    "editor.submit": Access(frozenset({EDITOR}), ids=DRAFT),
    "editor.review": Access(EDITORS, ids=DRAFT, all_tenants=EDITORS),
    "editor.publish": Access(EDITORS, ids=DRAFT, all_tenants=EDITORS),
    "editor.versions": Access(EDITORS, values=MODULE),
    "editor.compare": Access(EDITORS, values=MODULE),
    "editor.restore": Access(EDITORS, ids={"version_id": "version"}, all_tenants=EDITORS),
    "editor.simulate": Access(EDITORS),
}


def _unrenderable_again(world: World) -> None:
    """A retry moves the mail on; put it back so the next identity finds it as the first did."""
    ids = (world.own["unrenderable_mail"], world.foreign["unrenderable_mail"])
    db.session.execute(
        update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(status=UNRENDERABLE)
    )
    db.session.commit()


def _colleagues_active_again(world: World) -> None:
    """A deactivation stops the colleague; start it again so the next identity finds it."""
    ids = (world.own["colleague"], world.foreign["colleague"])
    db.session.execute(update(StaffUser).where(StaffUser.id.in_(ids)).values(deactivated_at=None))
    db.session.commit()


# Routes that change the row they are called on: set it back before each call.
RESET_BEFORE: dict[str, Any] = {
    "mail_problems.retry": _unrenderable_again,
    "admin.deactivate": _colleagues_active_again,
}

# Ids no row has, and ids no id column can hold.
FUZZED_IDS = (0, 2**31 - 1, 2**31, 2**63, 10**30)


# -- the world the matrix runs in ---------------------------------------------------


@dataclass
class World:
    """Tenant A (the identities' own) and tenant B (someone else's), one relative in each."""

    own: dict[str, int]
    foreign: dict[str, int]
    staff: dict[str, Any]
    relative_a: Any


def _rows_of(tenant: Any, email: str) -> tuple[Any, dict[str, int]]:
    started = utcnow() - timedelta(days=4)
    card = issue_cards(tenant.unit, now=started)[0]
    enrolment = enrol(card, email, now=started)
    advance_enrolment(db.session, current_library().guide("stod"), enrolment, utcnow())
    instance = db.session.query(CheckinInstance).filter_by(enrolment_id=enrolment.id).one()
    alert = raise_alert(
        db.session, enrolment, priority="normal", source="rule", reason="Låg ork", now=utcnow()
    )
    unused = issue_cards(tenant.unit)[0]
    unrenderable = OutboxMessage(
        idempotency_key=f"probe:{enrolment.id}",
        kind="welcome",
        relative_id=enrolment.relative_id,
        enrolment_id=enrolment.id,
        recipient=email,
        payload={"enrolment_id": enrolment.id},
        status=UNRENDERABLE,
        attempts=1,
    )
    db.session.add(unrenderable)
    colleague = create_staff(
        db.session, f"kollega@{tenant.organisation.slug}.se", StaffRole.STAFF,
        tenant.organisation, tenant.unit,
    )  # fmt: skip
    db.session.commit()
    return enrolment.relative, {
        "unit": tenant.unit.id,
        "colleague": colleague.id,
        "enrolment": enrolment.id,
        "checkin": instance.id,
        "alert": alert.id,
        "card": unused.id,
        "batch": unused.batch_id,
        "mail": 1,
        "unrenderable_mail": unrenderable.id,
    }


@pytest.fixture
def world(app: Flask) -> World:
    tenant_a, tenant_b = make_tenant(), make_tenant("grannkommunen")
    relative_a, own = _rows_of(tenant_a, "a@example.se")
    _, foreign = _rows_of(tenant_b, "b@example.se")
    editor = create_staff(
        db.session, "redaktor@kommunen.se", StaffRole.EDITOR, tenant_a.organisation, None, PASSWORD
    )
    admin = create_staff(db.session, "system@lots.se", StaffRole.ADMIN, None, None, PASSWORD)
    other_editor = create_staff(
        db.session, "annan@redaktion.se", StaffRole.EDITOR, tenant_b.organisation, None, PASSWORD
    )
    for rows, author in ((own, editor), (foreign, other_editor)):
        draft = EditorDraft(guide_id="stod", module_id="valkommen", language="sv", author=author)
        draft.source, draft.problems, draft.comment = "", [], ""
        db.session.add(draft)
        db.session.flush()
        rows["draft"] = draft.id
        # Module versions are the whole library's, not a tenant's.
        rows["version"] = db.session.scalars(select(ModuleVersion.id)).first() or 0
    db.session.commit()
    staff = {STAFF: tenant_a.staff, ORG_ADMIN: tenant_a.admin, EDITOR: editor, ADMIN: admin}
    return World(own, foreign, staff, relative_a)


# -- calling a route as someone -----------------------------------------------------


@dataclass(frozen=True)
class Call:
    endpoint: str
    method: str
    path: str
    identity: str
    variant: str  # own | foreign:<param> | fuzz:<param>=<n> | plain


def _calls(app: Flask, world: World) -> Iterator[Call]:
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        access = ACCESS[rule.endpoint]
        for method, identity in itertools.product(
            sorted(rule.methods - {"HEAD", "OPTIONS"}), IDENTITIES
        ):
            for variant, ids in _variants(access, world):
                values = {**access.values, **ids}
                with app.test_request_context():
                    from flask import url_for

                    path = url_for(rule.endpoint, **values)
                yield Call(rule.endpoint, method, path, identity, variant)


def _variants(access: Access, world: World) -> Iterator[tuple[str, dict[str, Any]]]:
    if not access.ids:
        yield "plain", {}
        return
    own = {name: world.own[kind] for name, kind in access.ids.items()}
    yield "own", own
    for name, kind in access.ids.items():
        yield f"foreign:{name}", {**own, name: world.foreign[kind]}
    if len(access.ids) > 1:
        yield "foreign:all", {name: world.foreign[kind] for name, kind in access.ids.items()}
    for name in access.ids:
        for number in FUZZED_IDS:
            yield f"fuzz:{name}={number}", {**own, name: number}


def _client_for(app: Flask, world: World, call: Call, n: int) -> tuple[FlaskClient, dict[str, str]]:
    """A fresh client as `call.identity`: a session on the web, a bearer token on the API."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"
    headers: dict[str, str] = {}
    if call.identity == ANONYMOUS:
        return client, headers
    on_api = call.path.startswith("/api/")
    if call.identity == RELATIVE:
        if on_api:
            token = issue_api_token(db.session, utcnow(), relative_id=world.relative_a.id)
            headers["Authorization"] = f"Bearer {token}"
        else:
            log_in_relative(client, world.relative_a)
    else:
        staff = world.staff[call.identity]
        if on_api:
            token = issue_api_token(db.session, utcnow(), staff=staff)
            headers["Authorization"] = f"Bearer {token}"
        else:
            log_in_staff(client, staff)
    db.session.commit()
    return client, headers


def _send(client: FlaskClient, call: Call, headers: dict[str, str]) -> Any:
    if call.method == "GET":
        return client.get(call.path, headers=headers)
    if call.path.startswith("/api/"):
        return client.open(call.path, method=call.method, json={}, headers=headers)
    # A form post, as a browser sends it (and as the test client fills in its CSRF token).
    return client.post(call.path, data={"probe": "1"}, headers=headers)


def _refused(response: Any) -> bool:
    if response.status_code in (401, 403, 404):
        return True
    location = response.headers.get("Location", "")
    return response.status_code == 302 and "logga-in" in location


def _verdict(access: Access, call: Call, response: Any) -> str | None:
    """Return what is wrong with the answer, or None when it is the declared one."""
    status = response.status_code
    if status >= 500:
        return f"answered {status}"
    if access.capability:
        return None if status in (400, 404) else f"a wrong secret answered {status}"
    allowed = call.identity in access.who
    if not allowed:
        return None if _refused(response) else f"not declared for {call.identity}, got {status}"
    if access.who == ANYONE:
        return None  # open to all: any answer but a 5xx (a login form may say 401)
    if call.variant in ("own", "plain") or (
        call.identity in access.all_tenants and call.variant.startswith("foreign")
    ):
        return (
            f"declared for {call.identity} but refused ({status})" if _refused(response) else None
        )
    if status in (403, 404) or (call.variant.startswith("fuzz") and status == 400):
        return None
    return f"someone else's or no row ({call.variant}) answered {status}"


# -- the tests ----------------------------------------------------------------------


def test_every_route_declares_who_may_call_it(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    undeclared = sorted(endpoints - set(ACCESS))
    stale = sorted(set(ACCESS) - endpoints)
    assert not undeclared, (
        f"declare who may call these in tests/test_authorization.py: {undeclared}"
    )
    assert not stale, f"these routes are gone; remove them from ACCESS: {stale}"
    for endpoint, access in ACCESS.items():
        rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
        named = set(access.ids) | set(access.values)
        assert named == set(rule.arguments), f"{endpoint}: parameters {sorted(rule.arguments)}"


def test_every_route_answers_every_identity_as_declared(app: Flask, world: World) -> None:
    problems: list[str] = []
    calls = list(_calls(app, world))
    for n, call in enumerate(calls):
        if call.endpoint in RESET_BEFORE:
            RESET_BEFORE[call.endpoint](world)
        client, headers = _client_for(app, world, call, n)
        response = _send(client, call, headers)
        problem = _verdict(ACCESS[call.endpoint], call, response)
        if problem:
            problems.append(
                f"{call.method} {call.path} as {call.identity} ({call.variant}): {problem}"
            )
        db.session.rollback()
    rules = [r for r in app.url_map.iter_rules()]
    operations = sum(len(r.methods - {"HEAD", "OPTIONS"}) for r in rules)
    fuzzed = sum(call.variant.startswith("fuzz") for call in calls)
    print(
        f"\nauthorization matrix: {len(rules)} routes, {operations} route-methods × "
        f"{len(IDENTITIES)} identities; {len(calls)} calls, {fuzzed} of them with fuzzed ids"
    )
    assert not problems, "\n".join(problems)
    assert len(calls) > operations * len(IDENTITIES)  # every route-method as every identity
