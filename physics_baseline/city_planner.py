"""The model-based driver for ``CityDriving-v0``: a map, the rules and a measured car.

At each reset it reads the published map (``info["map"]``, through the agent hook
``start_episode``), finds the shortest open route to the destination and lays a path
along the lane centres of the driving side, curving through intersections. Each step:

- *where am I*: the GPS position and heading of the observation, projected on the path
  (off by more than ``REPLAN_OFF_PATH_M``, it replans from the street it is on);
- *steering*: pure pursuit of a point ``lookahead`` ahead on the path, the curvature
  turned into a steering command by the measured steering gain;
- *speed*: the speed limit, slowed for the path's curves by the measured grip, stopping
  for a red (or stoppable amber) light before the crosswalk, behind anything the lidar
  sees in the path's corridor (cars, pedestrians, roadworks), and at an intersection
  that a car occupies or, for a turn across oncoming traffic, that an oncoming car is
  approaching;
- *measuring*: at the start of each trial a short pedal probe (gentle, then full
  throttle, then gentle and full brake) shows the acceleration per pedal and whether
  the tyres saturate; with the motion seen while driving it gives the friction it
  plans with. Estimates of steering and pedal gains carry over between trials;
- *ambers*: it times every amber it sees from its start to red, and until it has timed
  one counts on the shortest amber the rules allow (``public.MIN_AMBER_S``) or the
  longest it has seen so far; it keeps its speed so that, when a light turns amber,
  it can either stop with the braking it measured or cross the line within that time
  (slower where a turn at the line will slow it). The rule is about its centre: once
  that is past the stop line it clears the intersection whatever the light shows, and
  a lit destination's light counts like any other;
- *its length*: unknown, so it keeps the longest car's half length
  (``public.MAX_CAR_LENGTH_M``) between its centre and any stop line or obstacle, and
  on a turn toward the kerb where roadworks close an oncoming lane of the street it
  leaves or enters, lays the arc (later and wider, or earlier) so that the longest
  body's front or rear swing at its measured turning radius stays off that lane.

It sees only observations, the published map and :mod:`exgen.envs.city.public`.
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np

from exgen.agents.base import OnlineAgent
from exgen.envs.city import public
from exgen.physics_baseline.city_model import G_MPS2, GripEstimator, Path, RoadMap

#: Pedal held during each step of the probe at the start of a trial.
PROBE = (0.4,) * 6 + (1.0,) * 6 + (-0.3,) * 4 + (-1.0,) * 4
#: Shares of the measured friction used for braking and for cornering.
BRAKING_SHARE = 0.6
CORNERING_SHARE = 0.5
#: Share of the measured friction it brakes with when it must.
HARD_BRAKING_SHARE = 0.85
#: Cruise at this share of the speed limit.
CRUISE_SHARE = 0.9
#: The lidar must see far enough to stop within this distance [m].
SIGHT_M = 30.0
#: Time lost to reacting and braking up when a light turns amber [s], and the share of
#: the amber it counts on for crossing the line.
AMBER_LAG_S = 0.3
AMBER_SHARE = 0.9
#: From its centre to its front bumper, for the longest car it may be [m].
HALF_LENGTH_M = public.MAX_CAR_LENGTH_M / 2
#: Speed over a crosswalk without lights [m/s].
ZEBRA_MPS = 4.0
#: Half-width of the corridor along the path where a lidar hit is an obstacle [m].
CORRIDOR_M = public.CAR_WIDTH_M / 2 + 0.35
#: Room kept behind an obstacle, from the front bumper [m]; stopping margin at lights.
FOLLOW_GAP_M = 3.0
STOP_MARGIN_M = 0.7
#: Room kept between its centre and a stop line it stops for late [m].
CENTRE_MARGIN_M = 0.5
#: An oncoming car this far beyond an intersection holds a turn across its path [m].
ONCOMING_M = 35.0
#: The way across oncoming (or crossing) traffic must look clear this long [s].
CLEAR_FOR_S = 1.5
#: Waiting at an intersection this long, it goes once the intersection itself is empty.
PATIENCE_S = 4.0
#: Off the path by more than this, it replans [m].
REPLAN_OFF_PATH_M = 4.0
#: Speed error to acceleration [1/s].
SPEED_GAIN = 1.2
#: The turns it lays are this much wider than the tightest it measured, and laid anew
#: when that estimate moves by more than ``REPLAN_RADIUS_M`` (on a straight).
TURN_RADIUS_MARGIN = 1.15
REPLAN_RADIUS_M = 0.3


class CityPlanner(OnlineAgent):
    """Drive any city on the first trial with the published map and a measured car.

    ``lidar_rays`` and ``lidar_range_m`` are the env's observation settings (by default
    the env's defaults); a ray count that no observation option fits raises ValueError.
    """

    name = "planner"

    def __init__(self, env: gym.Env, seed: int | None = None,
                 lidar_rays: int = public.DEFAULT_LIDAR_RAYS,
                 lidar_range_m: float = public.DEFAULT_LIDAR_RANGE_M) -> None:
        super().__init__(env, seed)
        self.continuous = isinstance(env.action_space, gym.spaces.Box)
        space = env.observation_space
        vector = space["vector"] if isinstance(space, gym.spaces.Dict) else space
        if vector.shape[0] not in public.observation_sizes(lidar_rays):
            raise ValueError(f"lidar_rays={lidar_rays} does not fit an observation of "
                             f"{vector.shape[0]} entries; pass the env's lidar_rays")
        self.rays = lidar_rays
        self.lidar_range = lidar_range_m
        self.index = public.layout(self.rays)
        angles = np.arange(self.rays) * (2 * math.pi / self.rays)
        self.ray_directions = np.stack([np.cos(angles), np.sin(angles)], axis=1)
        self.grip = GripEstimator()
        self.road: RoadMap | None = None
        self.path: Path | None = None
        self.progress = 0.0
        self.trials = 0
        self._step = 0
        self._last: tuple[float, float, float, float, float, float] | None = None
        self._waiting_s = 0.0
        self._clear_s = 0.0
        self.ambers = AmberClock()
        self._path_radius = 0.0

    # ----------------------------------------------------------------- agent API
    def start_episode(self, observation: Any, info: dict[str, Any]) -> None:
        """Read the map published at reset, and plan the route from where the car is."""
        if "map" not in info:
            raise ValueError("the city planner needs the published map: info['map']")
        self.road = RoadMap(info["map"])
        self.path = None
        self.progress = 0.0
        self._step = 0
        self._last = None
        self._waiting_s = 0.0
        self._clear_s = 0.0
        self.grip.saturated = None
        self.grip.grip_seen = 0.0
        self.ambers = AmberClock()  # the next trial's context may time lights otherwise
        self._replan(self._read(observation))

    def end_episode(self, record: Any) -> None:
        self.trials += 1

    def predict(self, observation: Any, state: Any = None,
                episode_start: np.ndarray | None = None,
                deterministic: bool = False) -> tuple[Any, Any]:
        if self.road is None:
            raise RuntimeError("call start_episode(observation, info) after each reset, with "
                               "the reset info; agents.run_episodes does")
        car = self._read(observation)
        self._measure(car)
        self.ambers.see(car["light"], car["light_distance"])
        if self._turns_outdated(car):
            self._replan(car)
        s, off = self.path.project(car["x"], car["y"], self.progress)
        if off > REPLAN_OFF_PATH_M:
            self._replan(car)
            s, off = self.path.project(car["x"], car["y"], 0.0)
        self.progress = s
        steer = self._steer(car, s)
        if self._step < len(PROBE):
            pedal = PROBE[self._step]
        else:
            pedal = self._pedal(car, *self._target_speed(car, s))
        self._step += 1
        self._last = (car["speed"], car["heading"], car["x"], car["y"], pedal, car["steering"])
        return self._action(steer, pedal), state

    def report(self) -> dict[str, float]:
        """What it has measured: friction, braking, steering curvature per unit."""
        return {"friction": self.grip.friction, "friction_saturated": self.grip.saturated,
                "braking_mps2": self.grip.braking,
                "acceleration_mps2": self.grip.acceleration,
                "amber_s": self.ambers.duration,
                "steering_curvature_per_m": self.grip.steering_curvature,
                "trials": self.trials}

    # ----------------------------------------------------------------- sensing
    def _read(self, observation: Any) -> dict[str, Any]:
        vector = observation["vector"] if isinstance(observation, dict) else observation
        o = np.asarray(vector, dtype=np.float64)
        i = self.index
        return {
            "speed": o[public.SPEED] * public.SPEED_SCALE_MPS,
            "steering": o[public.STEERING],
            "x": o[i["x"]] * public.POSITION_SCALE_M,
            "y": o[i["y"]] * public.POSITION_SCALE_M,
            "heading": math.atan2(o[i["heading_sin"]], o[i["heading_cos"]]),
            "lidar": o[public.LIDAR_START:public.LIDAR_START + self.rays] * self.lidar_range,
            "light": public.observed_light(o, i),
            "light_distance": o[i["light_distance"]] * public.DISTANCE_SCALE_M,
        }

    def _measure(self, car: dict[str, Any]) -> None:
        if self._last is None:
            return
        speed, heading, x, y, pedal, steering = self._last
        yaw = public.wrap_angle(car["heading"] - heading) / public.DT_S
        moved = math.hypot(car["x"] - x, car["y"] - y)
        slip = 0.0
        if moved > 0.1:
            course = math.atan2(car["y"] - y, car["x"] - x)
            middle = heading + 0.5 * public.wrap_angle(car["heading"] - heading)
            slip = public.wrap_angle(course - middle)
        self.grip.add(pedal, speed, car["speed"], steering, yaw, slip, public.DT_S)

    def _turn_radius(self) -> float:
        """The radius of the turns it lays [m]: its car's tightest, measured, widened."""
        return TURN_RADIUS_MARGIN / self.grip.steering_curvature

    def _turns_outdated(self, car: dict[str, Any]) -> bool:
        """Whether the path's turns were laid for a turning radius it now knows better,
        and the car is on a straight, away from the next intersection."""
        if abs(self._turn_radius() - self._path_radius) <= REPLAN_RADIUS_M \
                or abs(car["steering"]) > 0.1:
            return False
        ahead = [js for js, _, _ in self.path.junctions if js > self.progress]
        return not ahead or ahead[0] - self.progress > 20.0

    def _replan(self, car: dict[str, Any]) -> None:
        arc = self.road.locate(car["x"], car["y"], car["heading"])
        self._path_radius = self._turn_radius()
        self.path = Path.along(self.road, self.road.route(arc), self._path_radius)
        self.progress, _ = self.path.project(car["x"], car["y"], 0.0, window_m=1e9)

    # ----------------------------------------------------------------- control
    def _steer(self, car: dict[str, Any], s: float) -> float:
        lookahead = min(max(3.0 + 0.5 * car["speed"], 4.0), 12.0)
        tx, ty = self.path.point_at(s + lookahead)
        dx, dy = tx - car["x"], ty - car["y"]
        c, sn = math.cos(car["heading"]), math.sin(car["heading"])
        ahead, left = c * dx + sn * dy, -sn * dx + c * dy
        distance = max(math.hypot(ahead, left), 1.0)
        curvature = 2.0 * left / (distance * distance)
        return min(max(curvature / self.grip.steering_curvature, -1.0), 1.0)

    def _plan_deceleration(self) -> float:
        return min(BRAKING_SHARE * self.grip.friction * G_MPS2, 0.6 * self.grip.braking, 3.0)

    def _hard_deceleration(self) -> float:
        """The braking it counts on when it must stop [m/s²]: the tyres' or the brakes'."""
        return HARD_BRAKING_SHARE * min(self.grip.friction * G_MPS2, self.grip.braking)

    def _target_speed(self, car: dict[str, Any], s: float) -> tuple[float, float]:
        """The speed to drive at [m/s], and the deceleration needed now to meet the
        slowest curve or the nearest stop ahead [m/s²]."""
        road, path = self.road, self.path
        decel = self._plan_deceleration()
        lateral = self._lateral_acceleration()
        target = min(CRUISE_SHARE * road.speed_limit, math.sqrt(2 * decel * SIGHT_M))
        # Curves ahead (and the one it may be in), within the distance it takes to slow.
        speed = car["speed"]
        horizon = (max(target, speed) ** 2) / (2 * decel) + 10.0
        ahead = (path.s > s - 3.0) & (path.s < s + horizon)
        needed = 0.0
        if ahead.any():
            allowed = np.sqrt(lateral / np.maximum(path.curvature[ahead], 1e-3))
            distance = np.maximum(path.s[ahead] - s, 0.0)
            target = min(target, float(np.sqrt(allowed**2 + 2 * decel * distance).min()))
            needed = float(((speed**2 - allowed**2) / (2 * np.maximum(distance, 0.5))).max())
        for entry, node, turn in self.path.junctions:
            # A lit destination too: it arrives once its centre is in the intersection.
            if entry <= s or (turn == "arrive" and node not in road.lit):
                continue
            to_line = max(entry - public.CROSSWALK_M - HALF_LENGTH_M - s, 0.0)
            if node in road.lit:
                target = min(target, self._light_speed(car, s, entry, decel))
            else:
                # Crosswalks without lights: pedestrians may be there, seen late.
                target = min(target, math.sqrt(ZEBRA_MPS**2 + 2 * decel * to_line))
            break
        room = min(self._obstacle_room(car, s), self._light_room(car, s),
                   self._junction_room(car, s))
        if room < math.inf:
            target = min(target, math.sqrt(2 * decel * max(room, 0.0)))
            needed = max(needed, speed * speed / (2.0 * max(room, 0.2)))
            if room < 0.3:
                target = 0.0
        return target, needed

    def _light_speed(self, car: dict[str, Any], s: float, entry: float,
                     decel: float) -> float:
        """The fastest it may go toward the lit intersection whose edge lies at path
        distance ``entry`` [m/s]: no dilemma if the light turns amber.

        Whenever the amber may begin, it is either able to stop braking hard, or slow
        and near enough for its centre to cross the line within the amber (at speed v,
        the stretch it cannot stop in takes v / 2a). Once its centre is past the line,
        or going on amber, it keeps going.
        """
        to_centre_line = entry - public.CROSSWALK_M - s
        if to_centre_line <= 0.0 or (car["light"] == "amber"
                                     and self._light_room(car, s) == math.inf):
            return math.inf
        hard = self._hard_deceleration()
        to_line = max(to_centre_line - HALF_LENGTH_M, 0.0)
        stoppable = max(to_line - STOP_MARGIN_M - 1.0, 0.0)  # as _light_room
        amber = AMBER_SHARE * self.ambers.duration - AMBER_LAG_S
        # Above the floor it plans with its gentler braking: a margin for lag.
        return max(2 * hard * amber, math.sqrt(2 * decel * stoppable))

    def _lateral_acceleration(self) -> float:
        """The sideways acceleration it takes curves with [m/s²]."""
        return min(CORNERING_SHARE * self.grip.friction * G_MPS2, 2.5)

    def _time_to_line(self, car: dict[str, Any], s: float, to_line: float) -> float:
        """The longest its centre takes to cross a line ``to_line`` [m] ahead [s]: at its
        speed, or slower where the path's curves at or past the line will slow it."""
        path = self.path
        near = (path.s > s - 3.0) & (path.s < s + to_line + 60.0)
        speed = car["speed"]
        if near.any():
            allowed = np.sqrt(self._lateral_acceleration()
                              / np.maximum(path.curvature[near], 1e-3))
            past = np.maximum(path.s[near] - (s + to_line), 0.0)
            speed = min(speed, float(np.sqrt(
                allowed**2 + 2 * self._plan_deceleration() * past).min()))
        return to_line / speed if speed > 0.1 else math.inf

    def _light_room(self, car: dict[str, Any], s: float) -> float:
        """Room to a red light's stop line, or an amber one it stops for [m]."""
        if car["light"] not in ("red", "amber") or car["light_distance"] <= 0.0:
            return math.inf  # its centre is past the line: it clears the intersection
        room = car["light_distance"] - HALF_LENGTH_M - STOP_MARGIN_M
        stopping = car["speed"] ** 2 / (2 * self._hard_deceleration())
        if stopping <= room + 1.0:
            return room
        # Too late to keep the bumper off the crosswalk: go on if the centre crosses the
        # line while the amber surely lasts, else stop late (the rule is about the centre).
        centre_room = car["light_distance"] - CENTRE_MARGIN_M
        if car["light"] == "amber" and (
                (car["speed"] > 2.0 and stopping > centre_room)
                or self._time_to_line(car, s, car["light_distance"])
                < self.ambers.remaining - AMBER_LAG_S):
            return math.inf
        return centre_room if stopping <= centre_room else room

    def _hits(self, car: dict[str, Any]) -> np.ndarray:
        """World points (n, 2) where the lidar hit something within its range."""
        seen = car["lidar"] < self.lidar_range - 0.5
        c, s = math.cos(car["heading"]), math.sin(car["heading"])
        directions = self.ray_directions[seen] @ np.array([[c, s], [-s, c]])
        return np.array([car["x"], car["y"]]) + directions * car["lidar"][seen][:, None]

    def _obstacle_room(self, car: dict[str, Any], s: float) -> float:
        """Room to the nearest lidar hit on the road inside the path's corridor ahead [m]
        (a turn may pass close to a kerb's corner)."""
        room = math.inf
        hits = self._hits(car)
        for px, py in hits[self.road.on_road(hits)]:
            if math.hypot(px - car["x"], py - car["y"]) > 40.0:
                continue
            hit_s, off = self.path.project(px, py, s, window_m=45.0)
            if off < CORRIDOR_M and hit_s > s:
                room = min(room, hit_s - s - HALF_LENGTH_M - FOLLOW_GAP_M)
        return room

    def _junction_room(self, car: dict[str, Any], s: float) -> float:
        """Room to the stop line of the next intersection when it must wait there [m]."""
        road = self.road
        upcoming = [(js, node, turn) for js, node, turn in self.path.junctions if js > s]
        if not upcoming:
            return math.inf
        entry, node, turn = upcoming[0]
        line = entry - public.CROSSWALK_M - HALF_LENGTH_M - STOP_MARGIN_M
        if turn == "arrive" or s > line + 0.5 or entry - s > 15.0:
            self._waiting_s = 0.0
            return math.inf
        hits = self._hits(car)
        nx_, ny_ = road.nodes[node]
        hw = road.half_width
        inside = (np.abs(hits[:, 0] - nx_) < hw - 0.2) & (np.abs(hits[:, 1] - ny_) < hw - 0.2)
        blocked = bool(inside.any()) or self._crosswalks_busy(hits, node)
        crossing = turn in ("u_turn", "left" if road.side == "right" else "right")
        lit = node in road.lit
        if not blocked and (crossing or not lit) and self._waiting_s < PATIENCE_S:
            a, b = self._arc_into(node)
            dx, dy = road.direction(a, b)
            rx, ry = hits[:, 0] - nx_, hits[:, 1] - ny_
            along, lateral = rx * dx + ry * dy, -(rx * dy - ry * dx)
            sign = 1.0 if road.side == "right" else -1.0
            # Oncoming lanes lie left of the centre line in right-hand traffic.
            oncoming = (along > hw) & (along < hw + ONCOMING_M) & (sign * lateral > 0.3) \
                & (sign * lateral < hw)
            seen = bool(oncoming.any())
            if not lit:
                across = (np.abs(along) < hw - 0.5) & (np.abs(lateral) > hw) & (
                    np.abs(lateral) < hw + 20.0)
                seen |= bool(across.any())
            # A car coming head-on can hide between two lidar rays for a while: the way
            # must have looked clear for a moment, not just now.
            self._clear_s = 0.0 if seen else self._clear_s + public.DT_S
            blocked = self._clear_s < CLEAR_FOR_S
        if car["speed"] < 0.5 and car["light"] not in ("red", "amber"):
            self._waiting_s += public.DT_S  # waiting for traffic, not for the light
        elif car["speed"] > 1.5:
            self._waiting_s = 0.0
        return line - s if blocked else math.inf

    def _crosswalks_busy(self, hits: np.ndarray, node: int) -> bool:
        """Whether something stands on the road part of the crosswalk it enters the
        intersection by, or of the one it leaves by."""
        road = self.road
        hw = road.half_width
        nx_, ny_ = road.nodes[node]
        arcs = self.path.arcs
        into = next((k for k, (_, b) in enumerate(arcs) if b == node), None)
        if into is None:
            return False
        sides = [road.direction(*arcs[into])]
        sides[0] = (-sides[0][0], -sides[0][1])  # toward where it comes from
        if into + 1 < len(arcs):
            sides.append(road.direction(*arcs[into + 1]))
        rx, ry = hits[:, 0] - nx_, hits[:, 1] - ny_
        for dx, dy in sides:
            along, across = rx * dx + ry * dy, np.abs(rx * dy - ry * dx)
            on = ((along > hw - 0.3) & (along < hw + public.CROSSWALK_M + 0.3)
                  & (across < hw - 0.4))
            if on.any():
                return True
        return False

    def _arc_into(self, node: int) -> tuple[int, int]:
        for a, b in self.path.arcs:
            if b == node:
                return a, b
        return self.path.arcs[-1]

    def _pedal(self, car: dict[str, Any], target: float, needed: float) -> float:
        """Pedal toward ``target`` [m/s]; at least ``needed`` [m/s²] of braking when it
        is behind schedule for a curve or a stop ahead."""
        speed = car["speed"]
        friction_g = self.grip.friction * G_MPS2
        wanted = SPEED_GAIN * (target - speed)
        if needed > 0.5 * self._plan_deceleration():
            wanted = min(wanted, -needed)
        if target == 0.0 and speed < 0.3:
            return -0.3
        if wanted >= 0.0:
            gain = float(np.median(self.grip.throttle_gain[-50:])) \
                if self.grip.throttle_gain else 3.0
            wanted = min(wanted, 0.8 * friction_g)
            return min(wanted / max(gain, 0.5), 1.0)
        gain = max(self.grip.brake_gain[-50:], default=3.0)
        wanted = max(wanted, -self._hard_deceleration())
        return max(wanted / max(gain, 0.5), -1.0)

    def _action(self, steer: float, pedal: float) -> Any:
        if self.continuous:
            return np.array([steer, pedal], dtype=np.float32)
        steer_index = 0 if steer < -0.33 else (2 if steer > 0.33 else 1)
        pedal_index = 0 if pedal < -0.2 else (2 if pedal > 0.2 else 1)
        return int(3 * steer_index + pedal_index)


