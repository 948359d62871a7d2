"""dlexp.fmt: the one rule for numbers in tables and figure labels."""

from __future__ import annotations

import numpy as np
import pytest

from dlexp.fmt import fmt


@pytest.mark.parametrize("value, digits, text", [
    (None, 4, "—"),
    (7, 4, "7"), (np.int64(7), 4, "7"), (True, 4, "True"), ("relu", 4, "relu"),
    (0.91234, 4, "0.9123"), (0.91234, 2, "0.91"), (np.float32(0.5), 4, "0.5000"),
    (0.0, 4, "0.0000"), (999.5, 1, "999.5"),
    (3.2e-05, 4, "3.200e-05"), (3.2e-05, 2, "3.2e-05"), (-0.005, 3, "-5.00e-03"),
    (1234.5, 4, "1.234e+03"),
])
def test_fmt_fixed_in_the_middle_significant_figures_at_the_ends(value, digits, text):
    assert fmt(value, digits) == text


def test_a_tiny_learning_rate_never_shows_as_zero():
    assert float(fmt(1e-6)) == pytest.approx(1e-6) and fmt(1e-6) != fmt(0.0)


def test_a_column_reads_in_one_notation():
    from dlexp.fmt import fmt_column
    assert fmt_column([0.01, 0.001]) == ["1.000e-02", "1.000e-03"]      # not 0.0100
    assert fmt_column([0.5, 0.25, None]) == ["0.5000", "0.2500", "—"]   # all fixed: as fmt
    assert fmt_column([2e-5, 0.0, 7, "sgd"]) == ["2.000e-05", "0.000e+00", "7", "sgd"]


def test_printed_table_columns_keep_one_notation():
    import io

    from rich.console import Console

    from dlexp.experiments.tables import print_rows
    out = io.StringIO()
    print_rows([{"name": "sgd", "lr": 0.01}, {"name": "adam", "lr": 0.001}], ["name", "lr"],
               console=Console(file=out, width=80))
    assert "1.000e-02" in out.getvalue() and "0.0100" not in out.getvalue()
