"""The API's request bodies as pydantic models: one source for validation and the OpenAPI document.

Each route reads its body with `parse_body(Model)`, and documents it with
`json_body(Model)` (guide/api/openapi.py), so what the document promises and what
the route accepts cannot drift apart. Before pydantic sees a body it must be JSON
that a database can hold: an object, finite numbers, at most `MAX_DEPTH` levels,
no NUL characters (PostgreSQL refuses them in text). Every refusal is a 400 with
`{error, message, field}`, never a 500.
"""

from __future__ import annotations

import json
import math
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from flask import request
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr
from pydantic import ValidationError as PydanticValidationError

from guide.api.auth import ApiError
from guide.errors import N_, Sentence
from guide.extensions import db
from guide.models import Enrolment, Relative
from guide.services.reading import enrolments_of

MAX_DEPTH = 16
# Ids are 32-bit integers in the database (PostgreSQL's INTEGER).
MAX_ID = 2**31 - 1

M = TypeVar("M", bound="Body")

Id = Annotated[StrictInt, Field(ge=1, le=MAX_ID)]
Text = Annotated[StrictStr, Field(max_length=2000)]
ShortText = Annotated[StrictStr, Field(max_length=320)]


class Body(BaseModel):
    """A request body: unknown fields are refused, and types are not guessed ("1" is no 1)."""

    model_config = ConfigDict(extra="forbid")
    # field -> the sentence a wrong value gets; the rest get a general one. Sentences, so
    # the API answers them in the reader's language (guide.api.errors).
    messages: ClassVar[dict[str, Sentence]] = {}


class Consents(Body):
    service: StrictBool = Field(False, description="the service itself; required to enrol")
    contact: StrictBool = Field(False, description="being contacted by the unit's staff")
    statistics: StrictBool = Field(False, description="anonymous statistics")


class ActivationBody(Body):
    code: ShortText = Field(examples=["DEM-7KQ4-M2XP-9ABZ"])
    email: ShortText = Field(json_schema_extra={"format": "email"})
    language: Literal["sv", "en"] = "sv"
    profile: dict[str, Any] = Field(
        default_factory=dict, description="question id -> answer; a date is YYYY-MM-DD"
    )
    consents: Consents = Field(default_factory=Consents)

    messages: ClassVar[dict[str, Sentence]] = {
        "code": N_("Skriv koden från kortet som en text, till exempel DEM-7KQ4-M2XP-9ABZ."),
        "email": N_("Skriv en e-postadress som ser ut som namn@exempel.se."),
        "language": N_("language är sv eller en."),
        "profile": N_("profile är ett objekt med svar per fråga."),
        "consents": N_('consents är ett objekt som {"service": true}.'),
    }


class LoginLinkBody(Body):
    email: ShortText

    messages: ClassVar[dict[str, Sentence]] = {"email": N_("Skriv din e-postadress som en text.")}


class TokenBody(Body):
    login_token: Annotated[StrictStr, Field(max_length=200)]

    messages: ClassVar[dict[str, Sentence]] = {
        "login_token": N_("Skicka token från inloggningslänken som login_token.")
    }


class CardBatchBody(Body):
    unit: Annotated[StrictStr, Field(max_length=64, description="unit slug")]
    guide: Annotated[StrictStr, Field(max_length=64)]
    count: Annotated[StrictInt, Field(ge=1, le=10000)]
    phase: Annotated[StrictStr, Field(max_length=64)] | None = None
    expires: (
        Annotated[
            StrictStr,
            Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", json_schema_extra={"format": "date"}),
        ]
        | None
    ) = Field(None, description="the last day the cards work, YYYY-MM-DD")

    messages: ClassVar[dict[str, Sentence]] = {
        "count": N_("count är ett heltal mellan 1 och 10000."),
        "expires": N_("expires skrivs ÅÅÅÅ-MM-DD."),
    }


class CheckinAnswersBody(Body):
    answers: dict[str, Any] = Field(
        default_factory=dict, description="question id -> answer (null or left out: skipped)"
    )

    messages: ClassVar[dict[str, Sentence]] = {
        "answers": N_("answers är ett objekt med svar per fråga."),
    }


class ProfileBody(Body):
    profile: dict[str, Any] = Field(
        default_factory=dict,
        description="question id -> answer; a date is YYYY-MM-DD (null or left out: no answer)",
    )

    messages: ClassVar[dict[str, Sentence]] = {
        "profile": N_("profile är ett objekt med svar per fråga."),
    }


