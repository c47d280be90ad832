"""The suppression rules, case by case (the searches for a value that can be worked out
are in tests/properties/test_suppression.py)."""

from __future__ import annotations

from fractions import Fraction

from guide.suppression import (
    Shown,
    change,
    difference_unsafe,
    median_of,
    share,
    suppress_table,
)


def test_one_small_cell_hides_a_rectangle_of_four_not_more() -> None:
    table = suppress_table([[10, 3, 20], [7, 8, 9], [12, 15, 30]])
    hidden = {(i, j) for i, row in enumerate(table.cells) for j, c in enumerate(row) if c.hidden}
    assert (0, 1) in hidden and len(hidden) == 4
    assert all(not t.hidden for t in (*table.row_totals, *table.column_totals))


def test_a_single_column_with_its_total_hides_a_second_cell() -> None:
    table = suppress_table([[10], [3], [20]], row_totals=False)
    assert [c[0].text() for c in table.cells] == ["dolt", "<5", "20"]
    assert table.grand_total is not None and table.grand_total.value == 33


def test_zero_is_shown_and_a_table_of_zeros_hides_nothing() -> None:
    table = suppress_table([[0, 0], [0, 0]])
    assert all(not c.hidden for row in table.cells for c in row)


def test_a_small_last_month_makes_the_longer_period_unsafe() -> None:
    assert difference_unsafe([10, 10, 2])  # Jan–Mar minus Jan–Feb would be March's 2
    assert not difference_unsafe([10, 10, 0])
    assert not difference_unsafe([7])


def test_rates_and_medians_over_fewer_than_five_are_not_shown() -> None:
    assert share(Shown(3, None), Shown(4, None)) is None
    assert share(Shown(None, "small"), Shown(20, None)) is None
    assert share(Shown(5, None), Shown(20, None)) == Fraction(1, 4)
    assert median_of([1.0, 2.0, 3.0, 4.0]) is None
    assert median_of([1.0, 2.0, 3.0, 4.0, 10.0]) == 3.0


def test_a_change_over_small_counts_is_a_dash_never_a_percentage() -> None:
    assert change(Shown(20, None), Shown(None, "small")) == "–"
    assert change(Shown(20, None), Shown(4, None)) == "–"
    assert change(Shown(15, None), Shown(10, None)) == "+50 %"
    assert change(Shown(5, None), Shown(10, None)) == "−50 %"
