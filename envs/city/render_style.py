"""Colours [RGB] and drawing sizes of the city renderer, shared by its ``render_*`` modules."""

from __future__ import annotations

from exgen.envs.city.pedestrians import RADIUS_M as PEDESTRIAN_RADIUS_M

#: Minimap inset: side [px] and gap to the frame's edge [px].
MINIMAP_PX = 180
MINIMAP_MARGIN_PX = 10
#: Below this scale [px/m] lane dividers and stop lines are left out (they would blur).
DETAIL_PX_PER_M = 3.0

ASPHALT = (62, 64, 68)
SIDEWALK = (178, 178, 172)
BUILDINGS = ((124, 118, 128), (118, 122, 130), (128, 122, 116), (120, 126, 122))
BUILDING_EDGE = (92, 88, 98)
BARRIER = (255, 128, 16)
BARRIER_STRIPE = (250, 250, 250)
BARRIER_EDGE = (120, 50, 0)
LANE_WHITE = (236, 236, 236)
CENTRE_YELLOW = (250, 204, 40)
LIGHT_COLOURS = {"green": (40, 225, 90), "amber": (255, 176, 0), "red": (240, 40, 40)}
LIGHT_HOUSING = (18, 18, 20)
ROUTE = (160, 100, 255)
ROUTE_ALPHA = 150
DESTINATION = (160, 100, 255)
#: Alpha of the destination intersection's tint.
DESTINATION_ALPHA = 90
CAR = (30, 200, 255)
CAR_SLIPPING = (255, 60, 200)
CAR_EDGE = (8, 20, 40)
WINDSCREEN = (20, 44, 74)
HEADLIGHT = (255, 250, 200)
#: Other cars: body colours (picked by the car's index), outline, windows and brake
#: lights; a dot's colour in the minimap.
TRAFFIC_COLOURS = ((216, 212, 200), (198, 168, 108), (126, 152, 102), (106, 130, 172),
                   (156, 122, 156), (146, 148, 154))
TRAFFIC_EDGE = (22, 22, 26)
TRAFFIC_WINDOW = (38, 44, 54)
BRAKE_LIGHT = (255, 30, 30)
MINIMAP_TRAFFIC = (255, 222, 90)
#: Pedestrians: walking with the signal (or waiting), and crossing against it.
PEDESTRIAN = (255, 196, 120)
PEDESTRIAN_AGAINST = (255, 40, 150)
PEDESTRIAN_EDGE = (40, 20, 10)
ZEBRA = LANE_WHITE
TEXT = (242, 242, 242)
TEXT_SHADOW = (0, 0, 0)
MINIMAP_BACK = (26, 28, 32)
MINIMAP_STREET = (150, 152, 158)
MINIMAP_FRAME = (220, 220, 220)
MINIMAP_LIGHT = (200, 200, 200)

#: Lane divider dashes and gaps, one-way arrows' spacing [m].
DASH_M = 3.0
GAP_M = 5.0
ARROW_SPACING_M = 30.0
#: Traffic light disc radius [m], its housing's rim [m] and its distance from the
#: intersection's corner onto the sidewalk, along and across the approach [m].
LIGHT_RADIUS_M = 0.9
LIGHT_RIM_M = 0.35
LIGHT_SETBACK_M = 1.2
#: Stop line's width [m]; its near edge is at the crosswalk's outer edge.
STOP_LINE_M = 0.5
#: Gap between a two-way street's centre line and the inner end of its stop lines [m].
STOP_LINE_CENTRE_GAP_M = 0.15
#: Zebra stripes: width and gap across the street [m], inset from the crosswalk's edges
#: along it [m].
ZEBRA_STRIPE_M = 0.6
ZEBRA_GAP_M = 0.6
ZEBRA_INSET_M = 0.25
#: Brake lights are on below this speed [m/s], or while a car slows faster than this
#: [m/s²] between two frames at most ``BRAKING_WINDOW_S`` apart.
BRAKING_SPEED_MPS = 0.5
BRAKING_DECELERATION_MPS2 = 1.0
BRAKING_WINDOW_S = 0.5
#: Pedestrians are drawn this large [m] (their body is ``pedestrians.RADIUS_M``), and at
#: least ``PEDESTRIAN_MIN_PX`` [px].
PEDESTRIAN_DRAW_M = max(PEDESTRIAN_RADIUS_M, 0.6)
PEDESTRIAN_MIN_PX = 4
