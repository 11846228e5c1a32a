import json

import gymnasium as gym
import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exgen.envs.city.city_map import (
    CityMap,
    MapError,
    Street,
    generate_map,
    grid_streets,
    positions,
)
from exgen.envs.city.config import CityConfig

DEFAULTS = {"min_block_m": 40.0, "max_block_m": 90.0, "removed_street_fraction": 0.1,
            "one_way_fraction": 0.1, "closed_street_fraction": 0.03,
            "closed_lane_fraction": 0.05, "traffic_light_fraction": 1.0}


def city(seed: int, columns: int = 6, rows: int = 6, **changes: float) -> CityMap:
    kwargs = {**DEFAULTS, **changes}
    return generate_map(seed, columns, rows, kwargs["min_block_m"], kwargs["max_block_m"],
                        kwargs["removed_street_fraction"], kwargs["one_way_fraction"],
                        kwargs["closed_street_fraction"], kwargs["closed_lane_fraction"],
                        kwargs["traffic_light_fraction"])


def square() -> CityMap:
    """2 x 2 intersections 50 m apart (x) and 40 m apart (y): nodes 0 1 / 2 3."""
    return CityMap((0.0, 50.0), (0.0, 40.0),
                   (Street(0, 1), Street(2, 3), Street(0, 2), Street(1, 3)))


# ------------------------------------------------------------- generation


def test_the_same_seed_gives_the_same_city():
    first = city(5, 8, 7)
    generate_map.cache_clear()
    again = city(5, 8, 7)
    assert first is not again
    assert first == again
    assert first.streets == again.streets and first.lights == again.lights
    assert first.name == "generated-5"


def test_different_seeds_give_different_cities():
    maps = [city(seed) for seed in range(20)]
    assert len({(m.column_x_m, m.row_y_m) for m in maps}) == 20
    assert len({m.streets for m in maps}) == 20


def test_block_gaps_are_within_the_bounds_and_rounded():
    for seed in range(10):
        m = city(seed, 9, 4, min_block_m=30.0, max_block_m=35.0)
        assert (m.n_columns, m.n_rows) == (9, 4)
        assert m.column_x_m[0] == 0.0 and m.row_y_m[0] == 0.0
        for coordinates in (m.column_x_m, m.row_y_m):
            gaps = np.diff(coordinates)
            assert np.all((gaps >= 30.0 - 1e-9) & (gaps <= 35.0 + 1e-9))
            np.testing.assert_allclose(gaps, np.round(gaps, 1), atol=1e-9)
    fixed = city(0, 3, 3, min_block_m=50.0, max_block_m=50.0)
    assert fixed.column_x_m == (0.0, 50.0, 100.0) == fixed.row_y_m


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), columns=st.integers(2, 12), rows=st.integers(2, 12),
       blocks=st.tuples(st.floats(20.0, 300.0), st.floats(20.0, 300.0)).map(sorted),
       removed=st.floats(0.0, 0.5), one_way=st.floats(0.0, 0.6), closed=st.floats(0.0, 0.3),
       closed_lane=st.floats(0.0, 0.3), lights=st.floats(0.0, 1.0))
def test_every_generated_city_is_strongly_connected(seed, columns, rows, blocks, removed,
                                                    one_way, closed, closed_lane, lights):
    m = generate_map(seed, columns, rows, blocks[0], blocks[1], removed, one_way, closed,
                     closed_lane, lights)
    m.check_connected()
    graph = m.graph()
    # Every intersection keeps a street, and every one reaches every other by road.
    assert set(graph.nodes) == set(range(columns * rows))
    assert nx.is_strongly_connected(graph)
    assert len(m.streets) >= columns * rows - 1
    for street in m.streets:
        assert not (street.one_way_to is not None and street.closed_toward is not None)
        assert street.closed or street.directions()
    for node in m.lights:
        assert m.degree(node) >= 3
    # The route the env would drive exists: start to any destination and back.
    start, destination = 0, columns * rows - 1
    assert nx.has_path(graph, start, destination) and nx.has_path(graph, destination, start)


