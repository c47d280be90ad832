"""The suppression rules: no hidden value can be worked out from what is published.

The check here is independent of the module's own: a hidden value x is determined by
the published table exactly when adding the equation "x = known" does not raise the
rank of the system of the table's relations over the hidden values (x's unit vector
lies in their row space). Ranks are computed with exact fractions.
"""

from __future__ import annotations

from fractions import Fraction
from itertools import combinations

from hypothesis import given, settings
from hypothesis import strategies as st

from guide.suppression import (
    HIDDEN_MARK,
    SMALL_MARK,
    Shown,
    difference_unsafe,
    suppress_table,
)

counts = st.one_of(st.integers(0, 6), st.integers(0, 60))


tables = st.integers(1, 5).flatmap(
    lambda columns: st.lists(
        st.lists(counts, min_size=columns, max_size=columns), min_size=1, max_size=5
    )
)


def rank(rows: list[list[Fraction]]) -> int:
    matrix = [row[:] for row in rows]
    found = 0
    width = len(matrix[0]) if matrix else 0
    for column in range(width):
        pivot = next((r for r in range(found, len(matrix)) if matrix[r][column] != 0), None)
        if pivot is None:
            continue
        matrix[found], matrix[pivot] = matrix[pivot], matrix[found]
        for other in range(len(matrix)):
            if other != found and matrix[other][column] != 0:
                factor = matrix[other][column] / matrix[found][column]
                matrix[other] = [
                    a - factor * b for a, b in zip(matrix[other], matrix[found], strict=True)
                ]
        found += 1
    return found


def hidden_values(
    cells: list[list[int]],
    row_totals: bool,
    column_totals: bool,
    force: frozenset = frozenset(),  # type: ignore[type-arg]
) -> list[str]:
    """Publish the table and return the names of the hidden values that can be worked out."""
    table = suppress_table(cells, row_totals, column_totals, force)
    rows, columns = len(cells), len(cells[0])
    shown: dict[str, Shown] = {}
    for i in range(rows):
        for j in range(columns):
            shown[f"c{i},{j}"] = table.cells[i][j]
    for i, total in enumerate(table.row_totals):
        shown[f"r{i}"] = total
    for j, total in enumerate(table.column_totals):
        shown[f"k{j}"] = total
    if table.grand_total is not None:
        shown["g"] = table.grand_total
    # The relations a reader knows, written out independently of the module.
    relations: list[dict[str, int]] = []
    if row_totals:
        relations += [
            {**{f"c{i},{j}": 1 for j in range(columns)}, f"r{i}": -1} for i in range(rows)
        ]
        relations.append({**{f"r{i}": 1 for i in range(rows)}, "g": -1})
    if column_totals:
        relations += [
            {**{f"c{i},{j}": 1 for i in range(rows)}, f"k{j}": -1} for j in range(columns)
        ]
        relations.append({**{f"k{j}": 1 for j in range(columns)}, "g": -1})
    hidden = [name for name, value in shown.items() if value.hidden]
    system = [[Fraction(r.get(name, 0)) for name in hidden] for r in relations]
    base = rank(system) if system and hidden else 0
    exposed = []
    for n, name in enumerate(hidden):
        unit = [Fraction(int(k == n)) for k in range(len(hidden))]
        if rank([*system, unit]) == base:
            exposed.append(name)
    return exposed


@settings(max_examples=300, deadline=None)
@given(tables, st.booleans(), st.booleans())
def test_no_hidden_value_is_a_linear_combination_of_the_published_ones(
    cells: list[list[int]], row_totals: bool, column_totals: bool
) -> None:
    assert hidden_values(cells, row_totals, column_totals) == []


@settings(max_examples=200, deadline=None)
@given(tables, st.booleans(), st.booleans(), st.sampled_from(["grand", "row", "column", "cell"]))
def test_values_hidden_for_the_difference_rule_are_protected_like_small_ones(
    cells: list[list[int]], row_totals: bool, column_totals: bool, kind: str
) -> None:
    force = frozenset({(kind, 0, 0)})
    assert hidden_values(cells, row_totals, column_totals, force) == []
    table = suppress_table(cells, row_totals, column_totals, force)
    forced = {
        "cell": table.cells[0][0],
        "row": table.row_totals[0] if table.row_totals else None,
        "column": table.column_totals[0] if table.column_totals else None,
        "grand": table.grand_total,
    }[kind]
    assert forced is None or forced.hidden


@settings(max_examples=300, deadline=None)
@given(tables, st.booleans(), st.booleans())
def test_every_small_count_is_hidden_and_everything_shown_is_true(
    cells: list[list[int]], row_totals: bool, column_totals: bool
) -> None:
    table = suppress_table(cells, row_totals, column_totals)
    for row, published in zip(cells, table.cells, strict=True):
        for value, shown in zip(row, published, strict=True):
            if 0 < value < 5:
                assert shown.hidden and shown.text() == SMALL_MARK
            else:
                assert shown.value in (None, value)
                if shown.hidden:
                    assert shown.text() == HIDDEN_MARK
    assert len(table.row_totals) == (len(cells) if row_totals else 0)
    for row, total in zip(cells, table.row_totals, strict=False):
        assert total.value in (None, sum(row)) and not (0 < sum(row) < 5 and not total.hidden)
    for j, total in enumerate(table.column_totals):
        column = sum(row[j] for row in cells)
        assert total.value in (None, column) and not (0 < column < 5 and not total.hidden)


@given(st.lists(st.integers(0, 30), min_size=1, max_size=12))
def test_two_published_nested_periods_never_differ_by_a_small_count(monthly: list[int]) -> None:
    """If the whole period is published, no run of its months differs from it by 1 to 4."""
    if difference_unsafe(monthly):
        return
    total = sum(monthly)
    for start, end in combinations(range(len(monthly) + 1), 2):
        difference = total - sum(monthly[start:end])
        assert not 0 < difference < 5
