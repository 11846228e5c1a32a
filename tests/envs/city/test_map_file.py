import re

import gymnasium as gym
import numpy as np
import pytest

from exgen.envs.city.city_map import CityMap, MapError, Street, generate_map, grid_streets
from exgen.envs.city.config import MAPS_DIR, shipped_maps
from exgen.envs.city.map_file import MapFileError, dumps_map, load_map, parse_map

HEADER = "columns_m: 50 60\nrows_m: 40\nmap:\n"
SHIPPED = ("downtown", "riverside", "ring")


def same_map(a: CityMap, b: CityMap) -> None:
    assert a.streets == b.streets
    assert a.lights == b.lights
    assert a.column_x_m == b.column_x_m
    assert a.row_y_m == b.row_y_m
    assert a.name == b.name
    assert a == b


# --------------------------------------------------------------- round trip


@pytest.mark.parametrize("seed", range(40))
def test_generated_maps_round_trip(seed):
    columns, rows = 2 + seed % 11, 2 + (seed * 7) % 9
    city = generate_map(seed, columns, rows, 20.0 + seed, 300.0, (seed % 6) / 10,
                        (seed % 7) / 10, (seed % 4) / 10, (seed % 3) / 10, (seed % 5) / 4)
    text = dumps_map(city)
    same_map(parse_map(text), city)
    assert dumps_map(parse_map(text)) == text


def test_a_round_trip_keeps_every_street_kind():
    city = generate_map(3, 8, 8, 30.0, 60.0, 0.1, 0.3, 0.1, 0.2, 0.7)
    kinds = {(s.one_way_to is not None, s.closed, s.closed_toward is not None)
             for s in city.streets}
    assert len(kinds) == 4
    same_map(parse_map(dumps_map(city)), city)


def test_a_hand_made_map_with_a_dead_end_round_trips():
    text = (HEADER + "L-->+   +\n"
                     "|   v   |\n"
                     "+---+---L\n")
    city = parse_map(text, default_name="tiny")
    assert city.name == "tiny"
    same_map(parse_map(dumps_map(city)), city)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_maps_round_trip(name):
    city = load_map(MAPS_DIR / f"{name}.txt")
    same_map(parse_map(dumps_map(city)), city)


# ------------------------------------------------------------- shipped maps


def test_the_shipped_maps_are_listed():
    assert set(SHIPPED) <= set(shipped_maps())


@pytest.mark.parametrize("name", SHIPPED)
def test_each_shipped_map_loads_connected_with_wide_enough_blocks(name):
    path = MAPS_DIR / f"{name}.txt"
    assert path.read_text(encoding="utf-8").startswith("# ")
    city = load_map(path)
    assert city.name == name
    city.check_connected()
    gaps = np.concatenate([np.diff(city.column_x_m), np.diff(city.row_y_m)])
    assert gaps.min() >= 30.0  # 2 x 3.5 m lanes + 8 m needs 15 m; leave room for more lanes
    assert city.lights and all(city.degree(n) >= 3 for n in city.lights)
    assert len(city.streets) >= 20


def test_the_shipped_maps_have_what_their_comments_say():
    downtown = load_map(MAPS_DIR / "downtown.txt")
    assert (downtown.n_columns, downtown.n_rows) == (6, 5)
    assert any(s.one_way_to is not None for s in downtown.streets)
    assert any(s.closed for s in downtown.streets)
    assert any(s.closed_toward is not None for s in downtown.streets)
    assert len(downtown.streets) < len(grid_streets(6, 5))  # some streets are missing

    riverside = load_map(MAPS_DIR / "riverside.txt")
    river_y = riverside.row_y_m[2], riverside.row_y_m[3]
    bridges = [s for s in riverside.streets
               if {riverside.position(s.a)[1], riverside.position(s.b)[1]} == set(river_y)]
    assert 2 <= len(bridges) <= 3
    assert river_y[1] - river_y[0] == max(np.diff(riverside.row_y_m))

    ring = load_map(MAPS_DIR / "ring.txt")
    centre = ring.node(3, 3)
    assert centre not in ring.graph().nodes
    one_way = [s for s in ring.streets if s.one_way_to is not None]
    assert len(one_way) == 16  # the ring road, counter-clockwise
    assert ring.graph().has_edge(ring.node(5, 1), ring.node(5, 2))  # east side northbound
    assert not ring.graph().has_edge(ring.node(5, 2), ring.node(5, 1))


