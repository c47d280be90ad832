"""API for content editors: modules, drafts, four-eyes review, publishing, versions, diff, simulation."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, g, jsonify, request
from flask.typing import ResponseReturnValue

from guide.api import api
from guide.api.auth import ApiError, staff_token_required
from guide.api.bodies import DraftBody, ReviewBody, SimulateBody, parse_body
from guide.api.openapi import document, error_response, json_body, json_response, path_parameter
from guide.errors import N_
from guide.extensions import db
from guide.models import ModuleVersion, StaffRole
from guide.models.base import utcnow
from guide.services.drafts import (
    Workspace,
    draft_json,
    get_draft,
    live_version,
    publish_draft,
    review_draft,
    save_draft,
    submit_draft,
)
from guide.services.editor import module_overview, version_diff, versions_of
from guide.services.library import current_library
from guide.services.simulation import (
    guide_with_drafts,
    journey_timeline,
    relatives_reached,
)

ID_SCHEMA = {"type": "string", "maxLength": 100, "pattern": "^[a-z0-9][a-z0-9_-]*$"}
SECURITY: list[dict[str, list[str]]] = [{"bearer": []}]


def _document(path: str, method: str, spec: dict[str, Any]) -> None:
    """Document an editor operation: every one answers 403 to anyone but an editor."""
    responses = spec.setdefault("responses", {})
    responses.setdefault(
        "403", error_response("not an editor (or not the draft's author where it must be)")
    )
    responses.setdefault("404", error_response("guide_unknown, module_unknown or draft_not_found"))
    document(path, method, spec)


def _workspace() -> Workspace:
    return Workspace(current_library(), Path(current_app.config["GUIDE_CONTENT_DIR"]))


def _path(*names: str) -> list[dict[str, Any]]:
    return [path_parameter(name, ID_SCHEMA) for name in names]


def _draft_path() -> list[dict[str, Any]]:
    return [path_parameter("draft_id")]


@api.get("/editor/modules")
@staff_token_required(StaffRole.EDITOR)
def editor_modules() -> ResponseReturnValue:
    workspace = _workspace()
    guide_id = request.args.get("guide")
    guides = (
        [workspace.guide(guide_id)]
        if guide_id is not None
        else list(workspace.library.guides.values())
    )
    return jsonify(
        {"modules": [m for guide in guides for m in module_overview(db.session, workspace, guide)]}
    )


_document(
    "/editor/modules",
    "get",
    {
        "summary": "Every module with its live version, LIX and open drafts (editors)",
        "security": SECURITY,
        "parameters": [
            {
                "name": "guide",
                "in": "query",
                "schema": ID_SCHEMA,
            }
        ],
        "responses": {
            "200": json_response("Modules"),
            "403": error_response("not an editor"),
            "404": error_response("guide_unknown"),
        },
    },
)


@api.post("/editor/drafts")
@staff_token_required(StaffRole.EDITOR)
def create_draft() -> ResponseReturnValue:
    body = parse_body(DraftBody)
    draft = save_draft(
        db.session,
        _workspace(),
        g.api_staff,
        guide_id=body.guide,
        module_id=body.module,
        source=body.source,
        base_version_id=body.base_version,
        now=utcnow(),
        language=body.language,
        retire=body.retire,
    )
    db.session.commit()
    answer = draft_json(draft)
    return jsonify(answer), 201


_document(
    "/editor/drafts",
    "post",
    {
        "summary": "Save a draft of a module file (or its retiring), checked as `guide content check` does",
        "security": SECURITY,
        "requestBody": json_body(DraftBody),
        "responses": {
            "201": json_response("The draft: {id, problems: [{line, field, message}], ...}"),
            "403": error_response("not an editor"),
            "404": error_response("guide_unknown or module_unknown"),
            "409": error_response(
                "stale_base: a newer version is live (live_version, live_source)"
            ),
        },
    },
)


@api.get("/editor/drafts/<int:draft_id>")
@staff_token_required(StaffRole.EDITOR)
def show_draft(draft_id: int) -> ResponseReturnValue:
    draft = get_draft(db.session, draft_id)
    return jsonify({**draft_json(draft), "source": draft.source})


_document(
    "/editor/drafts/{draft_id}",
    "get",
    {
        "summary": "A draft with its source, state and problems",
        "security": SECURITY,
        "parameters": _draft_path(),
        "responses": {"200": json_response("The draft"), "403": error_response("not an editor")},
    },
)


@api.post("/editor/drafts/<int:draft_id>/submit")
@staff_token_required(StaffRole.EDITOR)
def submit_for_review(draft_id: int) -> ResponseReturnValue:
    draft = get_draft(db.session, draft_id)
    submit_draft(db.session, draft, g.api_staff, utcnow())
    db.session.commit()
    return jsonify(draft_json(draft))


_document(
    "/editor/drafts/{draft_id}/submit",
    "post",
    {
        "summary": "Send the author's draft for review by another editor",
        "security": SECURITY,
        "parameters": _draft_path(),
        "responses": {
            "200": json_response("The draft, now granskas"),
            "403": error_response("not_author"),
            "409": error_response("draft_state"),
            "422": error_response("draft_has_errors"),
        },
    },
)


@api.post("/editor/drafts/<int:draft_id>/review")
@staff_token_required(StaffRole.EDITOR)
def review(draft_id: int) -> ResponseReturnValue:
    draft = get_draft(db.session, draft_id)
    body = parse_body(ReviewBody)
    review_draft(db.session, draft, g.api_staff, body.decision, body.comment, utcnow())
    db.session.commit()
    return jsonify(draft_json(draft))


_document(
    "/editor/drafts/{draft_id}/review",
    "post",
    {
        "summary": "Approve a draft or send it back with a comment (never one's own)",
        "security": SECURITY,
        "parameters": _draft_path(),
        "requestBody": json_body(ReviewBody),
        "responses": {
            "200": json_response("The draft, godkand or atervisad"),
            "403": error_response("self_review: the author cannot approve their own draft"),
            "409": error_response("draft_state"),
        },
    },
)


@api.post("/editor/drafts/<int:draft_id>/publish")
@staff_token_required(StaffRole.EDITOR)
def publish(draft_id: int) -> ResponseReturnValue:
    draft = get_draft(db.session, draft_id)
    version = publish_draft(db.session, _workspace(), draft, g.api_staff, utcnow())
    db.session.commit()
    return jsonify({"version": version.id if version else None, "draft": draft_json(draft)})


_document(
    "/editor/drafts/{draft_id}/publish",
    "post",
    {
        "summary": "Publish an approved draft as the module's next immutable version",
        "security": SECURITY,
        "parameters": _draft_path(),
        "responses": {
            "200": json_response("{version}: the new version's id (null: the module retired)"),
            "409": error_response("not_approved or stale_base"),
            "422": error_response("draft_has_errors"),
        },
    },
)


@api.get("/editor/modules/<guide_id>/<module_id>/versions")
@staff_token_required(StaffRole.EDITOR)
def module_versions(guide_id: str, module_id: str) -> ResponseReturnValue:
    workspace = _workspace()
    workspace.guide(guide_id)
    live = live_version(db.session, workspace, guide_id, module_id)
    versions = versions_of(db.session, guide_id, module_id, live.id if live else None)
    if not versions:
        raise ApiError(
            404, "module_unknown", N_("Avsnittet %(module)s finns inte.", module=module_id[:100])
        )
    db.session.commit()
    return jsonify({"versions": versions})


_document(
    "/editor/modules/{guide_id}/{module_id}/versions",
    "get",
    {
        "summary": "Every version of a module with author, reviewer, time and comment",
        "security": SECURITY,
        "parameters": _path("guide_id", "module_id"),
        "responses": {"200": json_response("Versions, oldest first")},
    },
)


def _version_arg(name: str, guide_id: str, module_id: str) -> ModuleVersion:
    raw = request.args.get(name, "")
    if not raw:
        raise ApiError(
            400, f"{name}_missing", N_("Ange versionen i %(name)s.", name=name), field=name
        )
    version = db.session.get(ModuleVersion, int(raw)) if raw.isdigit() and len(raw) < 10 else None
    if version is None or (version.guide_id, version.module_id) != (guide_id, module_id):
        raise ApiError(
            404,
            "version_unknown",
            N_("Avsnittet har ingen version %(version)s.", version=raw[:12]),
            field=name,
        )
    return version


@api.get("/editor/modules/<guide_id>/<module_id>/diff")
@staff_token_required(StaffRole.EDITOR)
def module_diff(guide_id: str, module_id: str) -> ResponseReturnValue:
    workspace = _workspace()
    old = _version_arg("from", guide_id, module_id)
    draft_raw = request.args.get("draft")
    if draft_raw is not None:
        draft = (
            get_draft(db.session, int(draft_raw))
            if draft_raw.isdigit() and len(draft_raw) < 10
            else None
        )
        if draft is None or (draft.guide_id, draft.module_id) != (guide_id, module_id):
            raise ApiError(404, "draft_not_found", N_("Utkastet finns inte."), field="draft")
        diff = version_diff(db.session, workspace, old, draft=draft)
    else:
        diff = version_diff(db.session, workspace, old, new=_version_arg("to", guide_id, module_id))
    return jsonify(diff.as_json())


_document(
    "/editor/modules/{guide_id}/{module_id}/diff",
    "get",
    {
        "summary": "A word-level diff of two versions (or of a draft against one), source and rendered text",
        "security": SECURITY,
        "parameters": [
            *_path("guide_id", "module_id"),
            {"name": "from", "in": "query", "required": True, "schema": {"type": "integer"}},
            {"name": "to", "in": "query", "schema": {"type": "integer"}},
            {"name": "draft", "in": "query", "schema": {"type": "integer"}},
        ],
        "responses": {"200": json_response("{source: [...], rendered: [...]} of {op, text}")},
    },
)


@api.post("/editor/simulate")
@staff_token_required(StaffRole.EDITOR)
def simulate_journey() -> ResponseReturnValue:
    body = parse_body(SimulateBody)
    workspace = _workspace()
    guide = workspace.guide(body.guide)
    now = utcnow()
    zone = current_app.config.get("GUIDE_TIMEZONE", "Europe/Stockholm")
    options: dict[str, Any] = {
        "start": now,
        "days": body.days,
        "profile": body.profile,
        "answers": body.answers,
        "start_phase": body.start_phase,
        "timezone": zone,
    }
    published = journey_timeline(guide, **options)
    tz = ZoneInfo(zone)
    answer: dict[str, Any] = {"timeline": [i.as_json(tz) for i in published]}
    if body.include_drafts:
        drafted, drafts = guide_with_drafts(db.session, workspace, guide.id)
        answer["published_timeline"] = answer["timeline"]
        answer["timeline"] = [i.as_json(tz) for i in journey_timeline(drafted, **options)]
        edited = {d.module_id for d in drafts if not d.retire}
        answer["edited_modules"] = sorted(edited)
        answer["relatives_next_7_days"] = relatives_reached(db.session, drafted, edited, now)
    db.session.rollback()  # the simulation writes nothing
    return jsonify(answer)


_document(
    "/editor/simulate",
    "post",
    {
        "summary": "Simulate a relative's journey on the real planner and rules; writes nothing",
        "security": SECURITY,
        "requestBody": json_body(SimulateBody),
        "responses": {
            "200": json_response(
                "{timeline: [{at, kind, id}]} (kind: release, checkin, phase, email); with "
                "include_drafts also published_timeline and relatives_next_7_days"
            ),
            "422": error_response("drafts_invalid"),
        },
    },
)
