"""Physics of the lunar landing world in pymunk: bodies, forces, terrain, no task logic.

The world knows nothing of rewards or Gymnasium, so tests and tools can drive the
mechanics directly. Forces follow the model published in :mod:`exgen.envs.lunar.public`.
A fresh ``pymunk.Space`` is built for every episode.
"""

from __future__ import annotations

import math

import numpy as np
import pymunk

from exgen.envs.lunar.config import LanderConfig
from exgen.envs.lunar.public import DT_S, WORLD_HEIGHT_M, WORLD_WIDTH_M, Throttles

#: Height of the pad above the bottom of the world [m].
PAD_Y_M = WORLD_HEIGHT_M / 4
#: Number of terrain control points across the world.
TERRAIN_POINTS = 11
#: Hull outline in the body frame [m] (LunarLander-v3's, in metres).
HULL_VERTICES_M = tuple((x / 30.0, y / 30.0) for x, y in
                        ((-14, 17), (-17, 0), (-17, -10), (17, -10), (17, 0), (14, 17)))
#: Hip joint of the right leg in the body frame [m]; the left leg mirrors it.
HIP_M = (0.45, -0.2)
#: Foot of the right leg relative to its hip [m].
FOOT_FROM_HIP_M = (0.3, -0.6)
#: Radius of the leg segment [m].
LEG_RADIUS_M = 0.06
#: Depth of the foot's lowest point below the body centre, legs relaxed [m].
FOOT_DEPTH_M = -(HIP_M[1] + FOOT_FROM_HIP_M[1]) + LEG_RADIUS_M
#: Height above the centre at which the side engines push [m].
SIDE_ENGINE_HEIGHT_M = 14.0 / 30.0
#: Each leg's share of the dry mass.
LEG_MASS_FRACTION = 0.05
#: Leg spring stiffness per kg of lander [N·m/rad/kg] and damping [N·m·s/rad/kg].
LEG_STIFFNESS_PER_KG = 16.0
LEG_DAMPING_PER_KG = 1.0
#: Legs swing at most this far from rest [rad].
LEG_SWING_LIMIT_RAD = 0.35
#: Correlation time of the gusts [s].
GUST_TIME_S = 1.0
#: Friction of the ground and the feet (pymunk multiplies them).
FRICTION = 0.9
#: Clearance kept between the start position and the terrain under it [m].
START_CLEARANCE_M = 2.0

_TERRAIN, _HULL, _LEG = 1, 2, 3
_set_force = pymunk.Body.force.fset
_set_torque = pymunk.Body.torque.fset
_set_mass = pymunk.Body.mass.fset
_set_moment = pymunk.Body.moment.fset


