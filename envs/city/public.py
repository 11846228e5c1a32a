"""What any agent may know about ``CityDriving-v0``: the published interface.

This module is the *only* part of ``envs/city`` that ``physics_baseline/`` may import.
It holds the observation layout and scaling, the action meanings, the lane geometry
of the driving side, the schema of the published map, and the structure of the
vehicle model, with no parameter values: acceleration, braking and steering limits,
wheelbase and road friction are unknown and must be measured.

Coordinates: x east, y north, angles counter-clockwise from east, SI units.

Observation (``20 + lidar_rays`` float32 entries, in this order, then those the options
append):

=================  ===============================================  ===================
entries            meaning                                          scale
=================  ===============================================  ===================
speed              speed                                            SPEED_SCALE_MPS
steering           steering angle, as a fraction of its limit       1
lane_heading       heading minus the lane's direction, wrapped      pi rad
lane_offset        distance left (+) of the nearest lane centre     LANE_OFFSET_SCALE_M
                   of the travel direction
lidar (rays)       distance to the road's edge, roadworks, another      lidar range
                   car or a pedestrian along rays at
                   ``heading + 2 pi k / rays`` (cars as their
                   bounding boxes, pedestrians as 0.6 m squares)
light_*            next traffic light ahead: green, amber, red      one-hot, 0 if none
light_distance     to its stop line, before the crosswalk           DISTANCE_SCALE_M
destination_*      direction to the destination, car's frame        cos, sin
route_distance     length of the shortest route left                ROUTE_SCALE_M
turn_*             the navigation's next turn: left, straight,      one-hot, 0 when the
                   right, u-turn                                    destination is next
turn_distance      to the edge of that intersection                 DISTANCE_SCALE_M
x, y               position of the car (GPS)                        POSITION_SCALE_M
heading_*          cos, sin of the heading                          1
=================  ===============================================  ===================

Then, in this order, the entries the options append:

===================  ============================================  ===================
entries              meaning                                       scale
===================  ============================================  ===================
context fields       ``observe_context=True``: friction, speed     see below
                     limit, lane width, driving side
route points         ``observe_route=True``: where the route goes  DISTANCE_SCALE_M
road_user_<i>        ``observe_road_users=True``, per ray: the     lidar range
                     distance along ray ``i`` to the road user
                     (car or pedestrian) its return is from; the
                     range where the return is not from one
road_user_rate_<i>   per ray: the change of that distance since    SPEED_SCALE_MPS,
                     the previous decision, per second (< 0:       clipped to [-1, 1]
                     closing in)
lead_distance        ``observe_lead=True``: the car ahead, from    lidar range
                     the lidar's road-user returns: the nearest
                     distance along the lane to a return within
                     ``LEAD_HALF_WIDTH_M`` of the car's line
lead_rate            the change of that distance since the         SPEED_SCALE_MPS,
                     previous decision, per second (< 0: closing   clipped to [-1, 1]
                     in)
===================  ============================================  ===================

Each entry is its value divided by its scale; ``layout(rays, observe_context,
observe_route, observe_road_users)`` gives the indices, appended entries included.
Distances saturate at the top of their range. ``observe_context=True`` appends the
fields of ``CONTEXT_OBSERVATION_FIELDS``, scaled; ``observe_route=True`` then appends
``ROUTE_OBSERVATION``: in the car's frame (ahead, left) and scaled by
``DISTANCE_SCALE_M``, the point where the route leaves the intersection the car is in
or comes to next (the centre of the kerb lane at the intersection's edge), then that of
the intersection after it, or the destination's centre where the route ends first; they
saturate at ``ROUTE_OBSERVATION_REACH_M``. ``observe_road_users=True`` then appends
``road_user_names(rays)``, a semantic lidar of the same rays: ``road_user_<i>`` is the
lidar entry of ray ``i`` where its return is another car's bounding box or a
pedestrian's square (not a kerb or roadworks; a road user hidden behind them is not
seen), else 1 (none); ``road_user_rate_<i>`` is the change of that distance since the
previous decision [m] over ``DT_S`` [s], scaled by ``SPEED_SCALE_MPS`` and clipped to
[-1, 1]; it is 0 at an episode's first observation and where either of the two
decisions saw no road user on the ray (a ray that passes from one road user to another
reads the jump).
``observe_lead=True`` then appends ``LEAD_OBSERVATION``, the car ahead as a driver keeps
its distance to it: of the lidar's returns from road users (those ``road_user_<i>``
reads), those ahead of the car along its lane (the ray's angle from the lane's
direction) and within ``LEAD_HALF_WIDTH_M`` of the car's line; ``lead_distance`` is the
nearest one's distance along the lane from the lidar [m] over the lidar's range, 1
where there is none, and ``lead_rate`` its change since the previous decision, as
``road_user_rate_<i>`` (0 at the first observation and where either decision saw none).
``sensor_noise`` adds Gaussian noise to the speed and lidar entries; a road-user entry
is its ray's lidar entry, noise included (one return, one draw), and the rate is the
difference of those, so the option draws no extra noise and leaves the lidar's as it
was. The *lane* is that of the street the car is on, in its direction of travel;
inside an intersection, that of the street the route leaves by.

Map (``info["map"]`` at reset): ``columns``, ``rows``, ``column_x_m``, ``row_y_m``;
``nodes``: ``id``, ``column``, ``row``, ``x_m``, ``y_m``, ``traffic_light``;
``streets``: ``a``, ``b`` (node ids), ``length_m``, ``one_way_to`` (node or None),
``closed`` (roadworks close it), ``closed_toward`` (node toward which roadworks close
the lanes, or None), ``open_directions`` (``[from, to]`` pairs); and
``lanes_per_direction``, ``lane_width_m``, ``sidewalk_m``, ``speed_limit_mps``,
``driving_side``, ``start`` and ``destination`` (node ids). Light timing and friction
are not published (ambers last at least ``MIN_AMBER_S``). A street is straight; its
road is ``2 * lanes_per_direction * lane_width_m`` wide, lanes of one direction on the
driving side of the centre line (``lane_offsets``); a one-way street has all its lanes
in the one direction.
Intersections are squares as wide as the road. Traffic lights have two phases: the
west-east approaches, then the south-north ones, each green, then amber, then all red.
Every street has a crosswalk ``CROSSWALK_M`` wide just outside each intersection;
pedestrians cross on it while the street they cross has red and the other green (some
cross against the signal), and anywhere without lights. Other cars keep to the kerb
lane, stop at red and amber, and cross an intersection only when no car on a
conflicting path is in it; they are not in the map.

Vehicle model (kinematic bicycle inside a friction circle), per physics substep::

    steering  -> moves toward steer_action * steer_max at a limited rate
    a_long    =  pedal * a_max (pedal > 0)  or  pedal * a_brake (pedal < 0, moving)
    a_lat     =  v^2 tan(steering) / wheelbase
    grip:   |(a_long, a_lat)| <= mu * g:
              dv/dt = a_long, d heading/dt = v tan(steering) / wheelbase,
              the car moves along its heading
    slip:   otherwise: it moves along its course (the direction it was going),
              dv/dt = a_long clipped to +-mu g, steering keeps a fraction of its effect;
              grip returns when the demand is back inside the circle

Unknown: a_max, a_brake, steer_max and its rate, wheelbase, the car's length, mu, the
slip fraction (the context sets the car; measure it).
The speed never goes below 0 (no reverse gear).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping

import numpy as np

#: Decisions per second [Hz]; one action lasts ``DT_S`` seconds.
DECISION_HZ = 10
DT_S = 1.0 / DECISION_HZ
#: Sidewalk between the road's edge and the buildings [m].
SIDEWALK_M = 3.0
#: Width of the crosswalks just outside every intersection [m].
CROSSWALK_M = 3.0
#: Size of the other cars' bodies [m]. The ego car is as wide; its length, like its
#: limits, depends on the context (at most ``MAX_CAR_LENGTH_M``); the lidar and GPS sit
#: at its centre.
CAR_LENGTH_M = 4.6
CAR_WIDTH_M = 1.9
MAX_CAR_LENGTH_M = 8.0
#: A traffic rule: an amber lasts at least this long [s] (how long is not published).
MIN_AMBER_S = 1.0
#: The lidar's range when the env is made without ``lidar_range_m`` [m]; an agent is
#: told the range of the lidar it is given.
DEFAULT_LIDAR_RANGE_M = 50.0
#: The lidar's ray count when the env is made without ``lidar_rays``; as with the range,
#: an agent is told the count of the lidar it is given.
DEFAULT_LIDAR_RAYS = 32

SPEED_SCALE_MPS = 20.0
LANE_OFFSET_SCALE_M = 3.5
DISTANCE_SCALE_M = 100.0
ROUTE_SCALE_M = 1000.0
POSITION_SCALE_M = 1000.0

#: Observation indices before the lidar, and offsets after it (see ``layout``).
SPEED, STEERING, LANE_HEADING, LANE_OFFSET = range(4)
LIDAR_START = 4
#: Entries after the lidar, relative to its end.
AFTER_LIDAR = ("light_green", "light_amber", "light_red", "light_distance",
               "destination_cos", "destination_sin", "route_distance",
               "turn_left", "turn_straight", "turn_right", "turn_u", "turn_distance",
               "x", "y", "heading_cos", "heading_sin")
TURNS = ("left", "straight", "right", "u_turn")
LIGHT_STATES = ("green", "amber", "red")

#: Context fields appended by ``observe_context=True``, in this order, with divisors.
CONTEXT_OBSERVATION_FIELDS = ("friction", "speed_limit_mps", "lane_width_m", "driving_side")
CONTEXT_OBSERVATION_SCALES = {"friction": 1.0, "speed_limit_mps": 20.0, "lane_width_m": 3.5,
                              "driving_side": 1.0}

#: Entries appended by ``observe_route=True``, in this order (scale ``DISTANCE_SCALE_M``).
ROUTE_OBSERVATION = ("exit_ahead", "exit_left", "next_exit_ahead", "next_exit_left")
ROUTE_OBSERVATION_REACH_M = 1000.0

#: Entries appended by ``observe_lead=True``, in this order: the car ahead.
LEAD_OBSERVATION = ("lead_distance", "lead_rate")
#: Half the width of the corridor along the lane in which ``observe_lead`` looks for
#: the car ahead [m]: the car's half width and a margin, short of the next lane's cars.
LEAD_HALF_WIDTH_M = 1.5

#: Discrete actions: (steer, pedal) pairs.
DISCRETE_ACTIONS = tuple((steer, pedal) for steer in (-1.0, 0.0, 1.0)
                         for pedal in (-1.0, 0.0, 1.0))
ACTION_MEANINGS = {
    index: f"steer {'right' if s < 0 else 'left' if s > 0 else 'straight'}, "
           f"{'brake' if p < 0 else 'throttle' if p > 0 else 'coast'}"
    for index, (s, p) in enumerate(DISCRETE_ACTIONS)
}
#: Continuous action: ``[steer, pedal]`` in [-1, 1]; steer > 0 turns left
#: (counter-clockwise); pedal > 0 accelerates, < 0 brakes.
CONTINUOUS_ACTION = ("steer", "pedal")


def layout(lidar_rays: int, observe_context: bool = False, observe_route: bool = False,
           observe_road_users: bool = False, observe_lead: bool = False) -> dict[str, int]:
    """Index of every named observation entry for a lidar of ``lidar_rays``, with the
    entries that ``observe_context``, ``observe_route``, ``observe_road_users`` and
    ``observe_lead`` append."""
    names = {"speed": SPEED, "steering": STEERING, "lane_heading": LANE_HEADING,
             "lane_offset": LANE_OFFSET}
    end = LIDAR_START + lidar_rays
    after = _after_lidar(lidar_rays, observe_context, observe_route, observe_road_users,
                         observe_lead)
    names.update({name: end + i for i, name in enumerate(after)})
    return names


def observation_size(lidar_rays: int, observe_context: bool = False,
                     observe_route: bool = False, observe_road_users: bool = False,
                     observe_lead: bool = False) -> int:
    return LIDAR_START + lidar_rays + len(
        _after_lidar(lidar_rays, observe_context, observe_route, observe_road_users,
                     observe_lead))


def observation_sizes(lidar_rays: int) -> frozenset[int]:
    """Every observation size a lidar of ``lidar_rays`` gives, over the options on or off."""
    options = itertools.product((False, True), repeat=4)
    return frozenset(observation_size(lidar_rays, *flags) for flags in options)


def observed_light(vector: np.ndarray, index: Mapping[str, int]) -> str | None:
    """The next light's state (one of ``LIGHT_STATES``) in an observation ``vector`` of
    layout ``index`` (:func:`layout`), or None where no light is ahead."""
    lights = vector[index["light_green"]:index["light_red"] + 1]
    return LIGHT_STATES[int(np.argmax(lights))] if lights.any() else None


def road_user_names(lidar_rays: int) -> tuple[str, ...]:
    """The entries ``observe_road_users=True`` appends, in order: ``road_user_<i>`` for
    each ray, then ``road_user_rate_<i>`` for each ray."""
    return (tuple(f"road_user_{i}" for i in range(lidar_rays))
            + tuple(f"road_user_rate_{i}" for i in range(lidar_rays)))


def _after_lidar(lidar_rays: int, observe_context: bool, observe_route: bool,
                 observe_road_users: bool, observe_lead: bool) -> tuple[str, ...]:
    """The entries after the lidar, in order, with those the options append."""
    return (AFTER_LIDAR + CONTEXT_OBSERVATION_FIELDS * observe_context
            + ROUTE_OBSERVATION * observe_route
            + road_user_names(lidar_rays) * observe_road_users
            + LEAD_OBSERVATION * observe_lead)


def nearest_ahead(distance: np.ndarray, from_lane: np.ndarray, seen: np.ndarray,
                  half_width_m: float) -> np.ndarray:
    """Per car (row), the nearest distance along its lane [m] of the lidar returns
    ``seen`` (``distance`` [m] along rays at ``from_lane`` [rad] from the lane's
    direction) that lie ahead of it and within ``half_width_m`` of its line; inf where
    there is none."""
    ahead = distance * np.cos(from_lane)
    in_path = seen & (ahead > 0.0) & (np.abs(distance * np.sin(from_lane)) < half_width_m)
    return np.where(in_path, ahead, np.inf).min(axis=1)


def road_half_width(lanes_per_direction: int, lane_width_m: float) -> float:
    """Distance from a street's centre line to its edge [m]."""
    return lanes_per_direction * lane_width_m


