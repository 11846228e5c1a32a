"""``CityDriving-v0``: drive across a city you may never have seen, by the rules."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from exgen.envs import fields as _fields
from exgen.envs.city import batch_kernels, kernels, public
from exgen.envs.city.city_map import CityMap, generate_map
from exgen.envs.city.config import CityConfig, map_path
from exgen.envs.city.ego import INFRACTIONS, OUTCOMES, EgoBatch
from exgen.envs.city.infos import REWARD_TERMS
from exgen.envs.city.map_file import load_map
from exgen.envs.city.raster import occupancy_raster
from exgen.envs.city.world import PENALTIES, CityWorld, check_street_lengths
from exgen.envs.world_env import WorldEnv, discrete_action

ENV_ID = "CityDriving-v0"
#: Reward terms (:func:`exgen.envs.city.batch_kernels.settle` applies them).
PROGRESS_REWARD_PER_M = 0.1
INFRACTION_REWARD = -5.0
COLLISION_REWARD = -20.0
ARRIVAL_REWARD = 20.0
#: The reward terms' weights in the order of ``REWARD_TERMS``.
REWARD_WEIGHTS = np.array([PROGRESS_REWARD_PER_M, INFRACTION_REWARD, COLLISION_REWARD,
                           ARRIVAL_REWARD])
#: The time limit: this many seconds plus the route at ``TIME_LIMIT_SPEED_FRACTION``
#: of the speed limit.
TIME_LIMIT_BASE_S = 60.0
TIME_LIMIT_SPEED_FRACTION = 0.25
#: Scales of :func:`exgen.envs.city.kernels.observe`.
_SCALES = np.array([public.SPEED_SCALE_MPS, public.LANE_OFFSET_SCALE_M,
                    public.DISTANCE_SCALE_M, public.ROUTE_SCALE_M, public.POSITION_SCALE_M])
#: The env's arguments besides its context (``config``, ``preset``, fields) and
#: ``render_mode``: the sensors, the physics' substeps and the observation's parts.
ENV_OPTIONS = ("lidar_rays", "lidar_range_m", "physics_substeps", "observe_context",
               "observe_route", "observe_road_users", "observe_lead", "observe_raster")
_ENV_ARGUMENTS = ("config", "preset", "render_mode", *ENV_OPTIONS)


class CityDrivingEnv(WorldEnv, gym.Env[np.ndarray, np.ndarray | np.int64]):
    """Drive from a start to a destination through a city, by the roads and the rules.

    A top-down city of intersections on a grid of uneven blocks, two-way and one-way
    streets, roadworks, traffic lights, other cars (IDM car following, lights, yielding
    at intersections) and pedestrians on crosswalks. The ego car is a kinematic bicycle inside a
    friction circle: on ice it slides. The world is set by a
    :class:`~exgen.envs.city.config.CityConfig` (the *context*): the map (generated from a
    seed, or a hand-drawn map file), lanes, speed limit, light timing, friction,
    driving side, traffic and pedestrian densities, sensor noise, and the ego car
    (acceleration, braking, steering limit, wheelbase, length). Numeric fields
    may be ``(low, high)`` ranges, sampled at every reset. Everything is SI; see
    :mod:`exgen.envs.city.public`.

    ## Action Space
    ``Box(-1, 1, (2,))``: steering (positive turns left) and pedal (positive
    accelerates, negative brakes). With ``continuous=False``, ``Discrete(9)``: every
    pair of steering in {right, straight, left} and pedal in {brake, coast, throttle}
    (``public.DISCRETE_ACTIONS``).

    ## Observation Space
    ``Box`` of ``20 + lidar_rays`` float32 (layout and scales in :mod:`exgen.envs.city.public`):

    | entries | observation | unit |
    | --- | --- | --- |
    | 0, 1 | speed, steering angle | 20 m/s, fraction of the limit |
    | 2, 3 | heading and lateral offset relative to the lane | pi rad, 3.5 m |
    | 4 .. 3+N | lidar: distance to the road's edge, roadworks, cars, pedestrians | lidar range |
    | then 4 | next light: green, amber, red (one-hot), distance to its stop line | 100 m |
    | then 3 | direction to the destination (cos, sin, car frame), route left | 1000 m |
    | then 5 | next turn: left, straight, right, u-turn (one-hot), distance | 100 m |
    | then 4 | position x, y (GPS), cos and sin of the heading | 1000 m |

    ``observe_context=True`` appends friction, speed limit, lane width and the
    driving side (+1 right, -1 left), scaled. ``observe_route=True`` then appends where
    the route goes, as a navigation app's arrow would: ahead and left of the car, the
    point where the route leaves the intersection the car is in or comes to next, and
    that of the intersection after it (``public.ROUTE_OBSERVATION``).
    ``observe_road_users=True`` then appends a semantic lidar of the same rays
    (``public.road_user_names``): per ray, its lidar entry where the return is another
    car or a pedestrian (1 where it is not), then per ray how fast that distance changed
    since the previous decision (20 m/s, clipped to [-1, 1]; < 0 closing in).
    ``observe_lead=True`` then appends the car ahead (``public.LEAD_OBSERVATION``): of
    those road-user returns, the nearest ahead along the lane within 1.5 m of the car's
    line, its distance over the lidar's range (1: none) and how fast it changed (as
    above).

    ``observe_raster=True`` makes it ``Dict({"vector": <the Box above>, "raster":
    Box(0, 255, (4, 64, 64), uint8)})``: a top-down picture 64 m wide, 1 m per cell,
    centred on the car and turned with it (row 0 ahead, columns growing to its right),
    with channels road, other cars, pedestrians and traffic lights (255 red, 170 amber,
    85 green over the last 5 m of each approach); see :mod:`exgen.envs.city.raster`.

    ## Rewards
    +0.1 per metre of progress along the shortest route to the destination (so
    driving away costs as much), -5 per infraction (red light, wrong lane, leaving the
    road), -20 for a collision (with a building, roadworks, a car or a pedestrian) and
    +20 on arrival. ``info["reward_terms"]`` holds each
    term of the step.

    ## Starting State
    The car stands still in the driving-side lane just past the start intersection,
    pointing along the first street of the shortest route. The destination is at least
    ``min_route_m`` away by road where the city allows.

    ## Episode End
    Terminated on arrival (the car's centre inside the destination intersection;
    ``info["is_success"]`` is True when it arrives without collision, and
    ``info["clean_arrival"]`` when it arrives with no infraction at all) or on a
    collision with a building, roadworks, another car or a pedestrian. Truncated when
    the time runs out: ``60 s + route / (0.25 * speed limit)``, set at reset
    (``info["time_limit_s"]``).

    ``info`` also has ``outcome`` (``driving``, ``arrived``, ``collision``,
    ``timeout``), ``infractions`` (counts), ``route_completion`` and
    ``driving_score`` = route completion x 0.65 per collision with a building or
    roadworks x 0.6 with a car x 0.5 with a pedestrian x 0.7 per red light (the car's
    centre crossing the stop line, before the crosswalk, on red) x 0.8 per wrong-lane
    entry x 0.8 per time the car's centre leaves the road.

    ## Arguments
    ``gym.make("CityDriving-v0", config=None, preset=None, render_mode=None,
    lidar_rays=32, lidar_range_m=50.0, physics_substeps=5, observe_context=False,
    observe_route=False, observe_road_users=False, observe_lead=False, observe_raster=False,
    **fields)``,
    ``fields`` being ``CityConfig`` fields, the ego car's among them:
    ``max_acceleration_mps2=3.0``, ``max_braking_mps2=8.0``, ``max_steering_rad=0.6``,
    ``wheelbase_m=2.7``, ``car_length_m=4.6`` (presets ``compact``, ``van``, ``truck``);
    an agent must measure them. ``lidar_range_m`` is the sensor's
    (``public.DEFAULT_LIDAR_RANGE_M``), an agent is told it. ``reset`` publishes the map
    in ``info["map"]`` (schema in :mod:`exgen.envs.city.public`) and the context in
    ``info["context"]``.

    ## Version History
    - v0: first version, with other cars and pedestrians; ``observe_route`` added later
      (opt-in: the default observation is unchanged), then ``observe_road_users``
      and ``observe_lead`` (opt-in likewise). Protocol v2 (seeded default
      episodes unchanged): ``info["clean_arrival"]``; the ego car's acceleration,
      braking, steering limit, wheelbase and length are context fields.
    """

    metadata = {"render_modes": ["human", "rgb_array"], "render_fps": public.DECISION_HZ}

    def __init__(self, config: CityConfig | None = None, *,
                 preset: str | Sequence[str] | None = None, render_mode: str | None = None,
                 lidar_rays: int = public.DEFAULT_LIDAR_RAYS,
                 lidar_range_m: float = public.DEFAULT_LIDAR_RANGE_M, physics_substeps: int = 5,
                 observe_context: bool = False, observe_route: bool = False,
                 observe_road_users: bool = False, observe_lead: bool = False,
                 observe_raster: bool = False, **fields: Any) -> None:
        self.config = CityConfig.for_env(config, preset, fields, _ENV_ARGUMENTS)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']} "
                             f"or None, got {render_mode!r}")
        self.lidar_rays = _fields.validate_int("lidar_rays", lidar_rays, 1, 360)
        self.lidar_range_m = _fields.validate_scalar(
            "lidar_range_m", lidar_range_m, _fields.FieldBounds(5.0, 200.0, "m"))
        self.physics_substeps = _fields.validate_int("physics_substeps", physics_substeps, 1, 50)
        self.observe_context = _fields.validate_bool("observe_context", observe_context)
        self.observe_route = _fields.validate_bool("observe_route", observe_route)
        self.observe_road_users = _fields.validate_bool("observe_road_users",
                                                        observe_road_users)
        self.observe_lead = _fields.validate_bool("observe_lead", observe_lead)
        self.observe_raster = _fields.validate_bool("observe_raster", observe_raster)
        self.render_mode = render_mode
        self._fixed_map = _fixed_map(self.config)
        if self._fixed_map is not None:
            widest = _fields.extreme(self.config.lane_width_m, abs)
            check_street_lengths(self._fixed_map, self.config.lanes_per_direction, widest)
        self.action_space = (spaces.Box(-1.0, 1.0, (2,), np.float32) if self.config.continuous
                             else spaces.Discrete(len(public.DISCRETE_ACTIONS)))
        self._low, self._high = _observation_bounds(self.lidar_rays, self.observe_context,
                                                    self.observe_route,
                                                    self.observe_road_users,
                                                    self.observe_lead)
        self.observation_space = spaces.Box(self._low, self._high, dtype=np.float32)
        if self.observe_raster:
            side = public.RASTER_SIZE_PX
            self.observation_space = spaces.Dict({
                "vector": self.observation_space,
                "raster": spaces.Box(0, 255, (len(public.RASTER_CHANNELS), side, side),
                                     np.uint8)})
        self._index = public.layout(self.lidar_rays, self.observe_context,
                                    self.observe_route, self.observe_road_users,
                                    self.observe_lead)
        #: Column of the first road-user entry (-1: not observed).
        self._users_at = self._index["road_user_0"] if self.observe_road_users else -1
        self.world: CityWorld | None = None
        self.context: CityConfig | None = None
        self._renderer = None
        self._time_limit_s = 0.0

    # -------------------------------------------------------------------- API
    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        if options:
            raise ValueError(f"{ENV_ID} takes no reset options, got {sorted(options)}; "
                             f"make a new env to change the context")
        self.context = context = self.config.sample(self.np_random)
        city = self._fixed_map or city_for(context)
        world_rng = np.random.Generator(np.random.PCG64(int(self.np_random.integers(2**63))))
        self.world = world = CityWorld(city, context, world_rng, lidar_rays=self.lidar_rays,
                                       lidar_range_m=self.lidar_range_m,
                                       physics_substeps=self.physics_substeps)
        batch, row = world.batch, world.row
        batch.outcome[row] = batch_kernels.DRIVING
        batch.previous_route[row] = batch.readings[row, kernels.ROUTE_DISTANCE]
        self._time_limit_s = (TIME_LIMIT_BASE_S + world.initial_route_m
                              / (TIME_LIMIT_SPEED_FRACTION * context.speed_limit_mps))
        batch.steps_left[row] = math.ceil(self._time_limit_s / public.DT_S)
        batch.noisy[row] = context.sensor_noise > 0.0
        batch.speed_limit[row] = context.speed_limit_mps
        batch.context_obs[row] = self._context_observation()
        batch.score(np.array([row]), PENALTIES)
        info = self._info({})
        info["map"] = self.published_map()
        info["context"] = {**context.to_dict(), "env_id": ENV_ID, "map_name": city.name}
        info["time_limit_s"] = self._time_limit_s
        if self.render_mode == "human":
            self.render()
        return self._observe(), info

    def step(self, action: Any) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        self.drive(action)
        self.world.move_road_users()
        return self.settle()

    def drive(self, action: Any) -> None:
        """The first part of :meth:`step`: the ego car drives one decision under ``action``."""
        steer, pedal = self.controls(action)
        self.world.drive(steer, pedal)

    def controls(self, action: Any) -> tuple[float, float]:
        """Steering and pedal in [-1, 1] for ``action``, once checked; an error if the
        episode cannot take it."""
        if self.world is None:
            raise RuntimeError("call reset() before step()")
        if self._outcome != "driving":
            raise RuntimeError(f"the episode has ended ({self._outcome}); call reset()")
        return self._controls(action)

    def settle(self) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        """The last part of :meth:`step`, once the other road users have moved: what the
        car hit and broke, the reward, the end, the observation and ``info``."""
        world = self.world
        world.update()
        batch, row, rows = world.batch, world.row, np.array([world.row])
        batch.settle(rows, REWARD_WEIGHTS, PENALTIES)
        terms = dict(zip(REWARD_TERMS, batch.terms[row].tolist(), strict=True))
        outcome = batch.outcome.item(row)
        info = self._info(terms)
        if self.render_mode == "human":
            self.render()
        return (self._observe(), batch.rewards.item(row),
                outcome in (batch_kernels.COLLISION, batch_kernels.ARRIVED_OUTCOME),
                outcome == batch_kernels.TIMEOUT, info)

    @property
    def _outcome(self) -> str:
        """``driving``, ``arrived``, ``collision`` or ``timeout``."""
        if self.world is None:
            return "driving"
        return OUTCOMES[self.world.batch.outcome.item(self.world.row)]

    def published_map(self) -> dict[str, Any]:
        """The map of the current episode as a navigation app gives it (``info["map"]``)."""
        world, context = self.world, self.context
        return {**world.city.to_public(), "lanes_per_direction": context.lanes_per_direction,
                "lane_width_m": context.lane_width_m, "sidewalk_m": public.SIDEWALK_M,
                "speed_limit_mps": context.speed_limit_mps,
                "driving_side": context.driving_side, "start": world.start,
                "destination": world.destination}

    def _new_renderer(self) -> Any:
        from exgen.envs.city.render import CityRenderer

        return CityRenderer(self.render_mode, self.metadata["render_fps"])

    # --------------------------------------------------------------- internals
    def _controls(self, action: Any) -> tuple[float, float]:
        if self.config.continuous:
            array = np.asarray(action)
            if array.shape != (2,):
                raise ValueError(f"continuous action must have shape (2,): [steer, pedal], "
                                 f"got shape {array.shape}")
            if not (np.issubdtype(array.dtype, np.integer)
                    or np.issubdtype(array.dtype, np.floating)):
                raise TypeError(f"continuous action must be real numbers, got {array.dtype}")
            steer, pedal = float(array[0]), float(array[1])
            if not (math.isfinite(steer) and math.isfinite(pedal)):
                raise ValueError(f"continuous action must be finite numbers in [-1, 1], "
                                 f"got {array.tolist()}")
            return min(max(steer, -1.0), 1.0), min(max(pedal, -1.0), 1.0)
        action = discrete_action(action, len(public.DISCRETE_ACTIONS))
        return public.DISCRETE_ACTIONS[action]

    def _observe(self) -> np.ndarray | dict[str, np.ndarray]:
        world = self.world
        vector = observe_rows({world.row: self}, world.batch, np.array([world.row]),
                              np.zeros((world.batch.n, len(self._low)), np.float32))[0]
        if self.observe_raster:
            return {"vector": vector, "raster": occupancy_raster(world)}
        return vector

    def _context_observation(self) -> np.ndarray:
        """The context's entries of the observation (zeros without ``observe_context``)."""
        values = np.zeros(len(public.CONTEXT_OBSERVATION_FIELDS))
        if self.observe_context:
            for i, name in enumerate(public.CONTEXT_OBSERVATION_FIELDS):
                value = getattr(self.context, name)
                if name == "driving_side":
                    value = 1.0 if value == "right" else -1.0
                values[i] = value / public.CONTEXT_OBSERVATION_SCALES[name]
        return values

    def _info(self, terms: dict[str, float]) -> dict[str, Any]:
        world = self.world
        batch, row = world.batch, world.row
        arrived = self._outcome == "arrived"
        counts = dict(zip(INFRACTIONS, batch.counts[row].tolist(), strict=True))
        return {"is_success": arrived, "outcome": self._outcome,
                "clean_arrival": arrived and not any(counts.values()),
                "infractions": counts,
                "route_completion": batch.route_completion.item(row),
                "driving_score": batch.driving_score.item(row),
                "route_distance_m": batch.readings.item(row, kernels.ROUTE_DISTANCE),
                "speed_mps": batch.car.item(row, kernels.SPEED),
                "speed_limit_mps": self.context.speed_limit_mps,
                "slipping": bool(batch.car[row, kernels.SLIPPING]),
                "time_s": batch.time.item(row), "reward_terms": terms}


