"""Tests for the activation code format: check symbol, normalisation, generation."""

import itertools
import random
import secrets

import pytest
from hypothesis import given
from hypothesis import strategies as st

from activation_codes.codes import (
    ALPHABET,
    BODY_SYMBOLS,
    RANDOM_BITS,
    CodeError,
    check_symbol,
    generate_code,
    has_valid_check,
    normalise,
    parse,
    prefix_for,
    validate_prefix,
)

prefixes = st.text(alphabet=ALPHABET, min_size=2, max_size=4)
random_bits = st.integers(min_value=0, max_value=2**RANDOM_BITS - 1)


class FixedBits:
    """A stand-in for :mod:`secrets` that returns chosen bits."""

    def __init__(self, bits: int) -> None:
        self.bits = bits
        self.asked: list[int] = []

    def randbits(self, k: int, /) -> int:
        self.asked.append(k)
        return self.bits % (1 << k)


@st.composite
def codes(draw: st.DrawFn) -> str:
    return generate_code(draw(prefixes), rng=FixedBits(draw(random_bits)))


def symbol_positions(code: str) -> list[int]:
    """Return the indexes of the symbols in a hyphenated code."""
    return [i for i, ch in enumerate(code) if ch != "-"]


def replace_at(code: str, index: int, symbol: str) -> str:
    return code[:index] + symbol + code[index + 1 :]


def assert_rejected_as(kind: str, raw: str, known_prefixes: set[str]) -> None:
    with pytest.raises(CodeError) as caught:
        parse(raw, known_prefixes)
    assert caught.value.kind == kind, f"{raw!r}: {caught.value}"


# The field the check symbol is computed in ------------------------------------------


def test_alpha_is_primitive_so_all_position_weights_are_distinct() -> None:
    powers, value = [], 1
    for _ in range(31):
        powers.append(value)
        value <<= 1
        if value & 0b100000:
            value ^= 0b100101
    assert value == 1
    assert len(set(powers)) == 31
    assert 0 not in powers


# Single substitutions and adjacent transpositions -----------------------------------


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


def test_check_symbol_matches_hand_computed_value() -> None:
    # Worked by hand, so a silent change of the polynomial or the weights shows.
    # E, F, T = 14, 15, 26. Horner: 14a + 15 = 28 ^ 15 = 19; 19a = 38 ^ 37 = 3
    # (reduced by x^5 + x^2 + 1), 3 + 26 = 25; check = 25a = 50 ^ 37 = 23 = "Q".
    # Without the weights (a plain XOR) it would be 14 ^ 15 ^ 26 = 27 = "V".
    assert check_symbol("EFT") == "Q"
    assert has_valid_check("EFTQ")


# Prefixes ---------------------------------------------------------------------------


@given(codes())
def test_rejects_a_valid_code_of_a_guide_not_offered_here(code: str) -> None:
    assert_rejected_as("unknown_prefix", code, {"ZZZZZ"})


@pytest.mark.parametrize(
    ("guide_id", "prefix"),
    [
        ("demenslots", "DEM"),
        ("aterhamtning", "ATE"),
        ("efterlevande", "EFT"),
        ("lilla-oasen", "AAS"),
        ("öppen-vård", "PPE"),
        ("ab", "AB"),
    ],
)
def test_prefix_for_takes_first_three_crockford_letters(guide_id: str, prefix: str) -> None:
    assert prefix_for(guide_id) == prefix


@pytest.mark.parametrize("guide_id", ["", "a", "ö", "lilo", "a1", "ßa"])
def test_prefix_for_raises_when_too_few_letters_remain(guide_id: str) -> None:
    with pytest.raises(CodeError) as caught:
        prefix_for(guide_id)
    assert caught.value.kind == "invalid_prefix"


@pytest.mark.parametrize("prefix", ["D", "DEMEN", "DEMO", "LOT", "UTE", "D-M", "ß", ""])
def test_validate_prefix_rejects_what_codes_cannot_carry(prefix: str) -> None:
    with pytest.raises(CodeError) as caught:
        validate_prefix(prefix)
    assert caught.value.kind == "invalid_prefix"


