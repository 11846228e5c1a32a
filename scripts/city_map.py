"""Write a generated city as an editable map file, or check (and draw) a map file.

Examples: ``exgen city-map --seed 7 --context grid_columns=5 grid_rows=4 --out my.txt``
(edit the drawing, then) ``exgen city-map --check my.txt --png my.png`` and
``gym.make("CityDriving-v0", map_file="my.txt")``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from exgen.envs.city.config import CityConfig
from exgen.envs.city.env import city_for
from exgen.envs.city.map_file import dumps_map
from exgen.scripts.inputs import InputError, input_errors, parse_context

NAME = "city-map"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=0,
                        help="map seed of the generated city (default: 0)")
    parser.add_argument("--context", nargs="*", default=[], metavar="KEY=VALUE",
                        help="generator fields, e.g. grid_columns=8 one_way_fraction=0.3")
    parser.add_argument("--preset", nargs="*", default=[], help="city presets, e.g. sparse")
    parser.add_argument("--check", type=Path, metavar="FILE",
                        help="read this map file instead, and report what it holds")
    parser.add_argument("--out", type=Path, help="write the map text here (default: stdout)")
    parser.add_argument("--png", type=Path, help="also draw the whole city to this PNG")
    parser.add_argument("--force", action="store_true", help="overwrite --out if it exists")


def run(args: argparse.Namespace) -> int:
    with input_errors():
        fields = parse_context(args.context)
        if args.check is not None:
            if fields or args.preset:
                raise ValueError("--check reads a map file; --context and --preset do not apply")
            config = CityConfig(map_file=str(args.check))
        else:
            if args.seed < 0:
                raise ValueError(f"--seed must be >= 0, got {args.seed}")
            config = CityConfig.from_presets(*args.preset, **{**fields, "map_seed": args.seed})
            config = config.sample(np.random.default_rng(args.seed))
        if args.out is not None and args.out.exists() and not args.force:
            raise FileExistsError(f"{args.out} exists; pass --force to overwrite it")
        city = city_for(config)
    text = dumps_map(city)
    if args.check is not None:
        one_way = sum(s.one_way_to is not None for s in city.streets)
        closed = sum(s.closed for s in city.streets)
        lanes = sum(s.closed_toward is not None for s in city.streets)
        print(f"{args.check}: {city.n_columns}x{city.n_rows} intersections, "
              f"{len(city.streets)} streets ({one_way} one-way, {closed} closed, {lanes} with "
              f"a lane closure), {len(city.lights)} traffic lights; all connected")
    elif args.out is None:
        print(text, end="")
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out}")
    if args.png is not None:
        print(f"wrote {_draw(city, config, args.png)}")
    return 0


def _draw(city, config: CityConfig, path: Path) -> Path:
    from exgen.envs.city.render import render_map_image
    from exgen.envs.city.world import CityWorld
    from exgen.envs.recording import save_png

    try:
        world = CityWorld(city, config.replace(map_seed=None, map_file=None),
                          np.random.default_rng(0))
    except ValueError as error:
        raise InputError(str(error)) from error
    return save_png(render_map_image(world), path)
