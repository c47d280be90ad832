"""The editors' workspace on the web: modules, drafts with the checker and a preview, review, versions.

Editors see content and editors' names only: no page here reads a relative.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select

from guide.content.loader import ID_PATTERN
from guide.content.workspace import module_filename
from guide.extensions import db
from guide.models import EditorDraft, ModuleVersion, Organisation, StaffRole
from guide.models.base import utcnow
from guide.services.drafts import (
    STATE_LABELS,
    Workspace,
    get_draft,
    live_files,
    live_version,
    newer_live,
    publish_draft,
    restore_version,
    review_draft,
    save_draft,
    submit_draft,
)
from guide.services.editor import module_overview, preview_source, version_diff, versions_of
from guide.services.library import current_library
from guide.services.simulation import guide_with_drafts, journey_timeline, relatives_reached
from guide.web.forms import finish_post
from guide.web.sessions import staff_required

bp = Blueprint("editor", __name__, url_prefix="/redaktion")

EDITOR = StaffRole.EDITOR


def _workspace() -> Workspace:
    return Workspace(current_library(), Path(current_app.config["GUIDE_CONTENT_DIR"]))


def _organisations() -> list[Organisation]:
    return list(db.session.scalars(select(Organisation).order_by(Organisation.name)))


def _int_arg(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isascii() and raw.isdigit() and len(raw) < 10 else None


@bp.get("/")
@staff_required(EDITOR)
def home() -> ResponseReturnValue:
    """Every guide and module: live version, LIX, open drafts and their state and problems."""
    workspace = _workspace()
    guides = [
        (guide, module_overview(db.session, workspace, guide))
        for guide in workspace.library.guides.values()
    ]
    db.session.commit()  # live versions not stored before are stored now
    return render_template("editor/home.html", guides=guides)


@bp.get("/nytt")
@staff_required(EDITOR)
def new() -> ResponseReturnValue:
    """Start a new module: its id, then the edit page with an empty file."""
    workspace = _workspace()
    guide = workspace.library.guides.get(request.args.get("guide", ""))
    module_id = request.args.get("id", "").strip().lower()
    if guide is None or not ID_PATTERN.match(module_id) or len(module_id) > 100:
        flash(_("Ett id skrivs med a–z, 0–9 och bindestreck, till exempel ny-text."), "error")
        return redirect(url_for("editor.home"))
    return redirect(url_for("editor.edit", guide_id=guide.id, module_id=module_id))


@bp.route("/<guide_id>/<module_id>/redigera", methods=["GET", "POST"])
@staff_required(EDITOR)
def edit(guide_id: str, module_id: str) -> ResponseReturnValue:
    """Start a draft of a module file (or of a new module), from the live text."""
    workspace = _workspace()
    guide = workspace.guide(guide_id)
    language = request.values.get("sprak") or guide.fallback_language
    if language not in guide.languages:
        abort(404)
    live = live_version(db.session, workspace, guide_id, module_id)
    name = module_filename(module_id, language, guide.fallback_language)
    source = live_files(db.session, workspace, guide_id, module_id).get(name, "")
    if not source:
        source = _new_file(module_id, guide.first_phase.id, language != guide.fallback_language)
    db.session.commit()
    if request.method == "POST":
        return _save(None, guide_id, module_id, language, live.id if live else None)
    return _edit_page(
        None, guide_id, module_id, language, source, live.id if live else None, preview=None
    )


def _new_file(module_id: str, phase: str, translation: bool) -> str:
    if translation:
        return f"---\nid: {module_id}\ntitle: \nsummary: \n---\n"
    return (
        f"---\nid: {module_id}\ntitle: \nphase: {phase}\nrelease: {{after: 7d}}\nsummary: \n---\n"
    )


@bp.route("/utkast/<int:draft_id>", methods=["GET", "POST"])
@staff_required(EDITOR)
def draft(draft_id: int) -> ResponseReturnValue:
    found = get_draft(db.session, draft_id)
    if request.method == "POST":
        return _save(found, found.guide_id, found.module_id, found.language, found.base_version_id)
    return _edit_page(
        found,
        found.guide_id,
        found.module_id,
        found.language,
        found.source,
        found.base_version_id,
        preview=None,
    )


def _save(
    found: EditorDraft | None, guide_id: str, module_id: str, language: str, base: int | None
) -> ResponseReturnValue:
    workspace = _workspace()
    source = request.form.get("source", "").replace("\r\n", "\n")
    base = _int_arg(request.form.get("base_version")) if "base_version" in request.form else base
    if request.form.get("action") == "preview":
        return _edit_page(found, guide_id, module_id, language, source, base, preview=True)
    newer = newer_live(db.session, workspace, guide_id, module_id, language, base)
    if newer is not None:
        return render_template(
            "editor/conflict.html",
            draft=found,
            guide_id=guide_id,
            module_id=module_id,
            language=language,
            mine=source,
            live=newer,
        ), 409
    saved = save_draft(
        db.session,
        workspace,
        g.staff,
        guide_id=guide_id,
        module_id=module_id,
        source=source,
        base_version_id=base,
        now=utcnow(),
        language=language,
        retire=request.form.get("retire") == "1",
        draft=found,
    )
    return finish_post(_("Utkastet är sparat."), url_for("editor.draft", draft_id=saved.id))


def _edit_page(
    found: EditorDraft | None,
    guide_id: str,
    module_id: str,
    language: str,
    source: str,
    base: int | None,
    preview: bool | None,
) -> ResponseReturnValue:
    workspace = _workspace()
    guide = workspace.guide(guide_id)
    organisation_id = _int_arg(request.values.get("organisation"))
    preview_language = request.values.get("preview_language") or language
    if preview_language not in guide.languages:
        preview_language = language
    shown = preview_source(
        db.session,
        workspace,
        guide_id=guide_id,
        module_id=module_id,
        file_language=language,
        source=source,
        organisation_id=organisation_id,
        language=preview_language,
    )
    problems = (
        found.problems
        if found is not None and not preview
        else [p.as_json() for p in shown.problems]
    )
    live = live_version(db.session, workspace, guide_id, module_id)
    db.session.commit()
    return render_template(
        "editor/edit.html",
        draft=found,
        guide=guide,
        module_id=module_id,
        language=language,
        filename=module_filename(module_id, language, guide.fallback_language),
        source=source,
        base=base,
        live=live,
        problems=problems,
        preview=shown,
        organisations=_organisations(),
        organisation_id=organisation_id,
        preview_language=preview_language,
        state_labels=STATE_LABELS,
        is_author=found is not None and found.author_id == g.staff.id,
    )


@bp.post("/utkast/<int:draft_id>/skicka")
@staff_required(EDITOR)
def submit(draft_id: int) -> ResponseReturnValue:
    found = get_draft(db.session, draft_id)
    submit_draft(db.session, found, g.staff, utcnow())
    return finish_post(
        _("Utkastet är skickat på granskning."), url_for("editor.draft", draft_id=draft_id)
    )


@bp.post("/utkast/<int:draft_id>/granska")
@staff_required(EDITOR)
def review(draft_id: int) -> ResponseReturnValue:
    found = get_draft(db.session, draft_id)
    decision = request.form.get("decision", "")
    if decision not in ("approve", "reject"):
        abort(400, _("Välj Godkänn eller Skicka tillbaka."))
    review_draft(db.session, found, g.staff, decision, request.form.get("comment", ""), utcnow())
    db.session.commit()
    flash(
        _("Utkastet är godkänt.") if decision == "approve" else _("Utkastet är skickat tillbaka."),
        "success",
    )
    return redirect(url_for("editor.draft", draft_id=draft_id))


@bp.post("/utkast/<int:draft_id>/publicera")
@staff_required(EDITOR)
def publish(draft_id: int) -> ResponseReturnValue:
    found = get_draft(db.session, draft_id)
    version = publish_draft(db.session, _workspace(), found, g.staff, utcnow())
    db.session.commit()
    if version is None:
        flash(_("Avsnittet är borttaget ur guiden."), "success")
    else:
        flash(_("Avsnittet är publicerat som version %(v)s.", v=version.id), "success")
    return redirect(url_for("editor.home"))


@bp.get("/<guide_id>/<module_id>/versioner")
@staff_required(EDITOR)
def versions(guide_id: str, module_id: str) -> ResponseReturnValue:
    workspace = _workspace()
    workspace.guide(guide_id)
    live = live_version(db.session, workspace, guide_id, module_id)
    rows = versions_of(db.session, guide_id, module_id, live.id if live else None)
    db.session.commit()
    if not rows:
        abort(404)
    return render_template(
        "editor/versions.html", guide_id=guide_id, module_id=module_id, versions=rows
    )


def _version(raw: str | None, guide_id: str, module_id: str) -> ModuleVersion:
    version_id = _int_arg(raw)
    version = db.session.get(ModuleVersion, version_id) if version_id else None
    if version is None or (version.guide_id, version.module_id) != (guide_id, module_id):
        abort(404, _("Versionen finns inte."))
    return version


@bp.get("/<guide_id>/<module_id>/jamfor")
@staff_required(EDITOR)
def compare(guide_id: str, module_id: str) -> ResponseReturnValue:
    """A word-level diff of two versions, or of a draft against the live version."""
    workspace = _workspace()
    workspace.guide(guide_id)
    draft_id = _int_arg(request.args.get("utkast"))
    if draft_id is not None:
        found = get_draft(db.session, draft_id)
        if (found.guide_id, found.module_id) != (guide_id, module_id):
            abort(404)
        live = live_version(db.session, workspace, guide_id, module_id)
        if live is None:
            abort(404, _("Avsnittet har ingen publicerad version att jämföra med."))
        diff = version_diff(db.session, workspace, live, draft=found)
    else:
        if not request.args.get("fran") or not request.args.get("till"):
            abort(400, _("Välj två versioner att jämföra."))
        old = _version(request.args.get("fran"), guide_id, module_id)
        new = _version(request.args.get("till"), guide_id, module_id)
        diff = version_diff(db.session, workspace, old, new=new)
    db.session.commit()
    source_html, rendered_html = diff.html(_("borttaget"), _("tillagt"))
    return render_template(
        "editor/compare.html",
        guide_id=guide_id,
        module_id=module_id,
        diff=diff,
        source_html=source_html,
        rendered_html=rendered_html,
    )


@bp.post("/version/<int:version_id>/aterstall")
@staff_required(EDITOR)
def restore(version_id: int) -> ResponseReturnValue:
    version = db.session.get(ModuleVersion, version_id)
    if version is None:
        abort(404)
    made = restore_version(db.session, _workspace(), version, g.staff, utcnow())
    return finish_post(
        _("Ett nytt utkast med den gamla versionens text är skapat."),
        url_for("editor.draft", draft_id=made.id),
    )


@bp.route("/simulera", methods=["GET", "POST"])
@staff_required(EDITOR)
def simulate() -> ResponseReturnValue:
    """A relative's year on the real planner: published beside open drafts; writes nothing."""
    workspace = _workspace()
    guides = list(workspace.library.guides.values())
    guide = workspace.library.guides.get(request.values.get("guide", "")) or guides[0]
    result: dict[str, Any] | None = None
    errors: dict[str, str] = {}
    form = request.form
    if request.method == "POST":
        profile: dict[str, Any] = {
            q.id: (form.getlist(f"p-{q.id}") if q.type.value == "multi" else form[f"p-{q.id}"])
            for q in guide.profile
            if form.get(f"p-{q.id}")
        }
        profile = {
            k: int(v) if isinstance(v, str) and v.isdigit() else v for k, v in profile.items()
        }
        answers, problem = parse_script(form.get("script", ""))
        if problem:
            errors["script"] = problem
        phase = form.get("start_phase") or None
        if not errors:
            zone = current_app.config["GUIDE_TIMEZONE"]
            now = utcnow()
            options: dict[str, Any] = {
                "start": now,
                "days": 365,
                "profile": profile,
                "answers": answers,
                "start_phase": phase,
                "timezone": zone,
            }
            published = journey_timeline(guide, **options)
            result = {"published": published, "zone": ZoneInfo(zone)}
            if form.get("include_drafts"):
                drafted, drafts = guide_with_drafts(db.session, workspace, guide.id)
                edited = {d.module_id for d in drafts if not d.retire}
                result["drafted"] = journey_timeline(drafted, **options)
                result["edited"] = sorted(edited)
                result["reached"] = relatives_reached(db.session, drafted, edited, now)
        db.session.rollback()  # the simulation writes nothing
    return render_template(
        "editor/simulate.html",
        guides=guides,
        guide=guide,
        result=result,
        errors=errors,
        form=form,
    ), (400 if errors else 200)


def parse_script(text: str) -> tuple[dict[str, list[dict[str, Any]]], str | None]:
    """Read scripted answers: one line per occurrence, `check-in: question=answer, ...`."""
    script: dict[str, list[dict[str, Any]]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        checkin, sep, rest = line.partition(":")
        if not sep:
            return {}, _("Rad %(n)s: skriv kontrollfrågan, ett kolon och sedan svaren.", n=number)
        answers: dict[str, Any] = {}
        for part in rest.split(","):
            if not part.strip():
                continue
            question, eq, value = part.partition("=")
            if not eq:
                return {}, _("Rad %(n)s: skriv varje svar som fråga=svar.", n=number)
            values = [v.strip() for v in value.split("+")]
            cleaned: Any = values if len(values) > 1 else values[0]
            if isinstance(cleaned, str) and cleaned.isdigit():
                cleaned = int(cleaned)
            answers[question.strip()] = cleaned
        script.setdefault(checkin.strip(), []).append(answers)
    return script, None