def side_normal(dx: float, dy: float, driving_side: str) -> tuple[float, float]:
    """Unit vector from the centre line toward the driving side, for travel along (dx, dy)."""
    return (dy, -dx) if driving_side == "right" else (-dy, dx)


def lane_offsets(lanes_per_direction: int, lane_width_m: float,
                 one_way: bool) -> tuple[float, ...]:
    """Lane centres of one travel direction, measured from the centre line toward the
    driving side [m] (``side_normal``); nearest the centre line first."""
    if one_way:
        hw = road_half_width(lanes_per_direction, lane_width_m)
        return tuple(-hw + (k + 0.5) * lane_width_m for k in range(2 * lanes_per_direction))
    return tuple((k + 0.5) * lane_width_m for k in range(lanes_per_direction))


def turn_between(incoming: tuple[float, float], outgoing: tuple[float, float]) -> str:
    """The turn from unit direction ``incoming`` to ``outgoing``: one of ``TURNS``."""
    cross = incoming[0] * outgoing[1] - incoming[1] * outgoing[0]
    dot = incoming[0] * outgoing[0] + incoming[1] * outgoing[1]
    if cross > 0.5:
        return "left"
    if cross < -0.5:
        return "right"
    return "straight" if dot > 0 else "u_turn"


def light_state(phase_s: float, axis: int, green_s: float, amber_s: float,
                all_red_s: float) -> str:
    """State of a light for approaches along ``axis`` (0 west-east, 1 south-north).

    ``phase_s`` is the time into the light's cycle of ``2 (green + amber + all_red)``;
    west-east goes first. A driver knows this structure, not the durations or phases.
    """
    half = green_s + amber_s + all_red_s
    t = (phase_s - axis * half) % (2.0 * half)
    if t < green_s:
        return "green"
    return "amber" if t < green_s + amber_s else "red"


