"""Organisations, units and staff accounts: creating them and checking passwords."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from flask import current_app, has_app_context
from sqlalchemy import select, update

from guide.errors import N_, GuideError
from guide.models import ApiToken, Organisation, StaffRole, StaffUser, Unit
from guide.models.base import DbSession

# Argon2id with the library's defaults (RFC 9106 low-memory profile): memory-hard.
# GUIDE_ARGON2_* may change the cost (the tests lower it to stay fast).
_default_hasher = PasswordHasher()


def _hasher() -> PasswordHasher:
    params = current_app.config.get("ARGON2_PARAMS") if has_app_context() else None
    return PasswordHasher(**params) if params else _default_hasher


RELATIVE_TOKEN_LIFETIME = timedelta(days=90)
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
MIN_PASSWORD_LENGTH = 12


class AccountError(GuideError):
    """Something about an organisation, unit or staff account cannot be done.

    Operators meet most of these at the command line, hence the English wording;
    what a relative or staff member meets on a page is Swedish.
    """

    @classmethod
    def email_invalid(cls, raw: str) -> AccountError:
        return cls(
            "email_invalid",
            N_("'%(raw)s' är ingen giltig e-postadress.", raw=raw[:100]),
            field="email",
        )

    @classmethod
    def password_too_short(cls, minimum: int) -> AccountError:
        return cls(
            "password_too_short",
            N_("Lösenordet behöver minst %(minimum)s tecken.", minimum=minimum),
            field="password",
        )

    @classmethod
    def passwords_differ(cls) -> AccountError:
        return cls(
            "passwords_differ",
            N_("Lösenorden är inte lika. Skriv samma lösenord två gånger."),
            field="password2",
        )

    @classmethod
    def slug_invalid(cls, slug: str) -> AccountError:
        return cls("slug_invalid", f"'{slug}' can only use a-z, 0-9 and '-'.", field="slug")

    @classmethod
    def organisation_exists(cls, slug: str) -> AccountError:
        return cls("organisation_exists", f"An organisation '{slug}' already exists.", 409)

    @classmethod
    def no_organisation(cls, slug: str) -> AccountError:
        return cls(
            "organisation_unknown",
            f"There is no organisation '{slug}'. Create it with guide org create.",
            404,
        )

    @classmethod
    def unit_exists(cls, organisation: str, slug: str) -> AccountError:
        return cls("unit_exists", f"{organisation} already has a unit '{slug}'.", 409)

    @classmethod
    def no_unit(cls, organisation: str, slug: str) -> AccountError:
        return cls("unit_unknown", f"{organisation} has no unit '{slug}'.", 404)

    @classmethod
    def staff_exists(cls, address: str) -> AccountError:
        return cls("staff_exists", f"There is already an account for {address}.", 409)

    @classmethod
    def organisation_required(cls, role: str) -> AccountError:
        return cls(
            "organisation_required", f"A {role} account belongs to an organisation: give --org."
        )

    @classmethod
    def unit_required(cls) -> AccountError:
        return cls("unit_required", "A staff account belongs to a unit: give --unit.")

    @classmethod
    def unit_elsewhere(cls) -> AccountError:
        return cls("unit_elsewhere", "The unit belongs to another organisation.")


def normalise_email(raw: str) -> str:
    """Return the address in the one form we store and compare, or raise AccountError.

    email-validator knows RFC 5321/5322 far better than a regular expression: it
    refuses `<script>@x.se`, quoted and non-ASCII local parts (which Flask-Mail could
    not put in RCPT TO), and domains that cannot exist; it does not look up DNS.
    """
    try:
        checked = validate_email(
            raw.strip(), check_deliverability=False, allow_smtputf8=False, allow_quoted_local=False
        )
    except EmailNotValidError:
        raise AccountError.email_invalid(raw) from None
    return checked.normalized.lower()


def address_key(raw: str) -> str:
    """Return the form to look up, count or limit an address by, valid or not; never raise."""
    try:
        return normalise_email(raw)
    except AccountError:
        return raw.strip().lower()[:320]


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(staff: StaffUser, password: str) -> bool:
    """Return whether the password is right; a staff member without one never logs in."""
    if not staff.password_hash:
        # Spend the same time as a real check so a missing account is not visible.
        _hasher().hash(password)
        return False
    try:
        return _hasher().verify(staff.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError.password_too_short(MIN_PASSWORD_LENGTH)


def create_organisation(session: DbSession, slug: str, name: str) -> Organisation:
    if not SLUG.match(slug):
        raise AccountError.slug_invalid(slug)
    if session.scalar(select(Organisation).where(Organisation.slug == slug)):
        raise AccountError.organisation_exists(slug)
    organisation = Organisation(slug=slug, name=name.strip())
    session.add(organisation)
    session.flush()
    return organisation


def get_organisation(session: DbSession, slug: str) -> Organisation:
    organisation = session.scalar(select(Organisation).where(Organisation.slug == slug))
    if organisation is None:
        raise AccountError.no_organisation(slug)
    return organisation


def create_unit(
    session: DbSession, organisation: Organisation, slug: str, name: str, contact: str = ""
) -> Unit:
    if not SLUG.match(slug):
        raise AccountError.slug_invalid(slug)
    exists = session.scalar(
        select(Unit).where(Unit.organisation_id == organisation.id, Unit.slug == slug)
    )
    if exists:
        raise AccountError.unit_exists(organisation.slug, slug)
    unit = Unit(organisation=organisation, slug=slug, name=name.strip(), contact=contact.strip())
    session.add(unit)
    session.flush()
    return unit


def get_unit(session: DbSession, organisation: Organisation, slug: str) -> Unit:
    unit = session.scalar(
        select(Unit).where(Unit.organisation_id == organisation.id, Unit.slug == slug)
    )
    if unit is None:
        raise AccountError.no_unit(organisation.slug, slug)
    return unit


def create_staff(
    session: DbSession,
    email: str,
    role: StaffRole,
    organisation: Organisation | None = None,
    unit: Unit | None = None,
    password: str | None = None,
) -> StaffUser:
    """Create a staff account; editors and admins may stand outside any organisation."""
    address = normalise_email(email)
    if session.scalar(select(StaffUser).where(StaffUser.email == address)):
        raise AccountError.staff_exists(address)
    if role in (StaffRole.STAFF, StaffRole.ORG_ADMIN) and organisation is None:
        raise AccountError.organisation_required(role.value)
    if role is StaffRole.STAFF and unit is None:
        raise AccountError.unit_required()
    if unit is not None and organisation is not None and unit.organisation_id != organisation.id:
        raise AccountError.unit_elsewhere()
    staff = StaffUser(
        email=address,
        role=role,
        organisation=organisation,
        unit=unit,
        password_hash=hash_password(password) if password else None,
    )
    session.add(staff)
    session.flush()
    return staff


def hash_token(token: str) -> str:
    """Store tokens as SHA-256: they are long random values, so a fast hash is enough."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def issue_api_token(
    session: DbSession,
    now: datetime,
    staff: StaffUser | None = None,
    relative_id: int | None = None,
    lifetime: timedelta | None = None,
    address_proved: bool = True,
) -> str:
    """Create a bearer token for a staff member or a relative; return it (shown once).

    Every token expires: a staff member's after GUIDE_STAFF_TOKEN_DAYS, a
    relative's after RELATIVE_TOKEN_LIFETIME, unless `lifetime` says otherwise.
    """
    if lifetime is None:
        lifetime = staff_token_lifetime() if staff is not None else RELATIVE_TOKEN_LIFETIME
    token = secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            token_hash=hash_token(token),
            staff_user=staff,
            relative_id=relative_id,
            created_at=now,
            expires_at=now + lifetime,
            address_proved=address_proved,
        )
    )
    session.flush()
    return token


