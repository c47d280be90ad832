"""Protect small numbers in published statistics: primary and complementary suppression (pure).

The claim: in a table published by `suppress_table`, no hidden value (a cell or a
total) is a linear combination of the published ones. Every count from 1 to
`SMALL - 1` is hidden (primary suppression); then, as long as some hidden value is
still determined by the published row, column and grand totals, one more published
value in its row or column is hidden (complementary suppression), smallest first.

Why that is enough: the published table fixes the equations "cells of row i add up
to row total i", the same for columns, and "row totals (and column totals) add up to
the grand total". Moving every published number to the right-hand side leaves a
linear system over the hidden values. A hidden value x is determined exactly when
the unit vector of x lies in the row space of that system; `determined` tests this
with exact rational Gaussian elimination (reduced row echelon form: x is determined
iff its column is a pivot whose row has no other non-zero entry). Complementary
suppression stops only when no hidden value is determined; it always stops, since
hiding everything leaves nothing determined.

Two periods: a count over a period can be worked out from two overlapping periods
(January–March minus January–February is March). `difference_unsafe` takes a
count month by month and says whether some shorter run of whole months inside the
period differs from the whole by 1 to `SMALL - 1`; such a cell is hidden too, so
two published nested periods never differ by a small count.

Rates and medians over fewer than `SMALL` values are not shown, and neither is a
change between periods when either count is small.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from statistics import median

SMALL = 5

# What a hidden value shows as: a small count, or a value hidden to protect one.
SMALL_MARK = "<5"
HIDDEN_MARK = "dolt"
NO_CHANGE_MARK = "–"


@dataclass(frozen=True)
class Shown:
    """One published value: the number, or why it is hidden."""

    value: int | None
    reason: str | None = None  # None (shown), "small", "difference" or "complementary"

    @property
    def hidden(self) -> bool:
        return self.value is None

    def text(self) -> str:
        if self.value is not None:
            return str(self.value)
        return SMALL_MARK if self.reason == "small" else HIDDEN_MARK

    def json(self) -> int | str:
        return self.value if self.value is not None else self.text()


@dataclass(frozen=True)
class SuppressedTable:
    cells: tuple[tuple[Shown, ...], ...]
    row_totals: tuple[Shown, ...]  # () when the table has no row totals
    column_totals: tuple[Shown, ...]  # () when the table has no column totals
    grand_total: Shown | None


# A position in the table: ("cell", i, j), ("row", i, 0), ("column", j, 0), ("grand", 0, 0).
Position = tuple[str, int, int]


def is_small(count: int) -> bool:
    return 0 < count < SMALL


def positions(rows: int, columns: int, row_totals: bool, column_totals: bool) -> list[Position]:
    found: list[Position] = [("cell", i, j) for i in range(rows) for j in range(columns)]
    if row_totals:
        found += [("row", i, 0) for i in range(rows)]
    if column_totals:
        found += [("column", j, 0) for j in range(columns)]
    if row_totals or column_totals:
        found.append(("grand", 0, 0))
    return found


def equations(
    rows: int, columns: int, row_totals: bool, column_totals: bool
) -> list[dict[Position, int]]:
    """Return the linear relations a published table holds, as position -> coefficient (= 0)."""
    found: list[dict[Position, int]] = []
    if row_totals:
        for i in range(rows):
            equation: dict[Position, int] = {("cell", i, j): 1 for j in range(columns)}
            equation[("row", i, 0)] = -1
            found.append(equation)
        grand = {("row", i, 0): 1 for i in range(rows)}
        grand[("grand", 0, 0)] = -1
        found.append(grand)
    if column_totals:
        for j in range(columns):
            equation = {("cell", i, j): 1 for i in range(rows)}
            equation[("column", j, 0)] = -1
            found.append(equation)
        grand = {("column", j, 0): 1 for j in range(columns)}
        grand[("grand", 0, 0)] = -1
        found.append(grand)
    return found


def determined(
    hidden: Sequence[Position], relations: Sequence[dict[Position, int]]
) -> set[Position]:
    """Return the hidden positions that the relations fix, given every other value."""
    index = {position: n for n, position in enumerate(hidden)}
    matrix = [
        [Fraction(relation.get(position, 0)) for position in hidden]
        for relation in relations
        if any(position in index for position in relation)
    ]
    pivots = _reduce(matrix, len(hidden))
    found: set[Position] = set()
    for row, column in pivots:
        if all(value == 0 for n, value in enumerate(matrix[row]) if n != column):
            found.add(hidden[column])
    return found


def _reduce(matrix: list[list[Fraction]], width: int) -> list[tuple[int, int]]:
    """Bring `matrix` to reduced row echelon form in place; return (row, column) of each pivot."""
    pivots: list[tuple[int, int]] = []
    row = 0
    for column in range(width):
        pivot = next((r for r in range(row, len(matrix)) if matrix[r][column] != 0), None)
        if pivot is None:
            continue
        matrix[row], matrix[pivot] = matrix[pivot], matrix[row]
        lead = matrix[row][column]
        matrix[row] = [value / lead for value in matrix[row]]
        for other in range(len(matrix)):
            factor = matrix[other][column]
            if other != row and factor != 0:
                matrix[other] = [
                    a - factor * b for a, b in zip(matrix[other], matrix[row], strict=True)
                ]
        pivots.append((row, column))
        row += 1
        if row == len(matrix):
            break
    return pivots


def _value_at(
    position: Position,
    cells: Sequence[Sequence[int]],
) -> int:
    kind, i, j = position
    if kind == "cell":
        return cells[i][j]
    if kind == "row":
        return sum(cells[i])
    if kind == "column":
        return sum(row[i] for row in cells)
    return sum(sum(row) for row in cells)


def _neighbours(position: Position, rows: int, columns: int) -> list[Position]:
    """Return the positions sharing an equation with `position` (its row, column or totals)."""
    kind, i, j = position
    if kind == "cell":
        return (
            [("cell", i, c) for c in range(columns) if c != j]
            + [("cell", r, j) for r in range(rows) if r != i]
            + [("row", i, 0), ("column", j, 0)]
        )
    if kind == "row":
        return (
            [("cell", i, c) for c in range(columns)]
            + [("row", r, 0) for r in range(rows) if r != i]
            + [("grand", 0, 0)]
        )
    if kind == "column":
        return (
            [("cell", r, i) for r in range(rows)]
            + [("column", c, 0) for c in range(columns) if c != i]
            + [("grand", 0, 0)]
        )
    return [("row", r, 0) for r in range(rows)] + [("column", c, 0) for c in range(columns)]


def suppress_table(
    cells: Sequence[Sequence[int]],
    row_totals: bool = True,
    column_totals: bool = True,
    force: frozenset[Position] = frozenset(),
) -> SuppressedTable:
    """Return the table as it may be published: small counts and their complements hidden.

    `cells` is a list of rows of non-negative counts. `force` names further positions
    (cells or totals) to hide as if small, e.g. those `difference_unsafe` flags.
    """
    rows = len(cells)
    columns = len(cells[0]) if rows else 0
    if any(len(row) != columns for row in cells):
        raise ValueError("every row needs the same number of cells")
    if any(value < 0 for row in cells for value in row):
        raise ValueError("counts are never negative")
    every = positions(rows, columns, row_totals, column_totals)
    present = set(every)
    relations = [
        {p: c for p, c in relation.items() if p in present}
        for relation in equations(rows, columns, row_totals, column_totals)
    ]
    reason: dict[Position, str] = {}
    for position in every:
        value = _value_at(position, cells)
        if is_small(value):
            reason[position] = "small"
        elif position in force:
            reason[position] = "difference"
    while True:
        hidden = [p for p in every if p in reason]
        exposed = determined(hidden, relations) if hidden else set()
        if not exposed:
            break
        target = min(exposed, key=every.index)
        candidates = [
            p for p in _neighbours(target, rows, columns) if p in present and p not in reason
        ]
        if not candidates:  # cannot happen: a determined value has a published neighbour
            candidates = [p for p in every if p not in reason]
        # Smallest positive cell first; totals and zeros only when nothing else will do.
        chosen = min(
            candidates,
            key=lambda p: (
                p[0] != "cell",
                _value_at(p, cells) == 0,
                _value_at(p, cells),
                every.index(p),
            ),
        )
        reason[chosen] = "complementary"

    def shown(position: Position) -> Shown:
        if position in reason:
            return Shown(None, reason[position])
        return Shown(_value_at(position, cells))

    return SuppressedTable(
        cells=tuple(tuple(shown(("cell", i, j)) for j in range(columns)) for i in range(rows)),
        row_totals=tuple(shown(("row", i, 0)) for i in range(rows)) if row_totals else (),
        column_totals=(
            tuple(shown(("column", j, 0)) for j in range(columns)) if column_totals else ()
        ),
        grand_total=shown(("grand", 0, 0)) if (row_totals or column_totals) else None,
    )


def difference_unsafe(monthly: Sequence[int]) -> bool:
    """Return whether some shorter run of whole months differs from the whole by a small count.

    `monthly` is one cell's count in each month of the period, in order. Any run
    of months inside the period is a period someone may ask for too; if the two
    differ by 1 to SMALL - 1, publishing both would give away a small count.
    """
    total = sum(monthly)
    length = len(monthly)
    prefix = [0]
    for count in monthly:
        prefix.append(prefix[-1] + count)
    for start in range(length):
        for end in range(start + 1, length + 1):
            if end - start == length:
                continue
            if is_small(total - (prefix[end] - prefix[start])):
                return True
    return False


def share(numerator: Shown, denominator: Shown) -> Fraction | None:
    """Return a rate, or None when either count is hidden or the denominator is small."""
    if numerator.value is None or denominator.value is None or denominator.value < SMALL:
        return None
    return Fraction(numerator.value, denominator.value)


def median_of(values: Sequence[float]) -> float | None:
    """Return the median, or None over fewer than SMALL values."""
    if len(values) < SMALL:
        return None
    return float(median(values))


def change(current: Shown, previous: Shown) -> str:
    """Return the change between two periods as "+12 %", or "–" when either count is small."""
    if (
        current.value is None
        or previous.value is None
        or current.value < SMALL
        or previous.value < SMALL
    ):
        return NO_CHANGE_MARK
    percent = round((current.value - previous.value) * 100 / previous.value)
    sign = "+" if percent > 0 else ("−" if percent < 0 else "±")
    return f"{sign}{abs(percent)} %"
