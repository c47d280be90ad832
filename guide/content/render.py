"""Turn a module's Markdown into safe HTML with an organisation's local facts filled in."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from xml.etree.ElementTree import Element

import markdown
import nh3
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor
from markupsafe import Markup, escape

from guide.content.model import LocalFact

PLACEHOLDER = re.compile(r"\{\{\s*local\.([A-Za-z0-9_.-]+?)\s*\}\}")

ALLOWED_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "strong", "em", "a", "ul", "ol", "li",
    "blockquote", "code", "pre", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"scope"}}
ALLOWED_SCHEMES = {"http", "https", "mailto", "tel"}


# A Swedish phone number as people write it: 0 or +46, then digits with spaces or hyphens
# (08-123 456 78, 010-123 45 67, +46 8 123 456 78), or a short number such as 1177 or 113 13.
PHONE = re.compile(
    r"(?<![\w+/.-])(?:(?:\+46|0)[1-9](?:[ -]?\d){5,11}|1177|113 ?13|90101|112)(?![\w/-])"
)
# A web address: https://..., http://... or www.... (always linked as https).
WEB_ADDRESS = re.compile(r"(?<![\w@/.])(?:https?://|www\.)[^\s<>\"'`]+")
_TRAILING = ".,;:!?)]}"
# Private-use characters that no module or value holds: where a value goes in the Markdown.
_SLOT = "\ue000{}\ue001"
_SLOT_PATTERN = re.compile("\ue000(\\d+)\ue001")


def fact_value(key: str, values: Mapping[str, str], facts: Mapping[str, LocalFact]) -> str:
    """Return the organisation's value for `key` as plain text, else the national fallback."""
    value = (values.get(key) or "").strip()
    if value:
        return value
    fact = facts.get(key)
    return fact.fallback if fact else ""


def fill_local_facts(text: str, values: Mapping[str, str], facts: Mapping[str, LocalFact]) -> str:
    """Replace `{{ local.key }}` with the plain-text value, else the national fallback."""
    return PLACEHOLDER.sub(lambda match: fact_value(match.group(1), values, facts), text)


def _tel_href(number: str) -> str:
    digits = re.sub(r"[^\d+]", "", number)
    return "tel:" + digits


def _https_href(address: str) -> str:
    rest = re.sub(r"^https?://", "", address, flags=re.IGNORECASE)
    return "https://" + rest


def plain_value_html(value: str) -> Markup:
    """Render a local fact's value as HTML: all of it text, phone numbers and web addresses links.

    Nothing typed becomes markup: the value is escaped whole, and only what the two
    patterns recognise is wrapped in an `<a>` whose address is built here (`tel:` from
    the digits, `https://` in front of the host), never taken as typed.
    """
    pieces: list[str] = []
    position = 0
    for match in _links_in(value):
        start, end, href = match
        pieces.append(str(escape(value[position:start])))
        pieces.append(f'<a href="{escape(href)}">{escape(value[start:end])}</a>')
        position = end
    pieces.append(str(escape(value[position:])))
    return Markup("".join(pieces))


def _links_in(value: str) -> list[tuple[int, int, str]]:
    """Return (start, end, href) of each phone number and web address in `value`, in order."""
    found: list[tuple[int, int, str]] = []
    for match in WEB_ADDRESS.finditer(value):
        text = match.group(0).rstrip(_TRAILING)
        host = re.sub(r"^(https?://)", "", text, flags=re.IGNORECASE)
        if not re.match(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+", host):
            continue
        found.append((match.start(), match.start() + len(text), _https_href(text)))
    for match in PHONE.finditer(value):
        if any(start <= match.start() < end for start, end, _ in found):
            continue
        found.append((match.start(), match.end(), _tel_href(match.group(0))))
    return sorted(found)


class _ModuleLinks(Treeprocessor):
    """Point `other-module.md` links at the page that shows that module."""

    def __init__(self, md: markdown.Markdown, link_for: Callable[[str], str | None]):
        super().__init__(md)
        self.link_for = link_for

    def run(self, root: Element) -> None:
        for anchor in root.iter("a"):
            href = anchor.get("href", "")
            if re.match(r"^[a-z0-9-]+\.md(#.*)?$", href):
                module_id = href.split(".md", 1)[0]
                target = self.link_for(module_id)
                if target:
                    anchor.set("href", target)
                else:
                    # A link to a module the reader cannot see yet: keep the words only.
                    anchor.tag = "span"
                    anchor.attrib.pop("href", None)


class _ModuleLinksExtension(Extension):
    def __init__(self, link_for: Callable[[str], str | None]):
        super().__init__()
        self.link_for = link_for

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        md.treeprocessors.register(_ModuleLinks(md, self.link_for), "module_links", 5)


def render_markdown(
    body: str,
    values: Mapping[str, str] | None = None,
    facts: Mapping[str, LocalFact] | None = None,
    link_for: Callable[[str], str | None] | None = None,
) -> Markup:
    """Render a module body to sanitised HTML with the local facts filled in as plain text.

    Each placeholder becomes a slot before Markdown runs, and the slot is filled with
    the escaped value afterwards (`plain_value_html`), so nothing an admin types is
    read as Markdown or HTML: only phone numbers and web addresses become links. The
    sanitiser runs last, so nothing an editor types can add a script, an event
    handler or a `javascript:` URL either.
    """
    filled: list[Markup] = []

    def slot(match: re.Match[str]) -> str:
        filled.append(plain_value_html(fact_value(match.group(1), values or {}, facts or {})))
        return _SLOT.format(len(filled) - 1)

    text = PLACEHOLDER.sub(slot, body)
    extensions: list[Extension | str] = ["tables", "sane_lists"]
    if link_for is not None:
        extensions.append(_ModuleLinksExtension(link_for))
    html = markdown.markdown(text, extensions=extensions, output_format="html")
    html = _SLOT_PATTERN.sub(lambda match: str(filled[int(match.group(1))]), html)
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS | {"span"},
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_SCHEMES,
        link_rel="noopener noreferrer",
    )
    return Markup(clean)


def render_plain(body: str, values: Mapping[str, str], facts: Mapping[str, LocalFact]) -> str:
    """Return the body as plain text for e-mails: facts filled in, Markdown left readable."""
    return fill_local_facts(body, values, facts)