def staff_token_lifetime() -> timedelta:
    """How long a staff member's API token lives (GUIDE_STAFF_TOKEN_DAYS, default 90)."""
    days = current_app.config["GUIDE_STAFF_TOKEN_DAYS"] if has_app_context() else 90
    return timedelta(days=days)


def revoke_api_tokens(
    session: DbSession,
    now: datetime,
    staff: StaffUser | None = None,
    relative_id: int | None = None,
) -> int:
    """Revoke every live API token of a staff member or a relative; return how many."""
    query = update(ApiToken).where(ApiToken.revoked_at.is_(None)).values(revoked_at=now)
    if staff is not None:
        query = query.where(ApiToken.staff_user_id == staff.id)
    elif relative_id is not None:
        query = query.where(ApiToken.relative_id == relative_id)
    else:
        raise ValueError("whose tokens? give staff or relative_id")
    return session.execute(query).rowcount  # type: ignore[attr-defined, no-any-return]


def deactivate_staff(session: DbSession, staff: StaffUser, now: datetime) -> None:
    """Stop a staff account at once: no login, its sessions end, its API tokens stop."""
    if staff.deactivated_at is None:
        staff.deactivated_at = now
    staff.session_version += 1
    revoke_api_tokens(session, now, staff=staff)
    session.flush()
