"""The database tables, as typed SQLAlchemy 2 models, grouped by the part of the product they serve."""

from guide.models.accounts import ApiToken, Organisation, StaffRole, StaffUser, Unit
from guide.models.content import LocalFactValue, ModuleVersion
from guide.models.mail import CapturedMail

__all__ = [
    "ApiToken",
    "CapturedMail",
    "LocalFactValue",
    "ModuleVersion",
    "Organisation",
    "StaffRole",
    "StaffUser",
    "Unit",
]
