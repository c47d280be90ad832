"""Properties of composed mail: any subject and body read back as written."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from guide.mail.mime import Composer
from tests.pure.test_mime import SENDER, parse

PRINTABLE = st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"))


@settings(deadline=None)
@given(
    subject=st.text(PRINTABLE, min_size=1, max_size=200).filter(lambda s: s.strip() == s),
    text=st.text(
        st.characters(
            blacklist_categories=("Cs",),
            blacklist_characters="\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029",
        ),
        max_size=2000,
    ),
)
def test_any_subject_and_body_read_back_as_written(subject: str, text: str) -> None:
    composer = Composer(SENDER)
    message = parse(composer.compose("a@example.se", subject, text, "<p>x</p>", {}))
    assert message["Subject"] == subject
    plain = message.get_body(("plain",))
    assert plain is not None
    assert plain.get_content().splitlines() == text.splitlines()