class NeedsBody(Body):
    module: Annotated[StrictStr, Field(min_length=1, max_length=64)]
    needs: Annotated[list[Annotated[StrictStr, Field(max_length=64)]], Field(max_length=50)]
    enrolment: Id | None = Field(None, description="only with several guides that share a module")

    messages: ClassVar[dict[str, Sentence]] = {
        "module": N_("Ange avsnittet i module."),
        "needs": N_("needs är en lista med behovens id."),
        "enrolment": N_("enrolment är id:t för en av dina guider."),
    }


class ContactRequestBody(Body):
    phone: Annotated[StrictStr, Field(max_length=40)] | None = None
    email: ShortText | None = Field(None, json_schema_extra={"format": "email"})
    message: Text | None = None
    consent: StrictBool = Field(False, description="consent to contact, given now")
    enrolment: Id | None = Field(None, description="default: the newest")

    messages: ClassVar[dict[str, Sentence]] = {
        "phone": N_("Skriv telefonnumret som en text, till exempel 070-123 45 67."),
        "email": N_("Skriv en e-postadress som ser ut som namn@exempel.se."),
        "message": N_("Meddelandet är en text på högst 2000 tecken."),
        "enrolment": N_("enrolment är id:t för en av dina guider."),
    }


class AlertNoteBody(Body):
    note: Text = ""

    messages: ClassVar[dict[str, Sentence]] = {"note": N_("note är en text på högst 2000 tecken.")}


class DraftBody(Body):
    guide: Annotated[StrictStr, Field(min_length=1, max_length=64)]
    module: Annotated[StrictStr, Field(min_length=1, max_length=100)]
    source: Annotated[StrictStr, Field(max_length=60000)] = Field(
        "", description="the module file's whole text: front matter and Markdown body"
    )
    base_version: Id | None = Field(
        description="the live version the text was written against; null for a new module"
    )
    language: Annotated[StrictStr, Field(max_length=8)] | None = Field(
        None, description="a translation's language; default: the guide's first"
    )
    retire: StrictBool = Field(False, description="retire the module (source is ignored)")

    messages: ClassVar[dict[str, Sentence]] = {
        "source": N_("source är modulfilens hela text, högst 60000 tecken."),
        "base_version": N_("base_version är id:t för versionen du utgick från, eller null."),
    }


class ReviewBody(Body):
    decision: Literal["approve", "reject"]
    comment: Text = ""

    messages: ClassVar[dict[str, Sentence]] = {"decision": N_("decision är approve eller reject.")}


class SimulateBody(Body):
    guide: Annotated[StrictStr, Field(min_length=1, max_length=64)]
    profile: dict[str, Any] = Field(default_factory=dict, description="question id -> answer")
    answers: dict[str, list[dict[str, Any] | None]] = Field(
        default_factory=dict,
        description="check-in id -> the answers given at each of its occurrences, in turn",
    )
    days: Annotated[StrictInt, Field(ge=1, le=730)] = 365
    start_phase: Annotated[StrictStr, Field(max_length=64)] | None = None
    include_drafts: StrictBool = False

    messages: ClassVar[dict[str, Sentence]] = {
        "days": N_("days är ett heltal mellan 1 och 730."),
        "answers": N_("answers är ett objekt: kontrollfråga -> lista med svar per tillfälle."),
    }


# -- reading a body -----------------------------------------------------------------


class LocalFactBody(Body):
    value: Text = Field(description="plain text; empty clears it (the fallback shows again)")
    unit: ShortText | None = Field(None, description="a unit's slug: that unit's override")

    messages: ClassVar[dict[str, Sentence]] = {
        "value": N_("Skriv värdet som text, högst 2000 tecken."),
        "unit": N_("Skriv enhetens kortnamn, till exempel anhorigstod."),
    }


class SettingsBody(Body):
    """PATCH /me/settings: only the fields given change."""

    language: Literal["sv", "en"] | None = Field(None, description="language of pages and mail")
    preferred_hour: Annotated[StrictInt, Field(ge=8, le=20)] | None = Field(
        None, description="local hour (08–20) at which modules and check-ins arrive"
    )
    full_text: StrictBool | None = Field(
        None, description="whole modules in e-mail (never for a sensitive guide)"
    )
    titles_in_email: StrictBool | None = Field(
        None, description="name a sensitive guide and its modules in e-mail"
    )
    paused: dict[Annotated[str, Field(pattern=r"^[1-9][0-9]{0,9}$")], StrictBool] | None = Field(
        None, description="enrolment id -> true to pause, false to resume"
    )

    messages: ClassVar[dict[str, Sentence]] = {
        "preferred_hour": N_("Välj en tid mellan klockan 8 och klockan 20."),
        "language": N_("Välj sv eller en."),
    }


