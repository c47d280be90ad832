"""Activation code format: generate, normalise and check the codes printed on cards.

A code reads ``PREFIX-XXXX-XXXX-XXXC``: a guide prefix of two to four Crockford
base32 symbols, eleven random symbols (55 bits from :mod:`secrets`) and one check
symbol ``C``, the last twelve in three groups of four. Everything here is pure: no
database and no web framework, so the web layer can reject a typing error before it
looks anything up.

Why the check symbol catches every single substitution and every adjacent
transposition
-----------------------------------------------------------------------------------
Each symbol is a value in GF(32) = GF(2)[x] / (x^5 + x^2 + 1). That polynomial is
primitive, so ``alpha = x`` has multiplicative order 31 and ``alpha^0 .. alpha^30``
are 31 distinct non-zero elements. A code ``s_0 .. s_{n-1}`` (prefix included,
hyphens ignored, check symbol last, n <= 16) is valid when its syndrome is zero::

    S = sum(s_i * w_i),   w_i = alpha^(n-1-i)   (addition in GF(32) is XOR)

The generator picks the check symbol (weight ``alpha^0 = 1``) to make S zero.

* Substituting ``s_i`` by ``s_i + e`` (e != 0) changes S by ``e * w_i``. A field has
  no zero divisors and ``w_i != 0``, so S becomes non-zero.
* Swapping neighbours ``a = s_i`` and ``b = s_{i+1}`` (a != b) changes S by
  ``(a + b) * (w_i + w_{i+1}) = (a + b) * alpha^(n-2-i) * (alpha + 1)``. Every factor
  is non-zero (``alpha != 1`` because its order is 31), so S becomes non-zero.

The same argument holds for swaps of any two positions, since all weights are
distinct. A random wrong code passes with probability 1/32, and the prefix list and
the database catch the rest.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection
from dataclasses import dataclass
from typing import ClassVar, Protocol

from guide.errors import N_

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
"""Crockford base32: digits and upper-case letters without I, L, O and U."""

RANDOM_SYMBOLS = 11
RANDOM_BITS = 5 * RANDOM_SYMBOLS
BODY_SYMBOLS = RANDOM_SYMBOLS + 1  # the random symbols and the check symbol
GROUP_SIZE = 4
PREFIX_MIN, PREFIX_MAX = 2, 4

_VALUES = {symbol: value for value, symbol in enumerate(ALPHABET)}

# What people type for a symbol, beyond the symbol itself. Crockford reads the
# lookalikes as the digits so a code copied by eye still works.
_LOOKALIKES = {"O": "0", "I": "1", "L": "1"}

# Separators people type, and the dashes and invisible characters that phones, word
# processors and e-mail clients put in when a code is pasted.
_SEPARATORS = frozenset("-\u00ad\u2010\u2011\u2012\u2013\u2014\u2212\u200b\ufeff")

# x^5 + x^2 + 1, a primitive polynomial over GF(2).
_PRIMITIVE_POLYNOMIAL = 0b100101


class RandomBits(Protocol):
    """A source of random bits: the :mod:`secrets` module or a ``random.Random``."""

    def randbits(self, k: int, /) -> int: ...


class CodeError(ValueError):
    """A code that cannot be used; the message tells the relative what to do."""

    kind: ClassVar[str] = "code_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    @classmethod
    def empty(cls) -> MalformedCode:
        """Build the error for input with no code in it."""
        return MalformedCode(N_("Skriv in koden från ditt aktiveringskort."))

    @classmethod
    def bad_character(cls, character: str) -> MalformedCode:
        """Build the error for a character that never appears in a code."""
        return MalformedCode(
            N_(
                "Tecknet ”%(character)s” finns inte i koderna. "
                "Skriv in koden precis som den står på kortet och försök igen.",
                character=character,
            )
        )

    @classmethod
    def too_short(cls) -> MalformedCode:
        """Build the error for a code with symbols missing."""
        return MalformedCode(
            N_(
                "Koden är för kort. Kontrollera att du har fått med alla tecken "
                "från kortet och försök igen."
            )
        )

    @classmethod
    def too_long(cls) -> MalformedCode:
        """Build the error for a code with symbols too many."""
        return MalformedCode(
            N_(
                "Koden är för lång. Kontrollera att du bara har skrivit in koden "
                "från kortet och försök igen."
            )
        )

    @classmethod
    def mistyped(cls, code: str) -> MistypedCode:
        """Build the error for a code whose check symbol does not match."""
        return MistypedCode(
            N_(
                "Koden %(code)s verkar ha ett skrivfel. Kontrollera tecknen och försök igen.",
                code=code,
            ),
            code=code,
        )

    @classmethod
    def unknown_prefix(cls, code: str) -> UnknownPrefix:
        """Build the error for a well-formed code of no guide offered here."""
        return UnknownPrefix(
            N_(
                "Koden %(code)s hör inte till någon guide i den här tjänsten. "
                "Kontrollera att du är på rätt webbplats, eller fråga den som gav "
                "dig kortet.",
                code=code,
            ),
            code=code,
        )

    @classmethod
    def invalid_prefix(cls, prefix: str) -> InvalidPrefix:
        """Build the error for a guide prefix that codes cannot carry."""
        return InvalidPrefix(
            f"Prefixet ”{prefix}” kan inte användas. Välj två till fyra tecken "
            "bland siffrorna och bokstäverna A–Z utom I, L, O och U."
        )


class MalformedCode(CodeError):
    """The input has the wrong length or characters that are never in a code."""

    kind = "malformed"


class MistypedCode(CodeError):
    """The input looks like a code, but its check symbol shows a typing error."""

    kind = "mistyped"


class UnknownPrefix(CodeError):
    """The code is well-formed, but no guide here uses its prefix."""

    kind = "unknown_prefix"


class InvalidPrefix(CodeError):
    """A guide prefix that is not two to four Crockford base32 symbols."""

    kind = "invalid_prefix"


@dataclass(frozen=True)
class ParsedCode:
    """A code that passed its check symbol and carries a known prefix."""

    code: str
    """The canonical hyphenated form, as printed and as stored."""
    prefix: str

    def __str__(self) -> str:
        return self.code


def _times_alpha(value: int) -> int:
    """Multiply a GF(32) element by alpha = x, reducing by the primitive polynomial."""
    value <<= 1
    if value & 0b100000:
        value ^= _PRIMITIVE_POLYNOMIAL
    return value


def _syndrome(symbols: str) -> int:
    """Return sum(s_i * alpha^(n-1-i)) over GF(32), by Horner's rule."""
    total = 0
    for symbol in symbols:
        total = _times_alpha(total) ^ _VALUES[symbol]
    return total


