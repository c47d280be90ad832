"""'Din kontaktperson': one named staff member a relative can turn to, and what they show.

A staff member who takes a case becomes the relative's contact person in that
enrolment; staff of the same unit can hand it to a colleague. Relatives see only what
the staff member chose to show in their own profile (a name, a role, a phone number or
hours), and only with the consent to be contacted; otherwise, and while nobody is
named, they see the unit's contact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from guide.models import (
    Alert,
    ContactPerson,
    Enrolment,
    StaffProfile,
    StaffRole,
    StaffUser,
)
from guide.models.base import DbSession
from guide.services.followup import CLOSED, FollowupError, _note
from guide.services.journey import record_event

MAX_NAME = 100
MAX_ROLE = 100
MAX_REACH = 200


@dataclass(frozen=True)
class ShownContact:
    """What a relative sees under "Din kontaktperson"."""

    name: str
    role: str
    reach: str
    personal: bool  # a named staff member, not the unit's contact

    def as_json(self) -> dict[str, str]:
        return {"name": self.name, "role": self.role, "reach": self.reach}


def profile_of(session: DbSession, staff: StaffUser) -> StaffProfile:
    """Return the staff member's profile, an empty one if they never filled it in."""
    profile = session.get(StaffProfile, staff.id)
    if profile is None:
        profile = StaffProfile(staff_user_id=staff.id, display_name="", role="", reach="")
    return profile


def save_profile(
    session: DbSession, staff: StaffUser, display_name: str, role: str, reach: str
) -> StaffProfile:
    """Store what the staff member wants relatives to see of them."""
    values = {"display_name": display_name, "role": role, "reach": reach}
    limits = {"display_name": MAX_NAME, "role": MAX_ROLE, "reach": MAX_REACH}
    cleaned = {key: " ".join(value.split()) for key, value in values.items()}
    for key, value in cleaned.items():
        if len(value) > limits[key]:
            raise FollowupError.too_long(key, limits[key])
    if not cleaned["display_name"]:
        raise ProfileError.name_missing()
    profile = session.get(StaffProfile, staff.id)
    if profile is None:
        profile = StaffProfile(staff_user_id=staff.id)
        session.add(profile)
    profile.display_name = cleaned["display_name"]
    profile.role = cleaned["role"]
    profile.reach = cleaned["reach"]
    return profile


class ProfileError(FollowupError):
    @classmethod
    def name_missing(cls) -> ProfileError:
        return cls(
            "name_missing",
            "Skriv det namn som anhöriga ska se, till exempel ditt förnamn.",
            field="display_name",
        )

    @classmethod
    def not_in_unit(cls) -> ProfileError:
        return cls(
            "staff_not_in_unit",
            "Välj någon som arbetar på enheten som gav den anhörige kortet.",
            field="staff",
        )


def may_be_contact_person(staff: StaffUser, enrolment: Enrolment) -> bool:
    """Only active staff of the unit that issued the card can be its relative's contact."""
    return (
        staff.active
        and staff.role in (StaffRole.STAFF, StaffRole.ORG_ADMIN)
        and staff.organisation_id == enrolment.organisation_id
        and staff.unit_id == enrolment.unit_id
    )


def contact_person_of(session: DbSession, enrolment: Enrolment) -> StaffUser | None:
    row = session.get(ContactPerson, enrolment.id)
    return row.staff if row is not None else None


def set_contact_person(
    session: DbSession, by: StaffUser, enrolment: Enrolment, staff: StaffUser, now: datetime
) -> ContactPerson:
    """Make `staff` the relative's contact person; the case's open alerts go to them."""
    if not may_be_contact_person(staff, enrolment):
        raise ProfileError.not_in_unit()
    row = session.get(ContactPerson, enrolment.id)
    if row is None:
        row = ContactPerson(enrolment_id=enrolment.id, staff_user_id=staff.id)
        session.add(row)
    row.staff_user_id = staff.id
    row.staff = staff
    row.set_at = now
    row.set_by_staff_id = by.id
    for alert in session.scalars(
        select(Alert).where(Alert.enrolment_id == enrolment.id, Alert.status != CLOSED)
    ):
        alert.assigned_staff_id = staff.id
    record_event(session, enrolment, "contact_person_set", now, staff=staff.id)
    return row


def take_case(session: DbSession, staff: StaffUser, alert: Alert, now: datetime) -> Alert:
    """Take the case: the caller becomes the relative's contact person and owns the case."""
    if alert.status == CLOSED:
        raise FollowupError.closed()
    set_contact_person(session, staff, alert.enrolment, staff, now)
    alert.assigned_staff_id = staff.id
    _note(alert, staff, "taken", "", now)
    return alert


def colleagues_for(session: DbSession, enrolment: Enrolment) -> list[StaffUser]:
    """Return who may be the relative's contact person, by e-mail address."""
    return [
        staff
        for staff in session.scalars(
            select(StaffUser)
            .where(
                StaffUser.unit_id == enrolment.unit_id,
                StaffUser.organisation_id == enrolment.organisation_id,
                StaffUser.deactivated_at.is_(None),
            )
            .order_by(StaffUser.email)
        )
        if may_be_contact_person(staff, enrolment)
    ]


def contact_shown(
    unit_name: str,
    unit_contact: str,
    named: tuple[str, str, str] | None,
    contact_consent: bool,
) -> ShownContact:
    """Return what a relative sees as their contact.

    `named` is what an active named contact person shows of themselves (display name,
    role, reach), or None. It is shown with the consent to be contacted and once they
    filled in a name; else the unit's contact.
    """
    if named is not None and named[0] and contact_consent:
        return ShownContact(*named, personal=True)
    return ShownContact(unit_name, "", unit_contact, False)