def observe_rows(envs: Sequence[CityDrivingEnv] | dict[int, CityDrivingEnv],
                 batch: EgoBatch, rows: np.ndarray, obs: np.ndarray) -> np.ndarray:
    """The vector observations of the cities ``rows`` of ``batch`` (``envs[k]`` being row
    ``k``'s env, all of one kind), clipped to the space: the kernel's entries (in ``obs``,
    one float32 row per batch row, the road users' among them), the sensor noise each
    env draws, the context's and the route's."""
    if not len(rows):
        return obs[rows]
    first = envs[int(rows[0])]
    for k in rows[batch.noisy[rows]].tolist():
        env = envs[k]
        batch.draws[k] = env.np_random.normal(0.0, env.context.sensor_noise,
                                              env.lidar_rays + 1)
    batch.observe(rows, obs, _SCALES, first._users_at)
    at = first._index
    if first.observe_lead:
        batch.observe_lead(rows, obs, at["lead_distance"])
    if first.observe_context:
        columns = [at[name] for name in public.CONTEXT_OBSERVATION_FIELDS]
        obs[rows[:, None], columns] = batch.context_obs[rows]
    if first.observe_route:
        columns = [at[name] for name in public.ROUTE_OBSERVATION]
        scale = public.DISTANCE_SCALE_M
        for k, (kind, where), arc_to, (x, y, heading) in zip(
                rows.tolist(), batch.region[rows].tolist(),
                batch.sensed[rows, kernels.ARC_TO].tolist(),
                batch.car[rows, kernels.X:kernels.HEADING + 1].tolist(), strict=True):
            cos, sin = math.cos(heading), math.sin(heading)
            row = []
            for tx, ty in envs[k].world.route_targets_at(kind, where, arc_to):
                dx, dy = tx - x, ty - y
                row += [(cos * dx + sin * dy) / scale, (cos * dy - sin * dx) / scale]
            obs[k, columns] = row
    return np.clip(obs[rows], first._low, first._high)


