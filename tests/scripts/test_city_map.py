"""``exgen city-map``: a generated city as an editable file, and checking a drawn one."""

import pytest

from exgen.envs.city.map_file import load_map
from exgen.scripts.cli import main


def test_a_generated_city_round_trips_through_a_file(tmp_path, capsys):
    path = tmp_path / "mine.txt"
    assert main(["city-map", "--seed", "4", "--context", "grid_columns=5", "grid_rows=3",
                 "--out", str(path)]) == 0
    city = load_map(path)
    assert (city.n_columns, city.n_rows) == (5, 3)
    assert main(["city-map", "--check", str(path)]) == 0
    assert "5x3 intersections" in capsys.readouterr().out


def test_printing_to_stdout_and_drawing_a_shipped_map(tmp_path, capsys):
    assert main(["city-map", "--seed", "1"]) == 0
    assert "map:" in capsys.readouterr().out
    png = tmp_path / "ring.png"
    assert main(["city-map", "--check", "ring", "--png", str(png)]) == 0
    assert png.stat().st_size > 5000


@pytest.mark.parametrize("args, message", [
    (["--check", "nowhere.txt"], "neither a file nor a shipped map"),
    (["--context", "grid_columns=1"], "grid_columns=1 is out of range"),
    (["--seed", "-3"], "--seed must be >= 0"),
    (["--check", "ring", "--preset", "sparse"], "do not apply"),
])
def test_bad_input_is_one_line_and_exit_code_2(args, message, capsys):
    assert main(["city-map", *args]) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1


def test_an_existing_output_is_not_overwritten(tmp_path, capsys):
    path = tmp_path / "kept.txt"
    path.write_text("mine")
    assert main(["city-map", "--out", str(path)]) == 2
    assert path.read_text() == "mine"
    assert "--force" in capsys.readouterr().err


def test_a_broken_drawing_names_its_line(tmp_path, capsys):
    path = tmp_path / "broken.txt"
    path.write_text("columns_m: 50\nrows_m: 50\nmap:\n+---+\n|   ?\n+---+\n")
    assert main(["city-map", "--check", str(path)]) == 2
    assert "broken.txt:5:5" in capsys.readouterr().err