def wrap_angle(angle: float) -> float:
    """``angle`` wrapped to [-pi, pi)."""
    return (angle + math.pi) % (2.0 * math.pi) - math.pi


# ------------------------------------------------------------------ raster observation
# ``observe_raster=True`` turns the observation into a dict: ``"vector"``, the entries
# above, and ``"raster"``, a uint8 top-down picture of shape
# ``(len(RASTER_CHANNELS), RASTER_SIZE_PX, RASTER_SIZE_PX)`` centred on the car and
# turned with it: row 0 is the farthest ahead, the column index grows to the car's
# right, a cell is ``RASTER_M_PER_PX`` metres wide. Channels: ``road`` 255 where
# drivable (not a block, sidewalk or roadworks); ``cars`` 255 on other cars' bodies;
# ``pedestrians`` 255 on pedestrians (at least the cell holding each); ``lights`` over
# the lanes of each approach's last 5 m before a lit intersection: 255 red, 170 amber,
# 85 green, 0 elsewhere. The ego car is not drawn. See ``exgen.envs.city.raster``.

#: Raster channels, in order.
RASTER_CHANNELS = ("road", "cars", "pedestrians", "lights")
#: Side of the raster [cells] and of a cell [m].
RASTER_SIZE_PX = 64
RASTER_M_PER_PX = 1.0

#: ``info`` keys an agent may read (``exgen.agents.public_view.PublicView`` passes these):
#: success, and the published map at a reset.
AGENT_INFO = ("is_success", "map")
#: ``info`` keys the experiment's episode recorder may read for the results store. The
#: recorder is the runner's, not an agent: it sits between the env and the agent's view.
RECORDER_INFO = ("is_success", "outcome", "context", "infractions", "driving_score",
                 "route_completion")
#: ``info`` keys the learner-only training wrappers (``exgen.agents.reward_shaping``:
#: give-up, the route reward) may read; they too sit inside the agent's view.
LEARNER_INFO = ("outcome", "infractions", "speed_mps", "speed_limit_mps", "route_completion")
