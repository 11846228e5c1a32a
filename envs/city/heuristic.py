"""A heuristic controller (driver) that proves ``CityDriving-v0`` can be driven, on empty streets.

It reads only the observation, like any agent: it keeps to its lane with a Stanley
controller on the lane heading and offset, follows the navigation's turns by
tracking the lane of the street the route leaves by, slows for turns, stops at red
lights and before obstacles the front lidar ray sees. It knows neither the car (its
limits and length depend on the context) nor the road friction: it steers with a
fixed gain that feedback corrects, counts on the longest car the world has
(``public.MAX_CAR_LENGTH_M``), and brakes gently enough for wet roads and heavy cars.
It is not the planner and must not be imported by it.
"""

from __future__ import annotations

import math

import numpy as np

from exgen.envs.city import public

#: Cruising and turning speeds [m/s].
CRUISE_MPS = 10.0
TURN_MPS = 3.0
#: Deceleration planned for slowing down and stopping [m/s²].
PLANNED_DECELERATION_MPS2 = 2.0
#: Distance before the intersection where a turn toward the kerb begins [m].
TURN_IN_M = 3.0
#: Stanley gain on the lateral offset [1/s], and its low-speed softening [m/s].
OFFSET_GAIN = 3.0
SOFTENING_MPS = 1.0
#: Steering command per radian of wanted steering angle: that of a 0.6 rad limit. With
#: another limit the Stanley law's feedback still holds the lane, only softer or firmer.
STEERING_PER_RAD = 1.0 / 0.6
#: Heading error beyond which it turns at full lock [rad].
FULL_LOCK_RAD = 0.5
#: Half the longest car, from its centre (where the lidar sits) to its bumper [m].
HALF_LENGTH_M = public.MAX_CAR_LENGTH_M / 2
#: Stop this far before a red light's stop line, measured from the car's centre [m]:
#: the longest car's bumper stays off the crosswalk.
STOP_MARGIN_M = HALF_LENGTH_M + 0.5
#: Room kept to an obstacle ahead, from the front bumper of a default-sized car [m]; the
#: longest car still keeps ``FOLLOW_GAP_M - (MAX_CAR_LENGTH_M - CAR_LENGTH_M) / 2``.
FOLLOW_GAP_M = 4.0
#: Strongest braking it uses, as pedal: half the brakes, inside the grip of a wet road.
MAX_BRAKE_PEDAL = 0.5
#: Speed error to pedal [1 / (m/s)].
SPEED_GAIN = 0.5


def drive(observation: np.ndarray, lidar_rays: int, driving_side: str = "right",
          lidar_range_m: float = public.DEFAULT_LIDAR_RANGE_M) -> np.ndarray:
    """The ``[steer, pedal]`` action for one observation of the default layout.

    ``driving_side`` comes from the published map (``info["map"]["driving_side"]``).
    """
    index = public.layout(lidar_rays)
    speed = float(observation[public.SPEED]) * public.SPEED_SCALE_MPS
    heading_error = float(observation[public.LANE_HEADING]) * math.pi
    offset = float(observation[public.LANE_OFFSET]) * public.LANE_OFFSET_SCALE_M
    # Stanley: turn against the heading error and toward the lane centre.
    steering = -heading_error - math.atan2(OFFSET_GAIN * offset, speed + SOFTENING_MPS)
    turn = observation[index["turn_left"]:index["turn_u"] + 1]
    to_turn = float(observation[index["turn_distance"]]) * public.DISTANCE_SCALE_M
    # The turn toward the kerb is tighter than the car can turn: start it early.
    tight = 2 if driving_side == "right" else 0
    steer = min(max(steering * STEERING_PER_RAD, -1.0), 1.0)
    if abs(heading_error) > FULL_LOCK_RAD:
        # Deep in a turn: full lock, so that a car that turns wide (a long wheelbase,
        # a small steering limit) still makes it; the lane law takes over after.
        steer = -1.0 if heading_error > 0.0 else 1.0
    if turn[tight] and to_turn < TURN_IN_M:
        steer = 1.0 if tight == 0 else -1.0

    target = CRUISE_MPS
    if turn[0] or turn[2] or turn[3]:
        target = min(target, _approach_speed(to_turn, TURN_MPS))
    if abs(heading_error) > 0.3:
        target = min(target, TURN_MPS)
    red, amber = observation[index["light_red"]], observation[index["light_amber"]]
    if red or amber:
        to_line = float(observation[index["light_distance"]]) * public.DISTANCE_SCALE_M
        stop_room = to_line - STOP_MARGIN_M
        can_stop = speed * speed / (2.0 * 2.0 * PLANNED_DECELERATION_MPS2) <= stop_room + 1.0
        if red or can_stop:
            target = min(target, _approach_speed(stop_room, 0.0))
    # Something straight ahead in the lane: a car, a pedestrian, roadworks. Where the
    # route turns, the road's edge beyond the junction is no obstacle. While turning
    # it looks at nothing: its lidar cannot tell a kerb seen askew from a pedestrian.
    clearance = float(observation[public.LIDAR_START]) * lidar_range_m \
        - public.CAR_LENGTH_M / 2
    if abs(heading_error) < 0.15 and abs(offset) < 1.0 and (turn[1] or clearance < to_turn):
        target = min(target, _approach_speed(clearance - FOLLOW_GAP_M, 0.0))
    pedal = min(max(SPEED_GAIN * (target - speed), -MAX_BRAKE_PEDAL), 1.0)
    if target == 0.0 and speed < 0.5:
        pedal = -1.0
    return np.array([steer, pedal], dtype=np.float32)


def _approach_speed(distance_m: float, final_mps: float) -> float:
    """Fastest speed [m/s] that slows to ``final_mps`` within ``distance_m`` at the plan."""
    if distance_m <= 0.0:
        return final_mps
    return math.sqrt(final_mps * final_mps + 2.0 * PLANNED_DECELERATION_MPS2 * distance_m)