class LanderWorld:
    """One episode of lander physics for a concrete context.

    ``rng`` draws the terrain (unless ``context.terrain_seed`` fixes it), the start
    state and the gusts, in that order, so one generator state gives one episode.
    The world owns ``rng``: nothing else may draw from it. Pickling stores the start
    and the throttles applied, and unpickling replays them, so a copy continues bit
    for bit as the original would (pymunk does not pickle its solver's warm start).
    """

    def __init__(self, context: LanderConfig, rng: np.random.Generator,
                 substeps: int = 2) -> None:
        if context.randomized_fields:
            raise ValueError("LanderWorld needs a concrete context; call context.sample(rng)")
        self.context = context
        self.rng = rng
        self._start_rng_state = rng.bit_generator.state
        self._history: list[Throttles] = []
        self.substeps = substeps
        self._substep_s = DT_S / substeps
        self.pad_center_x = WORLD_WIDTH_M / 2 + context.pad_x
        self.pad_left = self.pad_center_x - context.pad_width / 2
        self.pad_right = self.pad_center_x + context.pad_width / 2
        self.fuel = context.fuel_mass
        self.fuel_limited = context.main_engine_fuel_rate > 0 or context.side_engine_fuel_rate > 0
        self.throttles = Throttles(0.0, 0.0)
        self.crashed = False
        self.hard_landing = False
        self.touchdown_speed: float | None = None
        self.leg_contacts = [0, 0]
        self.gust = (0.0, 0.0)
        self.elapsed_s = 0.0

        terrain_rng = (np.random.default_rng(context.terrain_seed)
                       if context.terrain_seed is not None else rng)
        self.terrain_points = _terrain_points(terrain_rng, context, self.pad_left,
                                              self.pad_right)
        self.space = pymunk.Space(threaded=False)
        self.space.gravity = (0.0, -context.gravity)
        self._add_terrain()
        self._add_lander()
        self._place_lander()
        if context.turbulence > 0:
            self.gust = tuple(rng.normal(0.0, context.turbulence, 2))
        self.space.on_collision(_HULL, _TERRAIN, begin=_hull_touched, data=self)
        self.space.on_collision(_LEG, _TERRAIN, begin=_leg_touched, separate=_leg_left,
                                data=self)

    # ------------------------------------------------------------------ building
    def _add_terrain(self) -> None:
        static = self.space.static_body
        for a, b in zip(self.terrain_points[:-1], self.terrain_points[1:], strict=True):
            segment = pymunk.Segment(static, a, b, 0.0)
            segment.friction = FRICTION
            segment.collision_type = _TERRAIN
            self.space.add(segment)

    def _add_lander(self) -> None:
        ctx = self.context
        leg_mass = LEG_MASS_FRACTION * ctx.dry_mass
        self._hull_dry_mass = ctx.dry_mass - 2 * leg_mass
        mass = self._hull_dry_mass + self.fuel
        self._moment_per_kg = pymunk.moment_for_poly(1.0, HULL_VERTICES_M)
        self.hull = pymunk.Body(mass, self._moment_per_kg * mass)
        hull_shape = pymunk.Poly(self.hull, HULL_VERTICES_M)
        hull_shape.collision_type = _HULL
        hull_shape.filter = pymunk.ShapeFilter(group=1)
        hull_shape.friction = FRICTION
        self.space.add(self.hull, hull_shape)

        total_mass = ctx.dry_mass + ctx.fuel_mass
        self.legs: list[pymunk.Body] = []
        self.leg_shapes: list[pymunk.Segment] = []
        for side in (-1, 1):
            foot = (side * FOOT_FROM_HIP_M[0], FOOT_FROM_HIP_M[1])
            leg = pymunk.Body(leg_mass, pymunk.moment_for_segment(leg_mass, (0, 0), foot,
                                                                   LEG_RADIUS_M))
            shape = pymunk.Segment(leg, (0, 0), foot, LEG_RADIUS_M)
            shape.collision_type = _LEG
            shape.filter = pymunk.ShapeFilter(group=1)
            shape.friction = FRICTION
            hip = (side * HIP_M[0], HIP_M[1])
            self.space.add(
                leg, shape,
                pymunk.PivotJoint(self.hull, leg, hip, (0, 0)),
                pymunk.DampedRotarySpring(self.hull, leg, 0.0,
                                          LEG_STIFFNESS_PER_KG * total_mass,
                                          LEG_DAMPING_PER_KG * total_mass),
                pymunk.RotaryLimitJoint(self.hull, leg, -LEG_SWING_LIMIT_RAD,
                                        LEG_SWING_LIMIT_RAD),
            )
            self.legs.append(leg)
            self.leg_shapes.append(shape)

    def _place_lander(self) -> None:
        ctx, rng = self.context, self.rng
        x = WORLD_WIDTH_M / 2 + rng.uniform(-ctx.initial_x_spread, ctx.initial_x_spread)
        ground = float(np.interp(x, *zip(*self.terrain_points, strict=True)))
        y = max(PAD_Y_M + ctx.initial_height, ground + FOOT_DEPTH_M + START_CLEARANCE_M)
        vx, vy = rng.uniform(-ctx.initial_velocity_spread, ctx.initial_velocity_spread, 2)
        angle = rng.uniform(-ctx.initial_angle_spread, ctx.initial_angle_spread)
        self.place(x, y, float(angle), (float(vx), float(vy)))

    def place(self, x: float, y: float, angle: float = 0.0,
              velocity: tuple[float, float] = (0.0, 0.0)) -> None:
        """Put the lander, legs relaxed, at world ``(x, y)`` [m] with ``angle`` [rad]
        and ``velocity`` [m/s]; for tests and tools, before the first step."""
        self.hull.position = (x, y)
        self.hull.angle = angle
        self.hull.velocity = velocity
        self.hull.angular_velocity = 0.0
        for side, leg in zip((-1, 1), self.legs, strict=True):
            leg.position = self.hull.local_to_world((side * HIP_M[0], HIP_M[1]))
            leg.angle = angle
            leg.velocity = velocity
            leg.angular_velocity = 0.0

    # ------------------------------------------------------------------- physics
    def step(self, throttles: Throttles) -> None:
        """Advance one env step (``DT_S`` seconds) holding ``throttles``."""
        ctx = self.context
        if self.fuel_limited and self.fuel <= 0.0:
            throttles = Throttles(0.0, 0.0)
        self.throttles = throttles
        self._history.append(throttles)
        hull, space, substep_s = self.hull, self.space, self._substep_s
        main_n = throttles.main * ctx.main_engine_thrust
        side_n = throttles.side * ctx.side_engine_thrust
        torque = -side_n * SIDE_ENGINE_HEIGHT_M
        # Air acts on the craft in flight only: once a leg touches, the ground holds it
        # (as LunarLander-v3 switches its wind off on contact).
        airborne = not (self.leg_contacts[0] or self.leg_contacts[1])
        drag = ctx.drag_coefficient if airborne else 0.0
        air_x = ctx.wind_speed + self.gust[0]
        air_y = self.gust[1]
        for _ in range(self.substeps):
            angle = hull.angle
            sin_a, cos_a = math.sin(angle), math.cos(angle)
            fx = -main_n * sin_a + side_n * cos_a
            fy = main_n * cos_a + side_n * sin_a
            if drag > 0.0:
                vx, vy = hull.velocity
                rel_x, rel_y = air_x - vx, air_y - vy
                k = drag * math.hypot(rel_x, rel_y)
                fx += k * rel_x
                fy += k * rel_y
            # pymunk clears forces after every step. The property setters skip
            # pymunk's __setattr__ mixin, which costs more than the physics here.
            _set_force(hull, (fx, fy))
            if torque:
                _set_torque(hull, torque)
            space.step(substep_s)
        self.elapsed_s += DT_S
        self._burn_fuel(throttles)
        if ctx.turbulence > 0.0:
            self._update_gust()

    def _burn_fuel(self, throttles: Throttles) -> None:
        if not self.fuel_limited:
            return
        ctx = self.context
        burn = (ctx.main_engine_fuel_rate * throttles.main
                + ctx.side_engine_fuel_rate * abs(throttles.side)) * DT_S
        if burn > 0.0:
            self.fuel = max(0.0, self.fuel - burn)
            mass = self._hull_dry_mass + self.fuel
            _set_mass(self.hull, mass)
            _set_moment(self.hull, self._moment_per_kg * mass)

    def _update_gust(self) -> None:
        """Ornstein-Uhlenbeck gusts: std ``turbulence``, correlation ``GUST_TIME_S``."""
        decay = math.exp(-DT_S / GUST_TIME_S)
        spread = self.context.turbulence * math.sqrt(1.0 - decay * decay)
        noise = self.rng.normal(0.0, spread, 2)
        self.gust = (self.gust[0] * decay + float(noise[0]),
                     self.gust[1] * decay + float(noise[1]))

    def __getstate__(self) -> dict:
        return {"context": self.context, "substeps": self.substeps,
                "bit_generator": type(self.rng.bit_generator).__name__,
                "rng_state": self._start_rng_state, "history": list(self._history)}

    def __setstate__(self, state: dict) -> None:
        bit_generator = getattr(np.random, state["bit_generator"])()
        bit_generator.state = state["rng_state"]
        self.__init__(state["context"], np.random.Generator(bit_generator), state["substeps"])
        for throttles in state["history"]:
            self.step(throttles)

    # -------------------------------------------------------------------- reading
    @property
    def mass(self) -> float:
        """Current total mass [kg], legs included."""
        return self.hull.mass + sum(leg.mass for leg in self.legs)

    @property
    def fuel_used(self) -> float:
        """Fuel burned so far [kg]."""
        return self.context.fuel_mass - self.fuel

    def kinematics(self) -> tuple[float, float, float, float, float, float]:
        """``(x, y, vx, vy, angle, omega)`` of the hull: position from the pad centre
        at touchdown height [m], velocity [m/s], angle [rad, unwrapped], [rad/s]."""
        hull = self.hull
        x, y = hull.position
        vx, vy = hull.velocity
        return (x - self.pad_center_x, y - PAD_Y_M - FOOT_DEPTH_M, vx, vy, hull.angle,
                hull.angular_velocity)

    def feet_on_pad(self) -> bool:
        """Whether both feet are in contact, within the pad's edges."""
        if not all(self.leg_contacts):
            return False
        return all(self.pad_left <= leg.local_to_world(shape.b).x <= self.pad_right
                   for leg, shape in zip(self.legs, self.leg_shapes, strict=True))

    def ground_height(self, x: float) -> float:
        """Height of the terrain at world x [m], from the bottom of the world."""
        return float(np.interp(x, *zip(*self.terrain_points, strict=True)))