def test_validate_prefix_upper_cases() -> None:
    assert validate_prefix(" dem ") == "DEM"
    assert validate_prefix("a7") == "A7"


def test_generate_code_refuses_an_invalid_prefix() -> None:
    with pytest.raises(CodeError):
        generate_code("DEMO")


# Normalisation ----------------------------------------------------------------------

# What a relative may type for each symbol: lower case, and O for 0, I or L for 1.
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


def test_normalise_reads_lookalikes_as_digits() -> None:
    code = generate_code("DEM", rng=FixedBits(0))  # eleven zeros
    assert code.startswith("DEM-0000-0000-000")
    assert normalise(code.replace("0", "O").lower()) == code
    code = generate_code("A1", rng=FixedBits(int("00001" * 11, 2)))
    assert normalise(code.replace("1", "l").replace("A", "a")) == code
    assert normalise(code.replace("1", "I")) == code


@pytest.mark.parametrize(
    ("raw", "message_start"),
    [
        ("", "Skriv in koden"),
        ("  - ", "Skriv in koden"),
        ("DEM-7KQ4-M2XP-9", "Koden är för kort"),
        ("DEM-7KQ4-M2XP-9ABC-DE", "Koden är för lång"),
        ("DEM-7KQ4-M2XP-9ABU", "Tecknet ”U”"),
        ("DEM-7KQ4-M2XP-9AB?", "Tecknet ”?”"),
        ("DEM-7KQ4-M2XP-9ABß", "Tecknet ”ß”"),
    ],
)
def test_normalise_rejects_malformed_input_with_a_swedish_instruction(
    raw: str, message_start: str
) -> None:
    with pytest.raises(CodeError) as caught:
        normalise(raw)
    assert caught.value.kind == "malformed"
    assert str(caught.value).startswith(message_start)
    assert str(caught.value).endswith(".")


def test_error_kinds_are_distinct_and_share_one_root() -> None:
    errors = [
        CodeError.empty(),
        CodeError.mistyped("DEM-0000-0000-0000"),
        CodeError.unknown_prefix("DEM-0000-0000-0000"),
        CodeError.invalid_prefix("O"),
    ]
    assert len({error.kind for error in errors}) == len(errors)
    assert all(isinstance(error, ValueError) for error in errors)
    assert "försök igen" in str(errors[1])


# Generation -------------------------------------------------------------------------


def test_generate_code_draws_at_least_50_bits() -> None:
    rng = FixedBits(0)
    generate_code("DEM", rng=rng)
    assert sum(rng.asked) == RANDOM_BITS >= 50


@given(random_bits, random_bits)
def test_distinct_random_bits_give_distinct_codes(first: int, second: int) -> None:
    # The encoding is injective, so every one of the 2**55 draws is a different code.
    same = generate_code("DEM", rng=FixedBits(first)) == generate_code("DEM", rng=FixedBits(second))
    assert same == (first == second)


def test_generated_codes_have_the_documented_shape() -> None:
    code = generate_code("dem")
    prefix, *groups = code.split("-")
    assert prefix == "DEM"
    assert [len(group) for group in groups] == [4, 4, 4]
    assert len("".join(groups)) == BODY_SYMBOLS
    assert set("".join(groups)) <= set(ALPHABET)


def test_ten_thousand_generated_codes_are_valid_and_distinct() -> None:
    generated = [generate_code("EFT") for _ in range(10_000)]
    assert len(set(generated)) == len(generated)
    assert all(parse(code, {"EFT"}).code == code for code in generated)
    # Every random position takes every symbol: no position is stuck. A symbol is
    # missing from a position by chance with probability about 32 * e**-312.
    for index in range(RANDOM_BITS // 5):
        column = {code.replace("-", "")[3 + index] for code in generated}
        assert column == set(ALPHABET)


def test_generate_code_uses_secrets_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []

    def spy(k: int) -> int:
        seen.append(k)
        return random.Random(7).getrandbits(k)

    monkeypatch.setattr(secrets, "randbits", spy)
    generate_code("DEM")
    assert seen == [RANDOM_BITS]
