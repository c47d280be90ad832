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


# What English pages said in Swedish before the catalogue ("Steg 2 av 3", "Frivilligt – du
# kan hoppa över frågan", "Ja"/"Nej", "Fortsätt", "Min guide").
SWEDISH_INTERFACE_WORDS = (
    "Steg",
    "Frivilligt",
    "Fortsätt",
    "Min guide",
    "Ja",
    "Nej",
    "Hoppa över",
    "Logga ut",
    "Kontakta mig",
)


def english_interface_text(html: str) -> str:
    """Return a page's text outside any element marked as being in another language."""
    from html.parser import HTMLParser

    voids = {"meta", "link", "input", "br", "img", "hr"}

    class Reader(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.languages: list[str] = []
            self.parts: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag in voids:
                return
            inherited = self.languages[-1] if self.languages else "en"
            self.languages.append(dict(attrs).get("lang") or inherited)

        def handle_endtag(self, tag: str) -> None:
            if tag not in voids and self.languages:
                self.languages.pop()

        def handle_data(self, data: str) -> None:
            if not self.languages or self.languages[-1] == "en":
                self.parts.append(data)

    reader = Reader()
    reader.feed(html)
    return " ".join(reader.parts)


def test_english_pages_say_none_of_the_swedish_interface_words_they_used_to(app, client) -> None:  # type: ignore[no-untyped-def]
    import re

    from tests.checkin_support import log_in_relative
    from tests.factories import enrol, issue_cards, make_tenant

    tenant = make_tenant()
    card, used = issue_cards(tenant.unit, 2)
    english = {"Accept-Language": "en"}
    pages = {}
    client.post("/aktivera", data={"code": card.code}, headers=english)
    pages["questions"] = client.get("/aktivera/fragor", headers=english).get_data(as_text=True)
    pages["consent"] = client.get("/aktivera/samtycke", headers=english).get_data(as_text=True)
    enrolment = enrol(used)
    enrolment.relative.language = "en"
    from guide.extensions import db

    db.session.commit()
    log_in_relative(client, enrolment.relative)
    pages["min guide"] = client.get("/min-guide/").get_data(as_text=True)
    pages["module"] = client.get(f"/min-guide/{enrolment.id}/valkommen").get_data(as_text=True)
    pages["contact"] = client.get("/min-guide/kontakta-mig").get_data(as_text=True)
    assert "Step 2 of 3" in pages["questions"] and "Yes" in pages["questions"]
    for name, html in pages.items():
        assert '<html lang="en">' in html, name
        text = english_interface_text(html)
        for word in SWEDISH_INTERFACE_WORDS:
            assert not re.search(rf"(?<![\wåäö]){word}(?![\wåäö])", text), (name, word)


def test_fill_translates_only_what_is_untranslated_from_another_po_file() -> None:
    from babel.messages.catalog import Catalog

    from guide.cli.translations import fill_from

    catalogue = Catalog(locale="en")
    catalogue.add("Ny text", "")
    catalogue.add("Gammal text", "Old text")
    fragment = Catalog(locale="en")
    fragment.add("Ny text", "New text")
    fragment.add("Gammal text", "Something else")
    assert fill_from(catalogue, [fragment]) == 1
    assert catalogue.get("Ny text").string == "New text"
    assert catalogue.get("Gammal text").string == "Old text"