def check_symbol(symbols: str) -> str:
    """Return the symbol that, appended to ``symbols``, makes a valid code.

    ``symbols`` is the prefix and the random symbols without hyphens.
    """
    # Appending c multiplies the syndrome so far by alpha and adds c (weight 1),
    # so c must equal that product for the total to be zero.
    return ALPHABET[_times_alpha(_syndrome(symbols))]


def has_valid_check(code: str) -> bool:
    """Tell whether a compact or canonical code's check symbol matches."""
    return _syndrome(code.replace("-", "")) == 0


def validate_prefix(prefix: str) -> str:
    """Return ``prefix`` upper-cased, or raise :class:`InvalidPrefix`.

    Lookalikes are not mapped here: a prefix with O, I or L could never be
    typed back, since relatives' input reads those as digits.
    """
    stripped = prefix.strip()
    # Checking ASCII first keeps "ß" from upper-casing into the valid "SS".
    canonical = stripped.upper() if stripped.isascii() else ""
    if not PREFIX_MIN <= len(canonical) <= PREFIX_MAX or any(
        symbol not in _VALUES for symbol in canonical
    ):
        raise CodeError.invalid_prefix(prefix)
    return canonical


def prefix_for(guide_id: str) -> str:
    """Derive a guide's default prefix from its id: its first three usable letters.

    Letters that are not Crockford symbols (I, L, O, U, å, ä, ö) are skipped, so
    ``demenslots`` gives DEM, ``aterhamtning`` ATE and ``efterlevande`` EFT.
    """
    letters = [
        ch.upper() for ch in guide_id if ch.isascii() and ch.isalpha() and ch.upper() in _VALUES
    ]
    return validate_prefix("".join(letters[:3]))


def _format(compact: str) -> str:
    """Insert the hyphens into a compact code: PREFIX-XXXX-XXXX-XXXX."""
    split = len(compact) - BODY_SYMBOLS
    body = compact[split:]
    groups = [body[i : i + GROUP_SIZE] for i in range(0, BODY_SYMBOLS, GROUP_SIZE)]
    return "-".join([compact[:split], *groups])


def generate_code(prefix: str, rng: RandomBits = secrets) -> str:
    """Generate a new code for the guide with ``prefix``, in canonical form."""
    prefix = validate_prefix(prefix)
    bits = rng.randbits(RANDOM_BITS)
    random_part = "".join(ALPHABET[(bits >> (5 * i)) & 0b11111] for i in range(RANDOM_SYMBOLS))
    compact = prefix + random_part
    return _format(compact + check_symbol(compact))


def normalise(raw: str) -> str:
    """Return the canonical form of a typed code, or raise :class:`MalformedCode`.

    Accepts lower case, spaces, missing or extra hyphens, and O for 0, I or L
    for 1. Only the form is checked here; :func:`parse` checks the check symbol
    and the prefix.
    """
    symbols: list[str] = []
    for ch in raw:
        if ch.isspace() or ch in _SEPARATORS:
            continue
        # Upper-case one character at a time: "ß".upper() is "SS", which must
        # not turn into two valid symbols.
        upper = ch.upper()
        symbol = _LOOKALIKES.get(upper, upper)
        if symbol not in _VALUES:
            raise CodeError.bad_character(ch)
        symbols.append(symbol)
    if not symbols:
        raise CodeError.empty()
    if len(symbols) < PREFIX_MIN + BODY_SYMBOLS:
        raise CodeError.too_short()
    if len(symbols) > PREFIX_MAX + BODY_SYMBOLS:
        raise CodeError.too_long()
    return _format("".join(symbols))


def parse(raw: str, known_prefixes: Collection[str]) -> ParsedCode:
    """Read a typed code and return it canonical, or raise a :class:`CodeError`.

    The checks run from the cheapest to explain to the relative: the form
    (``malformed``), then the check symbol (``mistyped``), then whether a guide
    here uses the prefix (``unknown_prefix``). ``known_prefixes`` holds prefixes
    in canonical upper case.
    """
    code = normalise(raw)
    if not has_valid_check(code):
        raise CodeError.mistyped(code)
    prefix = code.split("-", 1)[0]
    if prefix not in known_prefixes:
        raise CodeError.unknown_prefix(code)
    return ParsedCode(code=code, prefix=prefix)