@pytest.mark.parametrize("name", SHIPPED)
def test_each_shipped_map_is_drivable(name):
    for continuous in (True, False):
        env = gym.make("CityDriving-v0", map_file=name, continuous=continuous)
        for seed in range(3):
            obs, info = env.reset(seed=seed + 10 * continuous)
            assert env.observation_space.contains(obs)
            assert info["context"]["map_name"] == name
            world = env.unwrapped.world
            assert world.start != world.destination
            assert world.initial_route_m >= 200.0
            for _ in range(30):
                obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
                assert np.isfinite(reward) and np.all(np.isfinite(obs))
                if terminated or truncated:
                    break


def test_a_shipped_map_resolves_by_name_or_by_path():
    by_name = gym.make("CityDriving-v0", map_file="ring")
    by_path = gym.make("CityDriving-v0", map_file=str(MAPS_DIR / "ring.txt"))
    _, info_name = by_name.reset(seed=0)
    _, info_path = by_path.reset(seed=0)
    assert info_name["map"]["streets"] == info_path["map"]["streets"]


# ------------------------------------------------------------------- glyphs

# A 2 x 2 square: the glyph under test on the north side (west-east) or the west
# side (south-north); the other sides are two-way. Nodes: 0 1 (south), 2 3 (north).
SQUARE = "columns_m: 50\nrows_m: 40\nmap:\n+{top}+\n{left}   |\n+---+\n"


@pytest.mark.parametrize(("glyphs", "street"), [
    ("---", Street(2, 3)),
    ("-->", Street(2, 3, one_way_to=3)),
    ("->-", Street(2, 3, one_way_to=3)),
    (">--", Street(2, 3, one_way_to=3)),
    ("<--", Street(2, 3, one_way_to=2)),
    ("-<-", Street(2, 3, one_way_to=2)),
    ("--<", Street(2, 3, one_way_to=2)),
    ("-x-", Street(2, 3, closed=True)),
    ("==>", Street(2, 3, closed_toward=2)),
    ("<==", Street(2, 3, closed_toward=3)),
])
def test_each_west_east_glyph(glyphs, street):
    city = parse_map(SQUARE.format(top=glyphs, left="|"))
    assert city.street(2, 3) == street
    assert city.street(0, 2) == Street(0, 2)
    assert len(city.streets) == 4


@pytest.mark.parametrize(("glyphs", "arcs"), [
    ("---", {(2, 3), (3, 2)}),
    ("-->", {(2, 3)}), ("->-", {(2, 3)}), (">--", {(2, 3)}),
    ("<--", {(3, 2)}), ("-<-", {(3, 2)}), ("--<", {(3, 2)}),
    ("-x-", set()),
    ("==>", {(2, 3)}),  # only eastbound is open
    ("<==", {(3, 2)}),  # only westbound is open
])
def test_each_west_east_glyph_opens_the_drawn_directions(glyphs, arcs):
    city = parse_map(SQUARE.format(top=glyphs, left="|"))
    assert set(city.street(2, 3).directions()) == arcs


@pytest.mark.parametrize(("glyph", "street", "arcs"), [
    ("|", Street(0, 2), {(0, 2), (2, 0)}),
    ("^", Street(0, 2, one_way_to=2), {(0, 2)}),
    ("v", Street(0, 2, one_way_to=0), {(2, 0)}),
    ("x", Street(0, 2, closed=True), set()),
    ("n", Street(0, 2, closed_toward=0), {(0, 2)}),  # only northbound is open
    ("s", Street(0, 2, closed_toward=2), {(2, 0)}),  # only southbound is open
])
def test_each_south_north_glyph(glyph, street, arcs):
    city = parse_map(SQUARE.format(top="---", left=glyph))
    assert city.street(0, 2) == street
    assert set(city.street(0, 2).directions()) == arcs
    assert city.street(2, 3) == Street(2, 3)


def test_intersection_glyphs_lights_and_settings():
    text = ("# a comment line\n"
            "name:  two lights   # trailing comment\n"
            "\n"
            "columns_m: 50 60.5\n"
            "rows_m: 40\n"
            "map:\n"
            "# a comment inside the drawing\n"
            "L---+---+\n"
            "|   |   |\n"
            "+---+---L\n"
            "\n")
    city = parse_map(text)
    assert city.name == "two lights"
    assert city.lights == frozenset({city.node(0, 1), city.node(2, 0)})
    assert city.column_x_m == (0.0, 50.0, 110.5)
    assert city.row_y_m == (0.0, 40.0)
    assert len(city.streets) == 7


