"""The other road users of one or many cities, moved together: cars, then pedestrians.

One city's world moves its own (:meth:`CityWorld.move_road_users`); a batch of cities
joins theirs into one :class:`Fleet`, whose arrays hold every city's cars and
pedestrians (and whose :class:`~exgen.envs.city.ego.EgoBatch` every ego car), and moves
them all with the same code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from exgen.envs.city import public
from exgen.envs.city.ego import EgoBatch
from exgen.envs.city.pedestrians import RADIUS_M, Pedestrians
from exgen.envs.city.traffic import Traffic

if TYPE_CHECKING:
    from exgen.envs.city.world import CityWorld

#: Pedestrians do not step onto a crosswalk an ego car is this close to [m], or this
#: few seconds away from at its speed [s].
PEDESTRIAN_CAUTION_M = 20.0
PEDESTRIAN_CAUTION_S = 4.0


def move_road_users(egos: EgoBatch, traffic: Traffic, pedestrians: Pedestrians) -> None:
    """Move the other cars, then the pedestrians, of the cities whose ego cars ``egos``
    holds (row ``k``: city ``k`` of ``traffic`` and ``pedestrians``) by one decision,
    once their ego cars have driven it."""
    ego = egos.on_road(traffic.node_base, traffic.arc_base)

    def crosswalk_clear(nodes: np.ndarray, arms: np.ndarray) -> np.ndarray:
        return ~pedestrians.occupied()[nodes, arms]

    traffic.step(egos.time, public.DT_S, ego, crosswalk_clear)
    pedestrians.step(egos.time, public.DT_S, lambda: crosswalks_in_danger(egos, traffic))


def crosswalks_in_danger(egos: EgoBatch, traffic: Traffic) -> np.ndarray:
    """(n_nodes, 4) of all cities: the crosswalks a car (other or ego) is about to cross
    or is crossing, which no pedestrian steps onto."""
    danger = np.zeros((traffic.node_base[-1], 4), bool)
    traffic.mark_crosswalks(danger)
    egos.mark_danger(danger, traffic.node_base, PEDESTRIAN_CAUTION_M, PEDESTRIAN_CAUTION_S)
    return danger


class CityTraffic:
    """City ``k``'s cars in a fleet: what its world reads of them, as views."""

    def __init__(self, fleet: Fleet, k: int) -> None:
        self._fleet, self._k = fleet, k

    def _cars(self, name: str) -> np.ndarray:
        traffic = self._fleet.traffic
        return getattr(traffic, name)[traffic.car_base[self._k]:traffic.car_base[self._k + 1]]

    x = property(lambda self: self._cars("x"))
    y = property(lambda self: self._cars("y"))
    heading = property(lambda self: self._cars("heading"))
    v = property(lambda self: self._cars("v"))
    s = property(lambda self: self._cars("s"))
    boxes = property(lambda self: self._cars("boxes"))

    def poses(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """x, y [m] and heading [rad] of the city's cars."""
        return self.x, self.y, self.heading


class CityPedestrians:
    """City ``k``'s pedestrians in a fleet: what its world reads of them, as views."""

    def __init__(self, fleet: Fleet, k: int) -> None:
        self._fleet, self._k = fleet, k

    def _people(self) -> slice:
        base = self._fleet.pedestrians.person_base
        return slice(base[self._k], base[self._k + 1])

    @property
    def count(self) -> int:
        people = self._people()
        return people.stop - people.start

    def positions(self) -> np.ndarray:
        """Centres of the city's pedestrians (n, 2) [m]."""
        return self._fleet.pedestrians.positions()[self._people()]

    def boxes(self) -> np.ndarray:
        """Squares around the city's pedestrians (n, 4) [m]."""
        return self._fleet.pedestrians.boxes()[self._people()]

    @property
    def crossing(self) -> np.ndarray:
        """Whether each of the city's pedestrians is on its crosswalk."""
        return self._fleet.pedestrians.crossing[self._people()]

    @property
    def against_signal(self) -> np.ndarray:
        """Whether each started its crossing against the signal."""
        return self._fleet.pedestrians.against_signal[self._people()]


class Fleet:
    """The cities of a batch: their ego cars in one :class:`EgoBatch`, their other road
    users joined into one traffic and one crowd.

    Each world then reads its own through views (:class:`CityTraffic`,
    :class:`CityPedestrians`) and its ego car's row; a world that starts a new episode
    takes its place with :meth:`replace`.
    """

    def __init__(self, worlds: Sequence[CityWorld]) -> None:
        self.worlds = list(worlds)
        first = self.worlds[0].batch
        self.egos = EgoBatch(len(self.worlds), first.rays, first.lidar_range, first.substeps)
        self.traffic = Traffic.join([world.traffic for world in self.worlds])
        self.pedestrians = Pedestrians.join([world.pedestrians for world in self.worlds])
        for k, world in enumerate(self.worlds):
            self._attach(k, world)

    def replace(self, k: int, world: CityWorld) -> None:
        """World ``k`` is now ``world``, freshly reset, with its own road users."""
        self.traffic.replace(k, world.traffic)
        self.pedestrians.replace(k, world.pedestrians)
        self.worlds[k] = world
        self._attach(k, world)

    def move(self) -> None:
        """Move the road users of every world by one decision, once its ego car has
        driven it."""
        move_road_users(self.egos, self.traffic, self.pedestrians)

    def sense(self, rows: np.ndarray) -> None:
        """Where the ego cars of ``rows`` are, what they hit and broke, and their
        readings (:meth:`EgoBatch.sense`)."""
        self.egos.sense(rows, True, self.traffic, self.pedestrians, RADIUS_M)

    def _attach(self, k: int, world: CityWorld) -> None:
        world.join(self.egos, k, (self.traffic, self.pedestrians))
        world.traffic = CityTraffic(self, k)
        world.pedestrians = CityPedestrians(self, k)