def test_the_env_finds_a_reachable_destination_far_enough_away():
    for seed in range(6):
        env = gym.make("CityDriving-v0", map_seed=seed, grid_columns=5, grid_rows=4)
        env.reset(seed=seed)
        world = env.unwrapped.world
        graph = world.city.graph()
        assert world.start != world.destination
        route = nx.shortest_path_length(graph, world.start, world.destination, weight="weight")
        # The car starts a few metres down the first street of the route.
        assert route - 10.0 <= world.initial_route_m <= route
        farthest = max(nx.single_source_dijkstra_path_length(graph, world.start).values())
        if farthest >= 250.0:
            assert route >= 250.0
        else:
            assert route == pytest.approx(farthest)


def test_removed_street_fraction_is_honoured():
    full = len(grid_streets(10, 10))
    assert full == 180
    for seed in range(8):
        m = city(seed, 10, 10, removed_street_fraction=0.2, one_way_fraction=0.0,
                 closed_street_fraction=0.0, closed_lane_fraction=0.0)
        assert len(m.streets) == full - round(0.2 * full)  # 36 gone
        assert all(s == Street(s.a, s.b) for s in m.streets)
        m.check_connected()
    assert len(city(0, 10, 10, removed_street_fraction=0.0).streets) == full


def test_connectivity_limits_removal_on_a_small_grid():
    for seed in range(10):
        m = city(seed, 2, 2, removed_street_fraction=0.5)
        # Two of four would leave a node without a street or split the square.
        assert len(m.streets) == 3
        m.check_connected()


def test_one_way_closure_and_light_fractions_are_honoured():
    for seed in range(5):
        m = city(seed, 10, 10, removed_street_fraction=0.0, one_way_fraction=0.3,
                 closed_street_fraction=0.0, closed_lane_fraction=0.0)
        assert sum(s.one_way_to is not None for s in m.streets) == round(0.3 * 180)
        m = city(seed, 10, 10, removed_street_fraction=0.0, one_way_fraction=0.0,
                 closed_street_fraction=0.1, closed_lane_fraction=0.1)
        closed = sum(s.closed for s in m.streets)
        assert closed == 18
        assert sum(s.closed_toward is not None for s in m.streets) == round(0.1 * (180 - 18))
        m = city(seed, 10, 10, removed_street_fraction=0.2, one_way_fraction=0.3)
        one_way = sum(s.one_way_to is not None for s in m.streets)
        assert 0.8 * round(0.3 * 144) <= one_way <= round(0.3 * 144)
    busy = [n for n in range(100) if city(0, 10, 10).degree(n) >= 3]
    assert city(0, 10, 10, traffic_light_fraction=1.0).lights == frozenset(busy)
    assert city(0, 10, 10, traffic_light_fraction=0.0).lights == frozenset()
    lit = [len(city(seed, 10, 10, removed_street_fraction=0.0, traffic_light_fraction=0.5)
               .lights) for seed in range(10)]
    assert 0.4 * 96 * 10 <= sum(lit) <= 0.6 * 96 * 10  # 96 nodes of 3 or 4 streets


# ----------------------------------------------------------------- streets


@pytest.mark.parametrize(("street", "arcs"), [
    (Street(0, 1), ((0, 1), (1, 0))),
    (Street(0, 1, one_way_to=1), ((0, 1),)),
    (Street(0, 1, one_way_to=0), ((1, 0),)),
    (Street(0, 1, closed=True), ()),
    (Street(0, 1, one_way_to=1, closed=True), ()),
    (Street(0, 1, closed=True, closed_toward=0), ()),
    # closed_toward names the end toward which the lanes are closed.
    (Street(0, 1, closed_toward=1), ((1, 0),)),
    (Street(0, 1, closed_toward=0), ((0, 1),)),
])
def test_street_directions(street, arcs):
    assert street.directions() == arcs


