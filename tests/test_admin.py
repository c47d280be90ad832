"""Organisation admin: units and their card contact, inviting and stopping staff, the system admin."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from guide.extensions import db
from guide.models import AuditLog, Organisation, StaffRole, StaffUser, Unit
from guide.services.accounts import create_staff
from tests.checkin_support import log_in_staff
from tests.factories import PASSWORD, Tenant, make_tenant, sent_mail, staff_token


@pytest.fixture
def tenant(app: Flask) -> Tenant:
    return make_tenant()


def _system_admin() -> StaffUser:
    admin = create_staff(db.session, "system@lots.se", StaffRole.ADMIN, None, None, PASSWORD)
    db.session.commit()
    return admin


def test_an_org_admin_creates_and_renames_a_unit_with_its_card_contact(
    client: FlaskClient, tenant: Tenant
) -> None:
    log_in_staff(client, tenant.admin)
    answer = client.post(
        "/admin/enheter",
        data={"slug": "demensteam", "name": "Demensteamet", "contact": "Ring teamet, vardagar"},
    )
    assert answer.status_code == 302
    unit = db.session.scalar(select(Unit).where(Unit.slug == "demensteam"))
    assert unit is not None and unit.organisation_id == tenant.organisation.id
    assert unit.contact == "Ring teamet, vardagar"

    answer = client.post(
        f"/admin/enheter/{unit.id}", data={"name": "Demensteamet Norr", "contact": "Ring oss"}
    )
    assert answer.status_code == 302
    db.session.expire_all()
    assert (unit.name, unit.contact) == ("Demensteamet Norr", "Ring oss")
    assert "Demensteamet Norr" in client.get("/admin/").get_data(as_text=True)


def test_a_unit_needs_a_name_and_a_valid_slug_and_the_error_sits_at_the_field(
    client: FlaskClient, tenant: Tenant
) -> None:
    log_in_staff(client, tenant.admin)
    answer = client.post("/admin/enheter", data={"slug": "Inte OK", "name": "X"})
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    assert (
        'id="unit-slug-error"' in page
        and 'aria-describedby="unit-slug-hint unit-slug-error"' in page
    )
    answer = client.post(f"/admin/enheter/{tenant.unit.id}", data={"name": "  ", "contact": ""})
    assert answer.status_code == 400
    assert f'id="unit-{tenant.unit.id}-name-error"' in answer.get_data(as_text=True)


def test_an_org_admin_cannot_touch_another_organisations_unit(
    client: FlaskClient, tenant: Tenant
) -> None:
    other = make_tenant("grannkommunen")
    log_in_staff(client, tenant.admin)
    answer = client.post(f"/admin/enheter/{other.unit.id}", data={"name": "Kapad", "contact": ""})
    assert answer.status_code == 404
    db.session.expire_all()
    assert other.unit.name == "Anhörigstöd"


def test_an_invited_colleague_gets_a_mail_whose_link_sets_the_password_once(
    client: FlaskClient, tenant: Tenant
) -> None:
    log_in_staff(client, tenant.admin)
    answer = client.post(
        "/admin/personal",
        data={"email": "Ny.Kollega@Kommunen.se", "role": "staff", "unit": str(tenant.unit.id)},
    )
    assert answer.status_code == 302
    account = db.session.scalar(
        select(StaffUser).where(StaffUser.email == "ny.kollega@kommunen.se")
    )
    assert account is not None and account.unit_id == tenant.unit.id
    assert account.role == StaffRole.STAFF and account.password_hash is None
    [mail] = sent_mail("ny.kollega@kommunen.se")
    link = re.search(r"http://lots\.test(/personal/losenord/\S+)", mail.text_body)
    assert link, mail.text_body
    path = link.group(1)
    new_client = client.application.test_client()
    assert new_client.get(path).status_code == 200
    done = new_client.post(
        path, data={"password": "ett-nytt-langt-losenord", "password2": "ett-nytt-langt-losenord"}
    )
    assert done.status_code == 302
    assert new_client.get(path).status_code == 404  # the link works once
    login = new_client.post(
        "/personal/logga-in",
        data={"email": "ny.kollega@kommunen.se", "password": "ett-nytt-langt-losenord"},
    )
    assert login.status_code == 302
    audit = db.session.scalar(select(AuditLog).where(AuditLog.action == "staff_invited"))
    assert audit is not None and audit.target_id == account.id


def test_unit_staff_must_be_invited_to_one_of_the_organisations_units(
    client: FlaskClient, tenant: Tenant
) -> None:
    other = make_tenant("grannkommunen")
    log_in_staff(client, tenant.admin)
    answer = client.post(
        "/admin/personal",
        data={"email": "x@kommunen.se", "role": "staff", "unit": str(other.unit.id)},
    )
    assert answer.status_code == 400
    assert (
        client.post("/admin/personal", data={"email": "x@kommunen.se", "role": "staff"}).status_code
        == 400
    )
    assert db.session.scalar(select(StaffUser).where(StaffUser.email == "x@kommunen.se")) is None


def test_only_the_system_admin_may_invite_an_editor(client: FlaskClient, tenant: Tenant) -> None:
    log_in_staff(client, tenant.admin)
    answer = client.post("/admin/personal", data={"email": "red@kommunen.se", "role": "editor"})
    assert answer.status_code == 403
    assert 'value="editor"' not in client.get("/admin/").get_data(as_text=True)
    system = client.application.test_client()
    log_in_staff(system, _system_admin())
    assert 'value="editor"' in system.get("/admin/").get_data(as_text=True)
    answer = system.post("/admin/personal", data={"email": "red@lots.se", "role": "editor"})
    assert answer.status_code == 302
    editor = db.session.scalar(select(StaffUser).where(StaffUser.email == "red@lots.se"))
    assert editor is not None and editor.role == StaffRole.EDITOR and editor.organisation is None
    assert sent_mail("red@lots.se")


def test_a_deactivated_colleague_is_stopped_at_once_on_the_web_and_the_api(
    client: FlaskClient, tenant: Tenant
) -> None:
    colleague = client.application.test_client()
    log_in_staff(colleague, tenant.staff)
    headers = staff_token(tenant.staff)
    assert colleague.get("/personal/kort").status_code == 200
    assert client.get("/api/v1/cards", headers=headers).status_code == 200

    log_in_staff(client, tenant.admin)
    assert client.post(f"/admin/personal/{tenant.staff.id}/stang-av").status_code == 302
    assert colleague.get("/personal/kort").status_code == 302  # back to the login page
    assert client.get("/api/v1/cards", headers=headers).status_code == 401
    login = colleague.post(
        "/personal/logga-in", data={"email": tenant.staff.email, "password": PASSWORD}
    )
    assert login.status_code == 403
    db.session.expire_all()
    assert db.session.get(StaffUser, tenant.staff.id) is not None  # history stays
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "staff_deactivated"))


def test_an_admin_cannot_deactivate_themselves_or_another_organisations_staff(
    client: FlaskClient, tenant: Tenant
) -> None:
    other = make_tenant("grannkommunen")
    log_in_staff(client, tenant.admin)
    assert client.post(f"/admin/personal/{other.staff.id}/stang-av").status_code == 404
    answer = client.post(f"/admin/personal/{tenant.admin.id}/stang-av")
    assert answer.status_code == 302  # back to the page, with the sentence flashed
    db.session.expire_all()
    assert tenant.admin.active and other.staff.active


def test_the_system_admin_lands_on_the_organisations_and_creates_one_with_its_admin(
    client: FlaskClient, tenant: Tenant
) -> None:
    admin = _system_admin()
    login = client.post("/personal/logga-in", data={"email": admin.email, "password": PASSWORD})
    assert login.headers["Location"].endswith("/admin/")
    page = client.get("/admin/")
    assert page.status_code == 200 and tenant.organisation.name in page.get_data(as_text=True)
    answer = client.post(
        "/admin/organisationer",
        data={"slug": "nykommun", "name": "Nya kommunen", "email": "chef@nykommun.se"},
    )
    assert answer.status_code == 302
    organisation = db.session.scalar(select(Organisation).where(Organisation.slug == "nykommun"))
    assert organisation is not None
    first = db.session.scalar(select(StaffUser).where(StaffUser.email == "chef@nykommun.se"))
    assert first is not None and first.role == StaffRole.ORG_ADMIN
    assert first.organisation_id == organisation.id
    [mail] = sent_mail("chef@nykommun.se")
    assert "Nya kommunen" in mail.text_body and "/personal/losenord/" in mail.text_body
    assert client.get("/admin/e-post/").status_code == 200


def test_an_org_admin_cannot_create_organisations(client: FlaskClient, tenant: Tenant) -> None:
    log_in_staff(client, tenant.admin)
    answer = client.post(
        "/admin/organisationer", data={"slug": "egen", "name": "Egen", "email": "a@egen.se"}
    )
    assert answer.status_code == 403
    assert db.session.scalar(select(Organisation).where(Organisation.slug == "egen")) is None