class ConsentWithdrawalBody(Body):
    """DELETE /me/consents/<purpose>: only withdrawing the service (erasure) needs `confirm`."""

    confirm: Literal[True] | None = Field(None, description="true: needed for service")


class EraseBody(Body):
    """DELETE /me: erasing cannot be undone, so the body must say so."""

    confirm: Literal[True] = Field(description="must be true")

    messages: ClassVar[dict[str, Sentence]] = {
        "confirm": N_('Skicka {"confirm": true} för att radera kontot. Det går inte att ångra.'),
    }


def parse_body(model: type[M], *, optional: bool = False) -> M:
    """Return the request's JSON body as `model`, or raise the ApiError that says what is wrong.

    With `optional`, an empty body is an empty object.
    """
    raw = request.get_data(cache=True)
    if optional and not raw.strip():
        data: Any = {}
    else:
        data = _loads(raw)
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", N_("Skicka ett JSON-objekt, till exempel {}."))
    _check_storable(data)
    try:
        return model.model_validate(data)
    except PydanticValidationError as error:
        raise _refusal(model, error) from None


def _loads(raw: bytes) -> Any:
    try:
        return json.loads(raw, parse_constant=_no_constant, parse_float=_finite_float)
    except (ValueError, RecursionError):
        # json's own errors are ValueErrors; a very deep nesting hits the recursion limit.
        raise ApiError(
            400, "invalid_json", N_("Kroppen är inte giltig JSON. Skicka ett JSON-objekt.")
        ) from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("number out of range")
    return value


def _check_storable(data: Any) -> None:
    """Refuse nesting deeper than MAX_DEPTH and NUL characters anywhere, keys included."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                raise ApiError(
                    400, "invalid_text", N_("Texten innehåller ett otillåtet tecken (NUL).")
                )
            continue
        if isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise ApiError(
                    400,
                    "invalid_json",
                    N_("JSON-kroppen får vara högst %(depth)s nivåer djup.", depth=MAX_DEPTH),
                )
            items = list(value.items()) if isinstance(value, dict) else list(enumerate(value))
            for key, item in items:
                if isinstance(key, str) and "\x00" in key:
                    raise ApiError(
                        400, "invalid_text", N_("Texten innehåller ett otillåtet tecken (NUL).")
                    )
                stack.append((item, depth + 1))


def _refusal(model: type[Body], error: PydanticValidationError) -> ApiError:
    first = error.errors()[0]
    location = [str(part) for part in first["loc"]]
    field = location[0] if location else "body"
    if first["type"] == "extra_forbidden":
        return ApiError(
            400,
            "field_unknown",
            N_("Fältet %(field)s finns inte här. Se /api/v1/openapi.json.", field=field),
            field=field,
        )
    code = f"{field}_missing" if first["type"] == "missing" else f"{field}_invalid"
    message = model.messages.get(field) or (
        N_("Fältet %(field)s saknas.", field=field)
        if first["type"] == "missing"
        else N_("Fältet %(field)s har fel form.", field=field)
    )
    return ApiError(400, code, message, field=".".join(location) or field)


# -- query parameters ---------------------------------------------------------------


def query_id(name: str) -> int | None:
    """Return an id from the query string, None when absent; a 400 when it is no id of ours."""
    raw = request.args.get(name)
    if raw is None:
        return None
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_ID:
        raise ApiError(
            400,
            f"{name}_invalid",
            N_("%(name)s är ett heltal från 1 till %(most)s.", name=name, most=MAX_ID),
        )
    return int(raw)


def enrolments_named(relative: Relative, wanted: int | None) -> list[Enrolment]:
    """Return the enrolment named in the body, or all of the relative's, newest first."""
    enrolments = enrolments_of(db.session, relative)
    if wanted is None:
        return enrolments
    chosen = [e for e in enrolments if e.id == wanted]
    if not chosen:
        raise ApiError(404, "enrolment_not_found", N_("Guiden finns inte bland dina guider."))
    return chosen
