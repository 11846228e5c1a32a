"""Pedestrians: they wait at crosswalks and cross when their signal allows.

Each intersection has a crosswalk on every open street leaving it, ``traffic.CROSSWALK_M``
wide, just outside the intersection. A pedestrian belongs to one crosswalk: it waits on
the sidewalk at one end, crosses to the other, waits a while and crosses back. At an
intersection with lights it may cross while the street it crosses has red and the other
one green; without lights, any time (a zebra crossing). It never steps in front of a
car that is about to cross the crosswalk, but a fraction ``jaywalk_rate`` of its
crossings start against the signal. All pedestrians move at once, as arrays.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from exgen.envs.city.city_map import CityMap
from exgen.envs.city.lights import GREEN, RED, Lights
from exgen.envs.city.rows import join_rows, joined_bases, replace_rows
from exgen.envs.city.traffic import CROSSWALK_M, direction_code

#: Radius of a pedestrian's body [m].
RADIUS_M = 0.3
#: Walking speed [m/s], uniform in this range per pedestrian.
WALKING_SPEED_MPS = (1.0, 1.6)
#: Waiting time between crossings [s], uniform in this range.
WAIT_S = (2.0, 12.0)
#: A pedestrian who finds a car about to cross looks again after this long [s].
DANGER_RETRY_S = 0.5
#: Pedestrians wait this far beyond the road's edge, on the sidewalk [m].
KERB_SETBACK_M = 1.0
_UNIT = np.array([(1.0, 0.0), (0.0, 1.0), (-1.0, 0.0), (0.0, -1.0)])


@functools.lru_cache(maxsize=64)
def crosswalks(city: CityMap) -> list[tuple[int, int]]:
    """``(node, arm)`` of every crosswalk: arm is the direction code of the street."""
    found = []
    for street in city.streets:
        if street.closed:
            continue
        for node, other in ((street.a, street.b), (street.b, street.a)):
            (x0, y0), (x1, y1) = city.position(node), city.position(other)
            found.append((node, direction_code(x1 - x0, y1 - y0)))
    return sorted(found)


#: Per-pedestrian arrays.
_PERSON_ARRAYS = ("node", "arm", "centre", "across", "direction", "p", "speed", "wait",
                  "reckless", "crossing", "against_signal", "lit", "city_of_person",
                  "half_width", "reach", "jaywalk_rate", "_positions", "_boxes")


@dataclass
class _City:
    """What the pedestrians of one city keep that never changes in an episode."""

    n_nodes: int
    lights: Lights
    rng: np.random.Generator


class Pedestrians:
    """The pedestrians of one episode, or of many cities' episodes joined
    (:meth:`join`); ``step`` moves them all by one decision."""

    def __init__(self, city: CityMap, count: int, rng: np.random.Generator, *,
                 half_width: float, jaywalk_rate: float, lights: Lights) -> None:
        self.cities = [_City(city.n_nodes, lights, rng)]
        self.lights = lights
        self.n_nodes = city.n_nodes
        options = crosswalks(city)
        count = count if options else 0
        chosen = [options[int(i)] for i in rng.integers(len(options), size=count)] \
            if count else []
        self.node = np.array([n for n, _ in chosen], int)
        self.arm = np.array([a for _, a in chosen], int)
        positions = np.array([city.position(n) for n in range(city.n_nodes)])
        unit = _UNIT[self.arm] if count else np.zeros((0, 2))
        self.centre = (positions[self.node] + unit * (half_width + CROSSWALK_M / 2)
                       if count else np.zeros((0, 2)))
        self.across = np.stack([-unit[:, 1], unit[:, 0]], axis=1) if count else unit
        self.half_width = np.full(count, half_width)
        self.reach = np.full(count, half_width + KERB_SETBACK_M)
        self.jaywalk_rate = np.full(count, jaywalk_rate)
        self.direction = rng.choice((-1.0, 1.0), size=count)
        self.p = -self.direction * self.reach
        self.speed = rng.uniform(*WALKING_SPEED_MPS, count)
        self.wait = rng.uniform(0.0, WAIT_S[1], count)
        self.reckless = rng.random(count) < jaywalk_rate
        self.crossing = np.zeros(count, bool)
        self.against_signal = np.zeros(count, bool)
        self.lit = np.array([n in city.lights for n in self.node], bool)
        self.city_of_person = np.zeros(count, int)
        self.person_base = np.array([0, count])
        self._place()

    @classmethod
    def join(cls, parts: Sequence[Pedestrians]) -> Pedestrians:
        """The pedestrians of several cities as one, city after city (intersections
        numbered likewise). The parts' arrays are copied: step the joined ones."""
        if len(parts) == 1:
            return parts[0]
        joined = cls.__new__(cls)
        joined.cities = [city for part in parts for city in part.cities]
        joined.lights = Lights.join([city.lights for city in joined.cities])
        joined.n_nodes = sum(part.n_nodes for part in parts)
        node_base = np.cumsum([0] + [part.n_nodes for part in parts])
        city_base = np.cumsum([0] + [len(part.cities) for part in parts])
        offsets = {"node": node_base, "city_of_person": city_base}
        for name, array in join_rows(parts, _PERSON_ARRAYS, offsets).items():
            setattr(joined, name, array)
        joined.person_base = joined_bases([part.person_base for part in parts])
        return joined

    def replace(self, k: int, part: Pedestrians) -> None:
        """Put the pedestrians of ``part`` (a single city) in place of city ``k``'s: a city
        of joined pedestrians starts a new episode."""
        if len(part.cities) != 1:
            raise ValueError("replace() takes the pedestrians of one city")
        people = slice(self.person_base[k], self.person_base[k + 1])
        node_start = sum(city.n_nodes for city in self.cities[:k])
        node_shift = part.n_nodes - self.cities[k].n_nodes
        offsets = {"node": (node_start, node_shift), "city_of_person": (k, 0)}
        for name, array in replace_rows(self, part, _PERSON_ARRAYS, people, offsets).items():
            setattr(self, name, array)
        old_nodes = slice(node_start, node_start + self.cities[k].n_nodes)
        self.cities[k] = part.cities[0]
        self.n_nodes += node_shift
        self.lights = self.lights.replaced(k, old_nodes, part.cities[0].lights)
        self.person_base[k + 1:] += part.count - (people.stop - people.start)

    @property
    def count(self) -> int:
        return len(self.node)

    def positions(self) -> np.ndarray:
        """Centres of the pedestrians (n, 2) [m], as of the last step."""
        return self._positions

    def boxes(self) -> np.ndarray:
        """Squares around the pedestrians (n, 4) ``[x0, y0, x1, y1]`` [m]."""
        return self._boxes

    def occupied(self) -> np.ndarray:
        """``(n_nodes, 4)``: whether a pedestrian is on the road of each crosswalk."""
        occupied = np.zeros((self.n_nodes, 4), bool)
        on_road = self.crossing & (np.abs(self.p) < self.half_width + 0.5)
        occupied[self.node[on_road], self.arm[on_road]] = True
        return occupied

    def walk_signal(self, time_s: np.ndarray, which: np.ndarray) -> np.ndarray:
        """Whether the signal of pedestrians ``which`` says walk: the street crossed has red
        and the other green (always, without lights). ``time_s``: one clock per city."""
        nodes = np.concatenate([self.node[which], self.node[which]])
        axes = np.concatenate([self.arm[which] % 2, 1 - self.arm[which] % 2])
        codes = self.lights.codes(nodes, axes, time_s)
        crossed, other = codes[:len(which)], codes[len(which):]
        return ~self.lit[which] | ((crossed == RED) & (other == GREEN))

    def step(self, time_s: np.ndarray, dt: float,
             danger: Callable[[], np.ndarray]) -> None:
        """Advance ``dt`` seconds; ``time_s`` has one clock per city. ``danger()`` gives
        (n_nodes, 4): the crosswalks a car is about to cross, which nobody steps onto;
        it is asked only when needed."""
        if not self.count:
            return
        crossing = self.crossing
        if crossing.any():
            self.p += np.where(crossing, self.direction * self.speed * dt, 0.0)
            arrived = crossing & (self.p * self.direction >= self.reach)
            if arrived.any():
                crossing[arrived] = False
                self.p[arrived] = self.direction[arrived] * self.reach[arrived]
                self.direction[arrived] *= -1.0
                self._draw_next_crossing(np.flatnonzero(arrived))
                self.against_signal[arrived] = False
        self.wait -= dt
        ready = np.flatnonzero(~crossing & (self.wait <= 0.0))
        if len(ready):
            walk = self.walk_signal(time_s, ready)
            go = walk | self.reckless[ready]
            # Who must wait for the signal waits until the cross street turns green.
            held = ready[~go]
            if len(held):
                self.wait[held] = self.lights.time_to_green(
                    self.node[held], 1 - self.arm[held] % 2, time_s) + 0.5 * dt
            if go.any():
                starting, walk = ready[go], walk[go]
                clear = ~danger()[self.node[starting], self.arm[starting]]
                self.wait[starting[~clear]] = DANGER_RETRY_S
                crossing[starting[clear]] = True
                self.against_signal[starting[clear]] = ~walk[clear]
        self._place()

    def _draw_next_crossing(self, arrived: np.ndarray) -> None:
        """The wait before, and recklessness of, the next crossing of pedestrians who just
        crossed, each city drawing from its own generator."""
        cities = self.city_of_person[arrived]
        for k in np.unique(cities):
            people = arrived[cities == k]
            rng = self.cities[k].rng
            self.wait[people] = rng.uniform(*WAIT_S, len(people))
            self.reckless[people] = rng.random(len(people)) < self.jaywalk_rate[people]

    def _place(self) -> None:
        self._positions = self.centre + self.across * self.p[:, None]
        self._boxes = np.concatenate([self._positions - RADIUS_M,
                                      self._positions + RADIUS_M], axis=1)
