"""The rules of what Min guide shows, applied to mapped objects: the tests' second reader.

The product reads these facts as rows (`guide.services.reading`); the tests read them
from the ORM objects and apply the same rule functions, so a test that compares the
two checks that the rows say what the objects hold.
"""

from __future__ import annotations

from guide.models import ConsentPurpose, Enrolment, FollowupCall
from guide.services.contact_person import ShownContact, contact_shown
from guide.services.followup_calls import OFFERED, offers_call


def shown_contact(enrolment: Enrolment) -> ShownContact:
    """Return what the relative sees as their contact in `enrolment`."""
    named = enrolment.contact_person
    staff = named.staff if named is not None else None
    profile = named.profile if named is not None and staff is not None and staff.active else None
    return contact_shown(
        enrolment.unit.name,
        enrolment.unit.contact,
        (profile.display_name, profile.role, profile.reach) if profile is not None else None,
        enrolment.relative.consent(ConsentPurpose.CONTACT),
    )


def call_offer(enrolment: Enrolment) -> FollowupCall | None:
    """Return the call Min guide offers the relative, if one waits for an answer."""
    offered = [call for call in enrolment.followup_calls if call.outcome == OFFERED]
    consent = enrolment.relative.consent(ConsentPurpose.CONTACT)
    return offered[-1] if offers_call(bool(offered), consent) else None
