"""The database tables, as typed SQLAlchemy 2 models, grouped by the part of the product they serve."""

from guide.models.accounts import ApiToken, Organisation, StaffRole, StaffUser, Unit
from guide.models.cards import Card, CardBatch, CardStatus
from guide.models.content import LocalFactValue, ModuleVersion
from guide.models.editor import DraftState, EditorDraft, ModulePublication
from guide.models.followup import (
    Alert,
    AlertNote,
    AuditLog,
    ContactPerson,
    FollowupCall,
    StaffProfile,
)
from guide.models.journey import (
    CheckinInstance,
    Enrolment,
    Event,
    NeedTick,
    PhaseVisitRow,
    Release,
)
from guide.models.mail import CapturedMail, OutboxMessage
from guide.models.relatives import (
    Consent,
    ConsentPurpose,
    LoginLinkRequest,
    LoginToken,
    Relative,
)

__all__ = [
    "Alert",
    "AlertNote",
    "ApiToken",
    "AuditLog",
    "CapturedMail",
    "Card",
    "CardBatch",
    "CardStatus",
    "CheckinInstance",
    "Consent",
    "ConsentPurpose",
    "ContactPerson",
    "DraftState",
    "EditorDraft",
    "Enrolment",
    "Event",
    "FollowupCall",
    "LocalFactValue",
    "LoginLinkRequest",
    "LoginToken",
    "ModulePublication",
    "ModuleVersion",
    "NeedTick",
    "Organisation",
    "OutboxMessage",
    "PhaseVisitRow",
    "Relative",
    "Release",
    "StaffProfile",
    "StaffRole",
    "StaffUser",
    "Unit",
]
