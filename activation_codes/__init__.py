"""Activation codes and the printable cards that carry them.

The code format lives in :mod:`activation_codes.codes`; the print-ready PDF of
cards in :mod:`activation_codes.cards_pdf`. Both are pure libraries: the web app and
the command line call them and own the database.
"""

from activation_codes.codes import (
    ALPHABET,
    RANDOM_BITS,
    CodeError,
    InvalidPrefix,
    MalformedCode,
    MistypedCode,
    ParsedCode,
    UnknownPrefix,
    check_symbol,
    generate_code,
    has_valid_check,
    normalise,
    parse,
    prefix_for,
    validate_prefix,
)

__all__ = [
    "ALPHABET",
    "RANDOM_BITS",
    "CodeError",
    "InvalidPrefix",
    "MalformedCode",
    "MistypedCode",
    "ParsedCode",
    "UnknownPrefix",
    "check_symbol",
    "generate_code",
    "has_valid_check",
    "normalise",
    "parse",
    "prefix_for",
    "validate_prefix",
]
