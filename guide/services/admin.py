"""Organisation admin: units and their card contact, staff invited by e-mail, accounts stopped.

An organisation admin manages their own organisation; the system admin creates
organisations with their first admin and is the only one who may invite an editor.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select

from guide.errors import GuideError
from guide.mail.outbox import queue_staff_message
from guide.models import Organisation, OutboxMessage, StaffRole, StaffUser, Unit
from guide.models.base import DbSession
from guide.services.accounts import create_organisation, create_staff, create_unit, deactivate_staff
from guide.services.audit import record_audit

MAX_CONTACT = 300
MAX_NAME = 200


class AdminError(GuideError):
    """Something an admin asked for that cannot be done; the sentence says what to do."""

    @classmethod
    def name_missing(cls) -> AdminError:
        return cls("name_missing", "Skriv ett namn.", field="name")

    @classmethod
    def name_too_long(cls) -> AdminError:
        return cls("name_too_long", f"Skriv högst {MAX_NAME} tecken.", field="name")

    @classmethod
    def contact_too_long(cls) -> AdminError:
        return cls(
            "contact_too_long",
            f"Kontakten får plats på kortet med högst {MAX_CONTACT} tecken.",
            field="contact",
        )

    @classmethod
    def role_forbidden(cls) -> AdminError:
        return cls(
            "role_forbidden", "Du kan inte ge den rollen. Välj personal eller administratör.", 403
        )

    @classmethod
    def role_invalid(cls) -> AdminError:
        return cls("role_invalid", "Välj en roll.", field="role")

    @classmethod
    def unit_required(cls) -> AdminError:
        return cls("unit_required", "Välj vilken enhet personen arbetar på.", field="unit")

    @classmethod
    def not_yours(cls) -> AdminError:
        return cls("not_found", "Kontot finns inte i din organisation.", 404)

    @classmethod
    def not_yourself(cls) -> AdminError:
        return cls(
            "not_yourself",
            "Du kan inte stänga av ditt eget konto. Be en annan administratör.",
            409,
        )


def _clean_name(name: str) -> str:
    text = " ".join(name.split())
    if not text:
        raise AdminError.name_missing()
    if len(text) > MAX_NAME:
        raise AdminError.name_too_long()
    return text


def _clean_contact(contact: str) -> str:
    text = " ".join(contact.split())
    if len(text) > MAX_CONTACT:
        raise AdminError.contact_too_long()
    return text


def roles_granted_by(inviter: StaffUser) -> tuple[StaffRole, ...]:
    """Return the roles `inviter` may give: editors only by the system admin."""
    if inviter.role == StaffRole.ADMIN:
        return (StaffRole.STAFF, StaffRole.ORG_ADMIN, StaffRole.EDITOR)
    if inviter.role == StaffRole.ORG_ADMIN:
        return (StaffRole.STAFF, StaffRole.ORG_ADMIN)
    return ()


def add_unit(
    session: DbSession, organisation: Organisation, slug: str, name: str, contact: str = ""
) -> Unit:
    """Create a unit; its contact text is printed on the cards it issues."""
    return create_unit(session, organisation, slug, _clean_name(name), _clean_contact(contact))


def change_unit(session: DbSession, unit: Unit, name: str, contact: str) -> Unit:
    """Rename a unit and set its contact text (cards printed from now on show it)."""
    unit.name = _clean_name(name)
    unit.contact = _clean_contact(contact)
    session.flush()
    return unit


def units_of(session: DbSession, organisation_id: int) -> Sequence[Unit]:
    return session.scalars(
        select(Unit).where(Unit.organisation_id == organisation_id).order_by(Unit.name, Unit.id)
    ).all()


def staff_of(session: DbSession, organisation_id: int) -> Sequence[StaffUser]:
    return session.scalars(
        select(StaffUser)
        .where(StaffUser.organisation_id == organisation_id)
        .order_by(StaffUser.deactivated_at.is_not(None), StaffUser.email)
    ).all()


def invite_staff(
    session: DbSession,
    inviter: StaffUser,
    organisation: Organisation | None,
    email: str,
    role: StaffRole,
    unit: Unit | None,
    now: datetime,
) -> tuple[StaffUser, OutboxMessage]:
    """Create an account and queue the mail with its one-time password link; the caller commits.

    An organisation admin invites staff of one of the organisation's units and other
    organisation admins; only the system admin invites editors.
    """
    if role not in roles_granted_by(inviter):
        raise AdminError.role_forbidden()
    if role is StaffRole.STAFF and unit is None:
        raise AdminError.unit_required()
    if role is not StaffRole.STAFF:
        unit = None
    account = create_staff(session, email, role, organisation, unit)
    message = queue_staff_message(
        session,
        kind="staff_invite",
        recipient_email=account.email,
        key=f"staff_invite:{account.id}",
        payload={"staff_id": account.id, "organisation": organisation.name if organisation else ""},
        now=now,
    )
    _audit(session, inviter, "staff_invited", account, now, role.value)
    return account, message


def create_organisation_with_admin(
    session: DbSession,
    inviter: StaffUser,
    slug: str,
    name: str,
    admin_email: str,
    now: datetime,
) -> tuple[Organisation, StaffUser, OutboxMessage]:
    """Create an organisation and invite its first organisation admin (system admin only)."""
    if inviter.role != StaffRole.ADMIN:
        raise AdminError.role_forbidden()
    organisation = create_organisation(session, slug, _clean_name(name))
    admin, message = invite_staff(
        session, inviter, organisation, admin_email, StaffRole.ORG_ADMIN, None, now
    )
    return organisation, admin, message


def stop_account(session: DbSession, by: StaffUser, account: StaffUser, now: datetime) -> StaffUser:
    """Deactivate an account of the admin's organisation: sessions and tokens stop at once.

    Its history (batches it issued, notes it wrote, audit rows) stays.
    """
    if by.role != StaffRole.ADMIN and account.organisation_id != by.organisation_id:
        raise AdminError.not_yours()
    if account.role == StaffRole.ADMIN and by.role != StaffRole.ADMIN:
        raise AdminError.not_yours()
    if account.id == by.id:
        raise AdminError.not_yourself()
    deactivate_staff(session, account, now)
    _audit(session, by, "staff_deactivated", account, now)
    return account


def _audit(
    session: DbSession,
    by: StaffUser,
    action: str,
    account: StaffUser,
    now: datetime,
    detail: str | None = None,
) -> None:
    record_audit(session, by, action, "staff_user", account.id, now, detail)
    session.flush()