def test_rows_m_run_from_the_top_of_the_drawing():
    text = ("columns_m: 50\nrows_m: 30 45\nmap:\n"
            "+---+\n"
            "|   |\n"
            "+---+\n"
            "|   |\n"
            "+---+\n")
    city = parse_map(text)
    assert city.row_y_m == (0.0, 45.0, 75.0)  # the last gap is the southern one


def test_load_map_names_the_map_after_the_file(tmp_path):
    path = tmp_path / "my_town.txt"
    path.write_text(SQUARE.format(top="---", left="|"), encoding="utf-8")
    assert load_map(path).name == "my_town"
    assert load_map(str(path)).name == "my_town"
    path.write_text("name: Elsewhere\n" + SQUARE.format(top="---", left="|"), encoding="utf-8")
    assert load_map(path).name == "Elsewhere"


# ------------------------------------------------------------------- errors


@pytest.mark.parametrize(("text", "match"), [
    pytest.param(HEADER + "+---+-?-+\n|   |   |\n+---+---+\n",
                 r"^<map>:4:6: unexpected '-\?-'; expected a west-east street: '---', '-->'",
                 id="unknown-west-east-glyph"),
    pytest.param(HEADER + "+---+---+\n|   |   |\n+---*---+\n",
                 r"^<map>:6:5: unexpected '\*'; expected an intersection: '\+', 'L', or '\.' "
                 r"or space for none$",
                 id="unknown-intersection-glyph"),
    pytest.param(HEADER + "+---+---+\n|   |   #\n+---+---+\n",
                 r"^<map>:5:9: unexpected '#'; expected a south-north street: '\|', '\^'",
                 id="unknown-south-north-glyph"),
    pytest.param(HEADER + "+---+---+\n|  |    |\n+---+---+\n",
                 r"^<map>:5:4: unexpected '\|'; expected nothing: streets run south-north "
                 r"only under intersections$", id="vertical-glyph-off-the-grid"),
    pytest.param(HEADER + "+-- +---+\n|   |   |\n+---+---+\n",
                 r"^<map>:4:2: unexpected '-- '", id="half-drawn-street"),
    pytest.param(HEADER + "+---+---+\n|   |   |\n+---+---+\n|   |   |\n+---+---+\n",
                 r"^<map>:4: the drawing has 5 lines; rows_m gives 2 rows of intersections, "
                 r"which need 3 lines$", id="too-many-lines"),
    pytest.param(HEADER + "+---+---+\n",
                 r"^<map>:4: the drawing has 1 lines; .* need 3 lines$", id="too-few-lines"),
    pytest.param(HEADER + "+---+---+---\n|   |   |\n+---+---+\n",
                 r"^<map>:4: line is 12 characters wide; columns_m gives 3 columns, "
                 r"at most 9$", id="line-too-wide"),
    pytest.param("rows_m: 40\nmap:\n+---+---+\n|   |   |\n+---+---+\n",
                 r"^<map>: missing 'columns_m:', the metres between neighbouring "
                 r"intersections$", id="missing-columns_m"),
    pytest.param("columns_m: 50 60\nmap:\n+---+---+\n|   |   |\n+---+---+\n",
                 r"^<map>: missing 'rows_m:'", id="missing-rows_m"),
    pytest.param("columns_m: 50 fifty\nrows_m: 40\nmap:\n+---+---+\n|   |   |\n+---+---+\n",
                 r"^<map>:1: columns_m must be numbers in metres, got '50 fifty'$",
                 id="non-numeric-gap"),
    pytest.param("columns_m: 50 60\n\nrows_m: 4O\nmap:\n+---+---+\n|   |   |\n+---+---+\n",
                 r"^<map>:3: rows_m must be numbers in metres, got '4O'$",
                 id="non-numeric-row-gap"),
    pytest.param("columns_m: 50 5\nrows_m: 40\nmap:\n+---+---+\n|   |   |\n+---+---+\n",
                 r"^<map>:1: columns_m needs one or more distances in \[10, 1000\] m, "
                 r"got '50 5'$", id="gap-too-short"),
    pytest.param("columns_m: 50 nan\nrows_m: 40\nmap:\n+---+---+\n|   |   |\n+---+---+\n",
                 r"^<map>:1: columns_m needs one or more distances in \[10, 1000\] m",
                 id="nan-gap"),
    pytest.param("columns_m:\nrows_m: 40\nmap:\n+---+---+\n|   |   |\n+---+---+\n",
                 r"^<map>:1: columns_m needs one or more distances", id="empty-gaps"),
    pytest.param("# header\ncolour: red\n" + HEADER + "+---+---+\n|   |   |\n+---+---+\n",
                 r"^<map>:2: expected 'key: value' with a key in name, columns_m, rows_m, "
                 r"or 'map:'; got 'colour: red'$", id="unknown-setting"),
    pytest.param("columns_m 50\n", r"^<map>:1: expected 'key: value'", id="setting-no-colon"),
    pytest.param("columns_m: 50\nrows_m: 40\n",
                 r"^<map>: no drawing; put 'map:' on a line, then the drawing$",
                 id="no-drawing"),
    pytest.param(HEADER + "+---+   +\n|       |\n+---+   +\n",
                 r"^<map>: the roads are not all connected: intersections \[\(2, 0\), "
                 r"\(2, 1\)\] cannot be reached from the rest or cannot reach it",
                 id="two-islands"),
    pytest.param(HEADER + "+-->+---+\n    |   |\n+---+---+\n",
                 r"^<map>: the roads are not all connected: intersections \[\(0, 1\)\] .*"
                 r"\(mind one-way streets and closures\)$", id="one-way-dead-end"),
    pytest.param(HEADER + "+---+---+\n|   x   |\n+---+---+\n",
                 None, id="a-closed-street-is-fine"),
    pytest.param(HEADER + "+   +---+\nx   |   |\n+---+---+\n",
                 r"intersections \[\(0, 1\)\] cannot be reached", id="closure-strands-a-node"),
    pytest.param(HEADER + "+---+    \n|   |   |\n+---+---+\n",
                 r"^<map>:5:9: the street ends at \(2, 1\) where the drawing has no "
                 r"intersection$",
                 id="street-ends-at-no-intersection"),
])
def test_bad_maps_raise_naming_the_line_and_column(text, match):
    if match is None:
        parse_map(text)
        return
    with pytest.raises(MapFileError, match=match):
        parse_map(text)


