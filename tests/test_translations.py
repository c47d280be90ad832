"""The English catalogue is complete and compiled: every msgid in the code has a translation."""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import read_mo

from guide.cli.translations import (
    LANGUAGES,
    catalogue_path,
    compiled,
    extract_template,
    read_catalogue,
    untranslated,
)
from guide.errors import N_, say


def test_every_msgid_in_the_code_has_an_english_translation() -> None:
    template = extract_template()
    assert len(template) > 300  # the extraction found the code and templates at all
    for language in LANGUAGES:
        missing = untranslated(read_catalogue(language), template)
        assert not missing, (
            f"{len(missing)} msgid(s) lack a translation into {language}; run "
            f"`guide translations update` and translate them in {catalogue_path(language)}:\n"
            + "\n".join(missing)
        )


def test_the_committed_mo_files_are_compiled_from_the_committed_po_files() -> None:
    for language in LANGUAGES:
        mo = Path(catalogue_path(language)).with_suffix(".mo")
        assert mo.exists(), f"{mo} is missing; run `guide translations update`"
        assert mo.read_bytes() == compiled(read_catalogue(language)), (
            f"{mo} is stale; run `guide translations update`"
        )


def test_the_catalogue_keeps_every_placeholder_of_its_msgid() -> None:
    import re

    placeholder = re.compile(r"%\((\w+)\)s")
    catalogue = read_catalogue("en")
    for message in catalogue:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple | list) else (message.id,)
        strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
        wanted = set(placeholder.findall(ids[0]))
        for string in strings:
            assert set(placeholder.findall(string)) == wanted, message.id


def test_the_compiled_catalogue_translates_a_domain_sentence_with_its_values() -> None:
    mo = Path(catalogue_path("en")).with_suffix(".mo")
    with mo.open("rb") as handle:
        english = read_mo(handle)

    def gettext(msgid: str) -> str:
        found = english.get(msgid)
        return str(found.string) if found is not None and found.string else msgid

    sentence = N_(
        "Koden %(code)s gäller inte längre. Be den som gav dig kortet om ett nytt.", code="DEM-1"
    )
    assert sentence == "Koden DEM-1 gäller inte längre. Be den som gav dig kortet om ett nytt."
    assert say(sentence, gettext) == (
        "The code DEM-1 is no longer valid. Ask the person who gave you the card for a new one."
    )
    assert say("plain text", gettext) == "plain text"


def test_an_english_reader_gets_english_pages_and_error_sentences(client) -> None:
    page = client.get("/aktivera", headers={"Accept-Language": "en"})
    text = page.get_data(as_text=True)
    assert '<html lang="en">' in text
    assert "Activate your card" in text and "Aktivera ditt kort" not in text

    answer = client.post(
        "/api/v1/activations",
        json={"code": "DEM-0000-0000-0000", "email": "a@example.se", "consents": {"service": True}},
        headers={"Accept-Language": "en"},
    )
    assert answer.status_code == 400
    assert "typing error" in answer.get_json()["message"]
