"""dlexp.fmt: the one rule for numbers in tables and figure labels."""

from __future__ import annotations

import numpy as np
import pytest

from dlexp.fmt import fmt


@pytest.mark.parametrize("value, digits, text", [
    (None, None, "—"),
    (7, None, "7"), (np.int64(7), None, "7"), (True, None, "True"), ("relu", None, "relu"),
    (3.0, None, "3"), (0.0, None, "0"), (20000.0, None, "20000"),     # whole: no decimals
    (0.91234, None, "0.912"), (0.91234, 2, "0.91"), (np.float32(0.5), None, "0.5"),
    (0.9, None, "0.9"), (13.454, None, "13.5"), (13.454, 1, "13.5"), (999.5, 1, "1000"),
    (0.01, None, "0.01"), (0.001, None, "0.001"), (0.0583, None, "0.0583"),
    (0.004123, 1, "0.004"), (-0.005, 2, "-0.005"),          # never rounded to zero
    (3.2e-05, None, "3.2e-05"), (1e-06, None, "1e-06"), (1.767e-06, None, "1.77e-06"),
    (1.767e4 + 0.3, None, "1.77e+04"), (1234.5, None, "1234"),
])
def test_fmt_three_figures_short_and_whole_numbers_whole(value, digits, text):
    assert fmt(value, digits) == text


def test_a_tiny_learning_rate_never_shows_as_zero():
    assert float(fmt(1e-6)) == pytest.approx(1e-6) and fmt(1e-6) != fmt(0.0)


def test_a_table_column_reads_each_number_in_its_short_form():
    from rich.console import Console
    from dlexp.experiments.tables import print_rows
    console = Console(record=True, width=120)
    rows = [{"lr": 0.01, "acc": 0.9291, "acc_std": 0.0012}, {"lr": 0.001, "acc": 0.5},
            {"lr": 1e-4, "acc": None}, {"lr": 2e-5, "acc": 7}]
    print_rows(rows, ["lr", "acc"], title="t", console=console)
    lines = console.export_text().splitlines()
    body = lines[next(i for i, line in enumerate(lines) if set(line.strip()) == {"─"}) + 1:]
    assert [line.split()[0] for line in body] == ["0.01", "0.001", "1e-04", "2e-05"]
    assert [line.split(None, 1)[1].strip() for line in body] == [
        "0.929 ± 0.0012", "0.5", "—", "7"]                     # never 1.000e-02 or 0.9291


def test_printed_table_shows_learning_rates_short():
    import io

    from rich.console import Console

    from dlexp.experiments.tables import print_rows
    out = io.StringIO()
    print_rows([{"name": "sgd", "lr": 0.01}, {"name": "adam", "lr": 0.001}], ["name", "lr"],
               console=Console(file=out, width=80))
    cells = [line.split()[-1] for line in out.getvalue().splitlines()[2:]]
    assert cells == ["0.01", "0.001"]                       # not 1.000e-02, not 0.0100