def test_the_graph_holds_open_arcs_weighted_by_length():
    m = CityMap((0.0, 50.0), (0.0, 40.0),
                (Street(0, 1, one_way_to=1), Street(2, 3, closed=True), Street(0, 2),
                 Street(1, 3, closed_toward=3)))
    graph = m.graph()
    assert set(graph.nodes) == {0, 1, 2, 3}  # a closed street's ends stay in the graph
    assert set(graph.edges) == {(0, 1), (0, 2), (2, 0), (3, 1)}
    assert graph[0][1]["weight"] == 50.0 and graph[0][2]["weight"] == 40.0
    assert m.arcs() == [(0, 1), (0, 2), (2, 0), (3, 1)]
    with pytest.raises(MapError, match=r"^the roads are not all connected: intersections "
                                       r"\[\((1, 0|1, 1)\)\] cannot be reached"):
        m.check_connected()


def test_one_way_loops_are_connected_and_dead_one_ways_are_not():
    loop = CityMap((0.0, 50.0), (0.0, 40.0),
                   (Street(0, 1, one_way_to=1), Street(1, 3, one_way_to=3),
                    Street(2, 3, one_way_to=2), Street(0, 2, one_way_to=0)))
    loop.check_connected()
    # 3 x 2 intersections: a square on the west, a one-way street out to (2, 0).
    dead = CityMap((0.0, 50.0, 100.0), (0.0, 40.0),
                   (Street(0, 1), Street(0, 3), Street(1, 4), Street(3, 4),
                    Street(1, 2, one_way_to=2)))
    with pytest.raises(MapError, match=r"intersections \[\(2, 0\)\] cannot be reached.*"
                                       r"mind one-way streets and closures"):
        dead.check_connected()


def test_a_map_without_streets_is_not_connected():
    with pytest.raises(MapError, match=r"^the map has no streets$"):
        CityMap((0.0, 50.0), (0.0, 40.0), ()).check_connected()


def test_grid_helpers():
    m = square()
    assert (m.n_columns, m.n_rows, m.n_nodes) == (2, 2, 4)
    assert m.size_m == (50.0, 40.0)
    assert m.node(1, 1) == 3 and m.label(3) == (1, 1)
    assert m.position(2) == (0.0, 40.0)
    assert m.length(0, 1) == 50.0 and m.length(3, 1) == 40.0
    assert m.street(1, 0) is m.street(0, 1) == Street(0, 1)
    assert m.street(0, 3) is None
    assert m.degree(0) == 2
    with pytest.raises(MapError, match=r"^intersection \(2, 0\) is outside the 2x2 map$"):
        m.node(2, 0)
    assert positions([10.0, 20.5]) == (0.0, 10.0, 30.5)


# ---------------------------------------------------------- bad city maps


@pytest.mark.parametrize(("streets", "match"), [
    ((Street(2, 3),), r"^street from \(2, 0\) to \(0, 1\) does not join neighbours$"),
    ((Street(0, 4),), r"^street from \(0, 0\) to \(1, 1\) does not join neighbours$"),
    ((Street(0, 2),), r"^street from \(0, 0\) to \(2, 0\) does not join neighbours$"),
    ((Street(1, 0),), r"^street \(1, 0\) needs 0 <= a < b < 6$"),
    ((Street(5, 6),), r"^street \(5, 6\) needs 0 <= a < b < 6$"),
    ((Street(-1, 0),), r"needs 0 <= a < b < 6"),
    ((Street(0, 1, one_way_to=2),), r"^street \(0, 0\)-\(1, 0\): one_way_to=2 is not one of "
                                    r"its ends$"),
    ((Street(0, 3, closed_toward=4),), r"closed_toward=4 is not one of its ends"),
    ((Street(0, 1, one_way_to=1, closed_toward=0),),
     r"^street \(0, 0\)-\(1, 0\) is one-way and has a lane closure$"),
    ((Street(0, 1), Street(0, 1)), r"^two streets join \(0, 0\) and \(1, 0\)$"),
    ((Street(1, 4, closed=True), Street(1, 4, closed=True)), r"^two streets join \(1, 0\)"),
])
def test_city_map_rejects_bad_streets(streets, match):
    with pytest.raises(MapError, match=match):
        CityMap((0.0, 50.0, 100.0), (0.0, 40.0), streets)