def _terrain_points(rng: np.random.Generator, ctx: LanderConfig, pad_left: float,
                    pad_right: float) -> list[tuple[float, float]]:
    """A polyline across the world with a flat pad and smoothed random hills.

    Heights stay within ``terrain_roughness`` of the pad and ease into the pad level
    over one control-point spacing on each side.
    """
    xs = np.linspace(0.0, WORLD_WIDTH_M, TERRAIN_POINTS)
    raw = rng.uniform(-1.0, 1.0, TERRAIN_POINTS + 2)
    bumps = (raw[:-2] + raw[1:-1] + raw[2:]) / 3.0
    spacing = xs[1] - xs[0]
    distance_to_pad = np.maximum(pad_left - xs, xs - pad_right)
    ease = np.clip(distance_to_pad / spacing, 0.0, 1.0)
    heights = PAD_Y_M + ctx.terrain_roughness * bumps * ease
    points = [(float(x), float(h)) for x, h in zip(xs, heights, strict=True)
              if x < pad_left]
    points += [(pad_left, PAD_Y_M), (pad_right, PAD_Y_M)]
    points += [(float(x), float(h)) for x, h in zip(xs, heights, strict=True)
               if x > pad_right]
    return points


def _hull_touched(arbiter: pymunk.Arbiter, space: pymunk.Space, world: LanderWorld) -> None:
    world.crashed = True


def _leg_touched(arbiter: pymunk.Arbiter, space: pymunk.Space, world: LanderWorld) -> None:
    index = 0 if arbiter.shapes[0] is world.leg_shapes[0] else 1
    world.leg_contacts[index] += 1
    speed = world.hull.velocity.length
    world.touchdown_speed = speed if world.touchdown_speed is None else max(
        world.touchdown_speed, speed)
    if speed > world.context.max_touchdown_speed:
        world.hard_landing = True


def _leg_left(arbiter: pymunk.Arbiter, space: pymunk.Space, world: LanderWorld) -> None:
    index = 0 if arbiter.shapes[0] is world.leg_shapes[0] else 1
    world.leg_contacts[index] = max(0, world.leg_contacts[index] - 1)