class AmberClock:
    """How long the ambers last [s], timed from the lights the car comes up to."""

    def __init__(self) -> None:
        self.timed: list[float] = []
        self.longest_seen = 0.0
        self._state: str | None = None
        self._distance = math.inf
        self._since: float | None = None
        self._elapsed = 0.0

    def see(self, light: str | None, distance: float) -> None:
        """One observation of the next light and the distance to its stop line [m]."""
        same = light is not None and self._state is not None \
            and abs(distance - self._distance) < 5.0
        if not same:
            self._since = None
        elif light == "amber" and self._state == "green":
            self._since = 0.0  # it saw the amber begin
        if light == "amber" and same and self._state == "amber":
            self._elapsed += public.DT_S
            if self._since is not None:
                self._since += public.DT_S
            self.longest_seen = max(self.longest_seen, self._elapsed)
        elif light == "amber":
            self._elapsed = 0.0
        if light == "red" and same and self._state == "amber" and self._since is not None:
            self.timed.append(self._since + public.DT_S)
            self._since = None
        self._state, self._distance = light, distance

    @property
    def remaining(self) -> float:
        """How long the amber in sight surely lasts yet [s]."""
        return self.duration - self._elapsed if self._state == "amber" else self.duration

    @property
    def duration(self) -> float:
        """The amber to count on: the shortest timed, else a lower bound [s]."""
        if self.timed:
            return min(self.timed)
        return max(public.MIN_AMBER_S, self.longest_seen)
