"""Properties of the activation code format over random codes and typed variants."""

import itertools

from hypothesis import given
from hypothesis import strategies as st

from activation_codes.codes import (
    ALPHABET,
    RANDOM_BITS,
    generate_code,
    has_valid_check,
    normalise,
    parse,
)
from tests.pure.test_codes import FixedBits, assert_rejected_as

prefixes = st.text(alphabet=ALPHABET, min_size=2, max_size=4)


random_bits = st.integers(min_value=0, max_value=2**RANDOM_BITS - 1)


@st.composite
def codes(draw: st.DrawFn) -> str:
    return generate_code(draw(prefixes), rng=FixedBits(draw(random_bits)))


def symbol_positions(code: str) -> list[int]:
    """Return the indexes of the symbols in a hyphenated code."""
    return [i for i, ch in enumerate(code) if ch != "-"]


def replace_at(code: str, index: int, symbol: str) -> str:
    return code[:index] + symbol + code[index + 1 :]


@given(codes())
def test_generated_code_passes_its_own_check(code: str) -> None:
    prefix = code.split("-")[0]
    assert has_valid_check(code)
    assert parse(code, {prefix}).code == code


@given(codes())
def test_rejects_every_single_substitution_as_mistyped(code: str) -> None:
    prefix = code.split("-")[0]
    for index in symbol_positions(code):
        for symbol in ALPHABET:
            if symbol == code[index]:
                continue
            mutated = replace_at(code, index, symbol)
            assert not has_valid_check(mutated)
            # Also when it hits the prefix: the check symbol covers the prefix,
            # and it is checked before the prefix list.
            assert_rejected_as("mistyped", mutated, {prefix})


@given(codes())
def test_rejects_every_adjacent_transposition_as_mistyped(code: str) -> None:
    prefix = code.split("-")[0]
    positions = symbol_positions(code)
    # Neighbours in the symbol sequence, so swaps across a hyphen count too.
    for left, right in itertools.pairwise(positions):
        if code[left] == code[right]:
            continue
        swapped = replace_at(replace_at(code, left, code[right]), right, code[left])
        assert not has_valid_check(swapped)
        assert_rejected_as("mistyped", swapped, {prefix})
        assert_rejected_as("mistyped", swapped.replace("-", ""), {prefix})


@given(codes(), st.data())
def test_rejects_a_character_never_in_codes_as_malformed(code: str, data: st.DataObject) -> None:
    index = data.draw(st.sampled_from(symbol_positions(code)))
    bad = data.draw(st.sampled_from("UuÅ?!.,*#+/_"))
    assert_rejected_as("malformed", replace_at(code, index, bad), {"DEM"})


@given(codes())
def test_rejects_a_valid_code_of_a_guide_not_offered_here(code: str) -> None:
    assert_rejected_as("unknown_prefix", code, {"ZZZZZ"})


_TYPED = {"0": "0Oo", "1": "1IiLl"}


@st.composite
def typed_variants(draw: st.DrawFn, code: str) -> str:
    """Draw a way a relative might type ``code``: case, lookalikes, separators."""
    parts = [draw(st.sampled_from(["", " ", "\t", "  "]))]
    for symbol in code.replace("-", ""):
        parts.append(draw(st.sampled_from(_TYPED.get(symbol, symbol + symbol.lower()))))
        parts.append(draw(st.sampled_from(["", "", "-", " ", "--", " - ", "\u2013"])))
    parts.append(draw(st.sampled_from(["", " ", "\n"])))
    return "".join(parts)


@given(codes(), st.data())
def test_normalise_round_trips_typed_variants(code: str, data: st.DataObject) -> None:
    typed = data.draw(typed_variants(code))
    assert normalise(typed) == code
    assert parse(typed, {code.split("-")[0]}).code == code


@given(codes())
def test_normalise_keeps_a_canonical_code(code: str) -> None:
    assert normalise(code) == code


@given(random_bits, random_bits)
def test_distinct_random_bits_give_distinct_codes(first: int, second: int) -> None:
    # The encoding is injective, so every one of the 2**55 draws is a different code.
    same = generate_code("DEM", rng=FixedBits(first)) == generate_code("DEM", rng=FixedBits(second))
    assert same == (first == second)


def test_ten_thousand_generated_codes_are_valid_and_distinct() -> None:
    generated = [generate_code("EFT") for _ in range(10_000)]
    assert len(set(generated)) == len(generated)
    assert all(parse(code, {"EFT"}).code == code for code in generated)
    # Every random position takes every symbol: no position is stuck. A symbol is
    # missing from a position by chance with probability about 32 * e**-312.
    for index in range(RANDOM_BITS // 5):
        column = {code.replace("-", "")[3 + index] for code in generated}
        assert column == set(ALPHABET)
