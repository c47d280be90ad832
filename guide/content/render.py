"""Turn a module's Markdown into safe HTML with an organisation's local facts filled in."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from xml.etree.ElementTree import Element

import markdown
import nh3
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor
from markupsafe import Markup

from guide.content.model import LocalFact

PLACEHOLDER = re.compile(r"\{\{\s*local\.([A-Za-z0-9_.-]+?)\s*\}\}")

ALLOWED_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "strong", "em", "a", "ul", "ol", "li",
    "blockquote", "code", "pre", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"scope"}}
ALLOWED_SCHEMES = {"http", "https", "mailto", "tel"}


def fill_local_facts(text: str, values: Mapping[str, str], facts: Mapping[str, LocalFact]) -> str:
    """Replace `{{ local.key }}` with the organisation's value, else the national fallback."""

    def substitute(match: re.Match[str]) -> str:
        key = match.group(1)
        value = (values.get(key) or "").strip()
        if value:
            return value
        fact = facts.get(key)
        return fact.fallback if fact else ""

    return PLACEHOLDER.sub(substitute, text)


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
    """Render a module body to sanitised HTML.

    Local facts are filled in before Markdown runs so a value may hold a link; the
    sanitiser runs last, so nothing an editor or an admin types can add a script,
    an event handler or a `javascript:` URL.
    """
    text = fill_local_facts(body, values or {}, facts or {})
    extensions: list[Extension | str] = ["tables", "sane_lists"]
    if link_for is not None:
        extensions.append(_ModuleLinksExtension(link_for))
    html = markdown.markdown(text, extensions=extensions, output_format="html")
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