def _observation_bounds(rays: int, observe_context: bool, observe_route: bool = False,
                        observe_road_users: bool = False, observe_lead: bool = False
                        ) -> tuple[np.ndarray, np.ndarray]:
    low = [0.0, -1.0, -1.0, -5.0] + [0.0] * rays + [0.0] * 4 + [-1.0, -1.0, 0.0]
    high = [2.0, 1.0, 1.0, 5.0] + [1.0] * rays + [1.0] * 4 + [1.0, 1.0, 10.0]
    low += [0.0] * 5 + [-1.0, -1.0, -1.0, -1.0]
    high += [1.0] * 5 + [7.0, 7.0, 1.0, 1.0]
    if observe_context:
        low += [0.0, 0.0, 0.0, -1.0]
        high += [1.5, 2.0, 2.0, 1.0]
    if observe_route:
        reach = public.ROUTE_OBSERVATION_REACH_M / public.DISTANCE_SCALE_M
        low += [-reach] * len(public.ROUTE_OBSERVATION)
        high += [reach] * len(public.ROUTE_OBSERVATION)
    if observe_road_users:
        low += [0.0] * rays + [-1.0] * rays
        high += [1.0] * rays + [1.0] * rays
    if observe_lead:
        low += [0.0, -1.0]
        high += [1.0, 1.0]
    return np.array(low, np.float32), np.array(high, np.float32)


@functools.lru_cache(maxsize=32)
def _load(path: str) -> CityMap:
    return load_map(path)


def _fixed_map(config: CityConfig) -> CityMap | None:
    """The one map of a config with a map file or a single map seed, checked now."""
    if config.map_file is not None or (isinstance(config.map_seed, int)
                                       and not config.randomized_fields):
        return city_for(config)
    return None


def city_for(context: CityConfig) -> CityMap:
    """The map of a concrete context: its map file, or the city its map seed generates."""
    if context.map_file is not None:
        return _load(str(map_path(context.map_file)))
    if not isinstance(context.map_seed, int) or context.randomized_fields:
        raise ValueError("city_for needs a concrete context with one map seed; sample() it")
    return generate_map(context.map_seed, context.grid_columns, context.grid_rows,
                        context.min_block_m, context.max_block_m,
                        context.removed_street_fraction, context.one_way_fraction,
                        context.closed_street_fraction, context.closed_lane_fraction,
                        context.traffic_light_fraction)

