"""Tests for the activation code format: check symbol, normalisation, generation."""

import random
import secrets

import pytest

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


class FixedBits:
    """A stand-in for :mod:`secrets` that returns chosen bits."""

    def __init__(self, bits: int) -> None:
        self.bits = bits
        self.asked: list[int] = []

    def randbits(self, k: int, /) -> int:
        self.asked.append(k)
        return self.bits % (1 << k)


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


def test_check_symbol_matches_hand_computed_value() -> None:
    # Worked by hand, so a silent change of the polynomial or the weights shows.
    # E, F, T = 14, 15, 26. Horner: 14a + 15 = 28 ^ 15 = 19; 19a = 38 ^ 37 = 3
    # (reduced by x^5 + x^2 + 1), 3 + 26 = 25; check = 25a = 50 ^ 37 = 23 = "Q".
    # Without the weights (a plain XOR) it would be 14 ^ 15 ^ 26 = 27 = "V".
    assert check_symbol("EFT") == "Q"
    assert has_valid_check("EFTQ")


# Prefixes ---------------------------------------------------------------------------


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


def test_generated_codes_have_the_documented_shape() -> None:
    code = generate_code("dem")
    prefix, *groups = code.split("-")
    assert prefix == "DEM"
    assert [len(group) for group in groups] == [4, 4, 4]
    assert len("".join(groups)) == BODY_SYMBOLS
    assert set("".join(groups)) <= set(ALPHABET)


def test_generate_code_uses_secrets_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []

    def spy(k: int) -> int:
        seen.append(k)
        return random.Random(7).getrandbits(k)

    monkeypatch.setattr(secrets, "randbits", spy)
    generate_code("DEM")
    assert seen == [RANDOM_BITS]