def test_city_map_rejects_lights_off_the_map():
    with pytest.raises(MapError, match=r"^traffic light at node 4, outside the map$"):
        CityMap((0.0, 50.0), (0.0, 40.0), (Street(0, 1),), frozenset({4}))
    with pytest.raises(MapError, match=r"traffic light at node -1"):
        CityMap((0.0, 50.0), (0.0, 40.0), (Street(0, 1),), {-1})


def test_map_error_is_a_value_error():
    assert issubclass(MapError, ValueError)


def test_duplicate_streets_of_different_kinds_raise_map_error():
    with pytest.raises(MapError, match=r"^two streets join \(0, 0\) and \(1, 0\)$"):
        CityMap((0.0, 50.0), (0.0, 40.0), (Street(0, 1), Street(0, 1, one_way_to=1)))


def test_streets_are_kept_sorted_and_lights_frozen():
    m = CityMap((0.0, 50.0), (0.0, 40.0), (Street(2, 3), Street(0, 1), Street(1, 3),
                                           Street(0, 2)), [3, 0])
    assert m.streets == tuple(sorted(m.streets, key=lambda s: (s.a, s.b)))
    assert m.lights == frozenset({0, 3})
    assert m == CityMap(m.column_x_m, m.row_y_m, m.streets[::-1], {0, 3})


# ------------------------------------------------------------------ public


def test_to_public_has_the_documented_keys_and_is_json_serializable():
    m = city(4, 5, 4, one_way_fraction=0.3, closed_street_fraction=0.1,
             closed_lane_fraction=0.2)
    data = m.to_public()
    assert set(data) == {"name", "columns", "rows", "column_x_m", "row_y_m", "nodes",
                         "streets"}
    assert (data["name"], data["columns"], data["rows"]) == ("generated-4", 5, 4)
    assert data["column_x_m"] == list(m.column_x_m) and data["row_y_m"] == list(m.row_y_m)
    assert len(data["nodes"]) == 20 and len(data["streets"]) == len(m.streets)
    for node in data["nodes"]:
        assert set(node) == {"id", "column", "row", "x_m", "y_m", "traffic_light"}
        assert (node["x_m"], node["y_m"]) == m.position(node["id"])
        assert (node["column"], node["row"]) == m.label(node["id"])
        assert node["traffic_light"] == (node["id"] in m.lights)
    for entry, street in zip(data["streets"], m.streets, strict=True):
        assert set(entry) == {"a", "b", "length_m", "one_way_to", "closed", "closed_toward",
                              "open_directions"}
        assert (entry["a"], entry["b"]) == (street.a, street.b)
        assert entry["length_m"] == m.length(street.a, street.b)
        assert entry["open_directions"] == [list(arc) for arc in street.directions()]
    kinds = {(e["one_way_to"] is not None, e["closed"], e["closed_toward"] is not None)
             for e in data["streets"]}
    assert {(True, False, False), (False, True, False), (False, False, True)} <= kinds
    text = json.dumps(data)
    assert json.loads(text) == data


def test_the_env_publishes_the_map_at_reset():
    env = gym.make("CityDriving-v0", config=CityConfig(map_seed=9, grid_columns=4))
    _, info = env.reset(seed=1)
    published = info["map"]
    assert published["columns"] == 4 and published["name"] == "generated-9"
    assert {"lanes_per_direction", "lane_width_m", "sidewalk_m", "speed_limit_mps",
            "driving_side", "start", "destination"} <= set(published)
    json.dumps(published)
