"""`guide translations update`: extract every msgid, update each catalogue, compile it.

One command does pybabel's extract, update and compile with the mapping in
guide/babel.cfg, so the catalogues in guide/translations/ never fall behind the code:
a new msgid lands in each .po with an empty translation, a msgid the code no longer
uses is dropped, and the .mo beside it is compiled from the .po just written.
tests/test_translations.py fails when a msgid has no translation or a .mo is stale.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import click
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from guide.cli.group import CommandGroup

PACKAGE = Path(__file__).resolve().parents[1]  # guide/
SOURCE_ROOT = PACKAGE.parent  # where guide/ and activation_codes/ stand
MAPPING = PACKAGE / "babel.cfg"
TRANSLATIONS = PACKAGE / "translations"
LANGUAGES = ("en",)  # Swedish is the source language: its msgids are its texts


def extract_template(root: Path = SOURCE_ROOT) -> Catalog:
    """Return every msgid in the code and templates under `root`, as pybabel extract finds them."""
    with MAPPING.open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    template = Catalog(project="Lots", fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
        str(root), method_map, options_map
    ):
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def catalogue_path(language: str) -> Path:
    return TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"


def read_catalogue(language: str) -> Catalog:
    """Return the committed catalogue of `language` (an empty one if there is none yet)."""
    path = catalogue_path(language)
    if not path.exists():
        return Catalog(locale=language, project="Lots", fuzzy=False)
    with path.open("rb") as handle:
        return read_po(handle, locale=language)


def untranslated(catalogue: Catalog, template: Catalog) -> list[str]:
    """Return the msgids of `template` that `catalogue` does not translate (fuzzy counts as not)."""
    missing = []
    for message in template:
        if not message.id:
            continue
        found: Message | None = catalogue.get(message.id, message.context)
        strings = found.string if found is not None else None
        texts = strings if isinstance(strings, tuple | list) else (strings,)
        if found is None or found.fuzzy or not all(texts):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing


def compiled(catalogue: Catalog) -> bytes:
    """Return the .mo file of `catalogue`, byte for byte as `pybabel compile` writes it."""
    out = io.BytesIO()
    write_mo(out, catalogue, use_fuzzy=False)
    return out.getvalue()


def fill_from(catalogue: Catalog, others: list[Catalog]) -> int:
    """Translate the untranslated messages of `catalogue` from `others`; return how many."""
    filled = 0
    for message in catalogue:
        if not message.id or (message.string and not message.fuzzy and all(_strings(message))):
            continue
        for other in others:
            found = other.get(message.id, message.context)
            if found is not None and not found.fuzzy and all(_strings(found)):
                message.string = found.string
                message.flags.discard("fuzzy")
                filled += 1
                break
    return filled


def _strings(message: Message) -> tuple[str, ...]:
    strings = message.string
    return tuple(strings) if isinstance(strings, tuple | list) else (strings or "",)


def update_catalogue(
    language: str, template: Catalog, fills: list[Catalog] | None = None
) -> Catalog:
    """Bring the .po of `language` in line with `template` and compile its .mo; return it.

    `fills` (PO files, such as the fragments other branches wrote) translate what the
    catalogue does not translate yet.
    """
    catalogue = read_catalogue(language)
    created = catalogue.creation_date
    # No fuzzy guesses: a new msgid stays untranslated until a person translates it.
    catalogue.update(template, no_fuzzy_matching=True, update_header_comment=False)
    catalogue.obsolete.clear()
    catalogue.creation_date = created  # an unchanged catalogue is rewritten byte for byte
    fill_from(catalogue, fills or [])
    path = catalogue_path(language)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        # No file:line locations: they would change with every edit anywhere and make
        # every branch conflict in the .po.
        write_po(handle, catalogue, width=100, no_location=True)
    path.with_suffix(".mo").write_bytes(compiled(catalogue))
    return catalogue


@click.group(cls=CommandGroup)
def translations() -> None:
    """Keep the interface's translations in step with the code."""


@translations.command("update", with_appcontext=False)
@click.option(
    "--fill",
    "fills",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A PO file whose translations fill untranslated msgids (repeatable).",
)
def translations_update(fills: tuple[Path, ...]) -> None:
    """Extract the msgids, update every catalogue in guide/translations, compile them."""
    template = extract_template()
    others = []
    for path in fills:
        with path.open("rb") as handle:
            others.append(read_po(handle))
    missing_any = False
    for language in LANGUAGES:
        catalogue = update_catalogue(language, template, others)
        missing = untranslated(catalogue, template)
        missing_any = missing_any or bool(missing)
        click.echo(
            f"{language}: {len(template)} msgids, {len(template) - len(missing)} translated, "
            f"{len(missing)} to translate in {catalogue_path(language)}"
        )
        for msgid in missing:
            click.echo(f"  {msgid}")
    sys.exit(1 if missing_any else 0)
