"""The batch kernels' per-city tables, the cars' order by arc, and vector infos spread from
the envs that have one."""

from __future__ import annotations

import numpy as np

from exgen.envs.city.tables import NAMES, TableStore
from exgen.envs.city.traffic_kernels import arc_order
from exgen.envs.vector_infos import stack_infos, stack_infos_of


def tables(rng: np.random.Generator, shared: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """One city's tables: ``shared`` ones, the route's drawn anew."""
    return {**shared, "next_hop": rng.integers(0, 9, int(rng.integers(1, 20))),
            "node_values": rng.random((int(rng.integers(0, 20)), 2))}


def test_a_shared_table_is_stored_once_and_every_city_reads_its_own_after_many_puts():
    rng = np.random.default_rng(0)
    shared = {"lines_x": np.arange(3.0), "lines_y": np.arange(4.0),
              "streets": np.arange(6).reshape(2, 3), "street_at": np.arange(8).reshape(2, 4),
              "positions": np.ones((2, 2)), "in_graph": np.ones(2, np.bool_),
              "arc_at": np.arange(12).reshape(3, 4), "arc_frames": np.ones((3, 4))}
    for name in ("seen", "solid", "barrier"):
        shared.update({f"{name}_start": np.arange(4), f"{name}_cells": np.arange(5),
                       f"{name}_boxes": np.ones((2, 4))})
    store, current = TableStore(5), {}
    for step in range(300):  # far more puts than room: the store drops what is unused
        k = step % 5 if step < 5 else int(rng.integers(5))
        current[k] = tables(rng, shared)
        store.put(k, current[k])
        for city, expected in current.items():
            for name in NAMES:
                assert np.array_equal(store.table(city, name), expected[name]), (step, name)
    assert len(store.flat[NAMES.index("seen_cells")]) == len(shared["seen_cells"])
    assert len(store.flat[NAMES.index("next_hop")]) <= 2 * 5 * 20 + 20


def test_infos_of_some_envs_stack_as_with_none_for_the_others():
    infos = {1: {"a": 1.0, "b": {"c": "x", "d": np.ones(2)}}, 3: {"a": 2.0, "e": True}}
    spread = stack_infos_of(infos, 5)
    full = stack_infos([infos.get(i) for i in range(5)])

    def same(a, b):
        assert a.keys() == b.keys()
        for key in a:
            if isinstance(a[key], dict):
                same(a[key], b[key])
            else:
                assert a[key].dtype == b[key].dtype and a[key].shape == b[key].shape
                assert list(a[key].tolist()) == list(b[key].tolist())

    same(spread, full)
    assert stack_infos_of({}, 3) == {}


def test_values_of_a_key_that_differ_in_type_stack_as_objects_kept_whole():
    infos = {0: {"seed": 7, "friction": 1, "shape": np.ones(2)},
             2: {"seed": None, "friction": 0.5, "shape": np.ones(3)},
             3: {"seed": 9, "friction": 1, "shape": np.ones(2)}}
    stacked = stack_infos_of(infos, 4)
    for key in ("seed", "friction", "shape"):
        assert stacked[key].dtype == object and stacked[key][1] is None
    assert stacked["seed"].tolist() == [7, None, None, 9]
    assert stacked["friction"].tolist() == [1, None, 0.5, 1]  # not rounded to an int
    assert [np.shape(v) for v in stacked["shape"][[0, 2, 3]]] == [(2,), (3,), (2,)]
    alike = stack_infos([{"seed": 7}, {"seed": 9}])
    assert alike["seed"].dtype == np.int64 and alike["seed"].tolist() == [7, 9]


def test_cars_are_ordered_as_lexsort_orders_them_ties_and_nan_included():
    rng = np.random.default_rng(1)
    counts = rng.integers(0, 12, 40)
    base = np.concatenate([[0], np.cumsum(counts)])
    arc = np.concatenate([10 * k + rng.integers(0, 4, n) for k, n in enumerate(counts)])
    s = rng.choice([0.0, 1.5, 3.0, np.nan, -0.0], len(arc))
    assert np.array_equal(arc_order(arc, s, base), np.lexsort((s, arc)))
