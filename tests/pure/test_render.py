"""Markdown rendering is sanitised and fills in local facts."""

from guide.content.model import LocalFact
from guide.content.render import fill_local_facts, render_markdown

FACTS = {
    "anhorigstod.telefon": LocalFact("anhorigstod.telefon", "Telefon", "Ring kommunens växel.")
}


def test_removes_scripts_event_handlers_and_javascript_urls() -> None:
    html = render_markdown(
        'Hej <script>alert(1)</script> <a href="x" onclick="steal()">a</a> '
        "[b](javascript:alert(1)) <img src=x onerror=alert(1)>"
    )
    assert "<script" not in html
    assert "onclick" not in html and "onerror" not in html
    assert "javascript:" not in html
    assert "<img" not in html


def test_keeps_ordinary_formatting_and_safe_links() -> None:
    html = render_markdown("## Rubrik\n\n**Viktigt** och [1177](https://www.1177.se).")
    assert "<h2>Rubrik</h2>" in html
    assert "<strong>Viktigt</strong>" in html
    assert 'href="https://www.1177.se"' in html


def test_fills_an_organisations_value_else_the_national_fallback() -> None:
    body = "Ring {{ local.anhorigstod.telefon }}."
    assert (
        fill_local_facts(body, {"anhorigstod.telefon": "042-10 50 00"}, FACTS)
        == "Ring 042-10 50 00."
    )
    assert fill_local_facts(body, {}, FACTS) == "Ring Ring kommunens växel.."
    assert (
        fill_local_facts(body, {"anhorigstod.telefon": "  "}, FACTS)
        == "Ring Ring kommunens växel.."
    )


def test_an_admins_value_cannot_inject_html() -> None:
    html = render_markdown(
        "Ring {{ local.anhorigstod.telefon }}.",
        {"anhorigstod.telefon": "<script>x()</script>"},
        FACTS,
    )
    assert "<script" not in html


def test_internal_links_point_at_module_pages_or_become_plain_words() -> None:
    html = render_markdown(
        "[Avlösning](avlosning.md) och [Senare](senare.md).",
        link_for=lambda module: "/min-guide/stod/avlosning" if module == "avlosning" else None,
    )
    assert 'href="/min-guide/stod/avlosning"' in html
    assert "Senare" in html and "senare.md" not in html