def test_errors_name_the_source_file(tmp_path):
    path = tmp_path / "broken.txt"
    path.write_text(HEADER + "+---+-?-+\n|   |   |\n+---+---+\n", encoding="utf-8")
    with pytest.raises(MapFileError, match=rf"^{re.escape(str(path))}:4:6: unexpected '-\?-'"):
        load_map(path)
    with pytest.raises(MapFileError, match=r"^town.txt:4:6: "):
        parse_map(path.read_text(encoding="utf-8"), source="town.txt")
    with pytest.raises(ValueError, match=rf"^{re.escape(str(path))}:4:6"):
        gym.make("CityDriving-v0", map_file=str(path))


def test_an_unreadable_path_raises_map_file_error(tmp_path):
    missing = tmp_path / "missing.txt"
    with pytest.raises(MapFileError, match=rf"^cannot read map file {re.escape(str(missing))}: "
                                        r".*No such file"):
        load_map(missing)
    with pytest.raises(MapFileError, match=rf"^cannot read map file {re.escape(str(tmp_path))}: "):
        load_map(tmp_path)  # a directory
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\xff\xfe\x00map:")
    with pytest.raises(MapFileError,
                       match=rf"^cannot read map file {re.escape(str(binary))}: .*utf-8"):
        load_map(binary)


def test_map_file_error_is_a_map_error_and_a_value_error():
    assert issubclass(MapFileError, MapError)
    assert issubclass(MapFileError, ValueError)


# ------------------------------------------------------------ known bugs


def test_a_street_ending_at_no_intersection_names_its_line_and_column():
    text = HEADER + "+---+    \n|   |   |\n+---+---+\n"
    with pytest.raises(MapFileError, match=r"^<map>:5:9: "):
        parse_map(text)


def test_a_map_with_an_unused_southern_row_round_trips():
    city = CityMap((0.0, 50.0), (0.0, 40.0, 80.0),
                   (Street(2, 3), Street(2, 4), Street(3, 5), Street(4, 5)))
    city.check_connected()
    same_map(parse_map(dumps_map(city)), city)


def test_a_name_with_a_hash_is_refused_as_it_could_not_round_trip():
    with pytest.raises(MapError, match="may not hold '#'"):
        CityMap((0.0, 50.0), (0.0, 40.0),
                (Street(0, 1), Street(0, 2), Street(1, 3), Street(2, 3)), name="Block #5")
