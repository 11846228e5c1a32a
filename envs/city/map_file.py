"""A small text format for drawing a city by hand.

Example (``envs/city/maps/downtown.txt`` is a longer one)::

    # My town. Lines starting with # are comments.
    name: my town
    columns_m: 60 80        # west to east: metres between neighbouring intersections
    rows_m: 70              # top to bottom of the drawing: metres between them
    map:
    L---+-->+
    |       v
    +-x-L==>+

Settings come first, one ``key: value`` per line; ``map:`` starts the drawing.
In the drawing, intersections sit every 4 characters across and every 2 lines
down; the top line is the north edge. Between them:

=============  ==========================================================
glyph          meaning
=============  ==========================================================
``+``          an intersection
``L``          an intersection with traffic lights
``.``          no intersection (so is a space)
(space)        no intersection or no street there
``---`` ``|``  a two-way street (west-east, south-north)
``-->`` ``<--`` one-way street toward the east, the west
``^`` ``v``    one-way street toward the north, the south
``-x-`` ``x``  street closed by roadworks
``==>`` ``<==`` roadworks close one direction: only eastbound, only westbound is open
``n`` ``s``    roadworks close one direction: only northbound, only southbound is open
=============  ==========================================================

Any three characters of a west-east street with one arrow are read by the arrow
(``->-`` is ``-->``). An error names the line and column.
"""

from __future__ import annotations

from pathlib import Path

from exgen.envs.city.city_map import CityMap, MapError, Street, positions

_HORIZONTAL = {"---": "two_way", "-->": "east", "->-": "east", ">--": "east",
               "<--": "west", "-<-": "west", "--<": "west", "-x-": "closed",
               "==>": "open_east", "<==": "open_west"}
_VERTICAL = {"|": "two_way", "^": "north", "v": "south", "x": "closed",
             "n": "open_north", "s": "open_south"}
_NODES = {"+": False, "L": True}
_NO_NODE = (" ", ".")
_SETTINGS = ("name", "columns_m", "rows_m")


class MapFileError(MapError):
    """A map file that cannot be read; the message names the file and line."""


def load_map(path: str | Path) -> CityMap:
    """Read a map file; errors name the file and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise MapFileError(f"cannot read map file {path}: {error}") from None
    return parse_map(text, source=str(path), default_name=path.stem)


def parse_map(text: str, *, source: str = "<map>", default_name: str = "") -> CityMap:
    """Parse the text format into a connected :class:`CityMap`."""
    settings: dict[str, tuple[int, str]] = {}
    drawing: list[tuple[int, str]] = []
    lines = text.splitlines()
    in_map = False
    for number, raw in enumerate(lines, start=1):
        if in_map:
            if raw.strip().startswith("#"):
                continue
            drawing.append((number, raw.rstrip()))
            continue
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line == "map:":
            in_map = True
            continue
        key, sep, value = line.partition(":")
        key = key.strip()
        if not sep or key not in _SETTINGS:
            raise MapFileError(f"{source}:{number}: expected 'key: value' with a key in "
                               f"{', '.join(_SETTINGS)}, or 'map:'; got {line!r}")
        settings[key] = (number, value.strip())
    if not any(line for _, line in drawing):
        raise MapFileError(f"{source}: no drawing; put 'map:' on a line, then the drawing")
    columns_m = _gaps(settings, "columns_m", source)
    rows_m = _gaps(settings, "rows_m", source)
    n_columns, n_rows = len(columns_m) + 1, len(rows_m) + 1
    while drawing and not drawing[-1][1]:
        drawing.pop()
    if len(drawing) != 2 * n_rows - 1:
        raise MapFileError(f"{source}:{drawing[0][0]}: the drawing has {len(drawing)} lines; "
                           f"rows_m gives {n_rows} rows of intersections, which need "
                           f"{2 * n_rows - 1} lines")
    width = 4 * (n_columns - 1) + 1
    for number, line in drawing:
        if len(line) > width:
            raise MapFileError(f"{source}:{number}: line is {len(line)} characters wide; "
                               f"columns_m gives {n_columns} columns, at most {width}")
    xs, ys = positions(columns_m), positions(reversed(rows_m))

    def node(column: int, line_index: int) -> int:
        return (n_rows - 1 - line_index // 2) * n_columns + column

    streets: list[Street] = []
    places: list[tuple[int, int]] = []
    lights: set[int] = set()
    present: set[int] = set()
    for index, (number, line) in enumerate(drawing):
        line = line.ljust(width)
        if index % 2 == 0:
            for column in range(n_columns):
                glyph = line[4 * column]
                if glyph in _NODES:
                    present.add(node(column, index))
                    if _NODES[glyph]:
                        lights.add(node(column, index))
                elif glyph not in _NO_NODE:
                    _bad(source, number, 4 * column, glyph,
                         "an intersection: '+', 'L', or '.' or space for none")
                if column + 1 < n_columns:
                    glyphs = line[4 * column + 1:4 * column + 4]
                    if glyphs.strip():
                        kind = _HORIZONTAL.get(glyphs)
                        if kind is None:
                            _bad(source, number, 4 * column + 1, glyphs,
                                 "a west-east street: " + ", ".join(map(repr, _HORIZONTAL)))
                        west, east = node(column, index), node(column + 1, index)
                        streets.append(_street(west, east, kind, source, number, 4 * column + 1))
                        places.append((number, 4 * column + 1))
        else:
            for position, glyph in enumerate(line):
                if glyph == " ":
                    continue
                if position % 4 != 0:
                    _bad(source, number, position, glyph,
                         "nothing: streets run south-north only under intersections")
                kind = _VERTICAL.get(glyph)
                if kind is None:
                    _bad(source, number, position, glyph,
                         "a south-north street: " + ", ".join(map(repr, _VERTICAL)))
                column = position // 4
                north, south = node(column, index - 1), node(column, index + 1)
                streets.append(_street(south, north, kind, source, number, position))
                places.append((number, position))
    for street, (number, position) in zip(streets, places, strict=True):
        for end in (street.a, street.b):
            if end not in present:
                raise MapFileError(f"{source}:{number}:{position + 1}: the street ends at "
                                   f"({end % n_columns}, {end // n_columns}) where the drawing "
                                   f"has no intersection")
    city = CityMap(xs, ys, tuple(streets), frozenset(lights),
                   name=settings.get("name", (0, default_name))[1])
    try:
        city.check_connected()
    except MapError as error:
        raise MapFileError(f"{source}: {error}") from None
    return city


def dumps_map(city: CityMap) -> str:
    """The text format of ``city``; :func:`parse_map` reads it back to an equal map."""
    n_columns, n_rows = city.n_columns, city.n_rows
    width = 4 * (n_columns - 1) + 1
    grid = [[" "] * width for _ in range(2 * n_rows - 1)]
    used = {n for s in city.streets for n in (s.a, s.b)} | set(city.lights)
    for n in range(city.n_nodes):
        column, row = city.label(n)
        glyph = ("L" if n in city.lights else "+") if n in used else "."
        grid[2 * (n_rows - 1 - row)][4 * column] = glyph
    for street in city.streets:
        (ca, ra), (_, rb) = city.label(street.a), city.label(street.b)
        if ra == rb:
            toward_high = {street.b: True, street.a: False}
            if street.closed:
                glyphs = "-x-"
            elif street.one_way_to is not None:
                glyphs = "-->" if toward_high[street.one_way_to] else "<--"
            elif street.closed_toward is not None:
                glyphs = "<==" if toward_high[street.closed_toward] else "==>"
            else:
                glyphs = "---"
            line = grid[2 * (n_rows - 1 - ra)]
            line[4 * ca + 1:4 * ca + 4] = list(glyphs)
        else:
            toward_north = {street.b: True, street.a: False}
            if street.closed:
                glyph = "x"
            elif street.one_way_to is not None:
                glyph = "^" if toward_north[street.one_way_to] else "v"
            elif street.closed_toward is not None:
                glyph = "s" if toward_north[street.closed_toward] else "n"
            else:
                glyph = "|"
            grid[2 * (n_rows - 1 - rb) + 1][4 * ca] = glyph
    columns = " ".join(f"{b - a:.10g}" for a, b in zip(city.column_x_m, city.column_x_m[1:],
                                                         strict=False))
    rows = " ".join(f"{a - b:.10g}" for a, b in zip(city.row_y_m[::-1], city.row_y_m[-2::-1],
                                                      strict=False))
    drawing = "\n".join("".join(line).rstrip() for line in grid)
    name = f"name: {city.name}\n" if city.name else ""
    return f"{name}columns_m: {columns}\nrows_m: {rows}\nmap:\n{drawing}\n"


def _gaps(settings: dict[str, tuple[int, str]], key: str, source: str) -> list[float]:
    if key not in settings:
        raise MapFileError(f"{source}: missing '{key}:', the metres between neighbouring "
                           f"intersections")
    number, value = settings[key]
    try:
        gaps = [float(word) for word in value.split()]
    except ValueError:
        raise MapFileError(f"{source}:{number}: {key} must be numbers in metres, "
                           f"got {value!r}") from None
    if not gaps or any(not 10.0 <= gap <= 1000.0 for gap in gaps):
        raise MapFileError(f"{source}:{number}: {key} needs one or more distances in "
                           f"[10, 1000] m, got {value!r}")
    return gaps


def _street(low: int, high: int, kind: str, source: str, line: int, column: int) -> Street:
    """A street from its glyph; ``low`` is the west or south end."""
    match kind:
        case "two_way":
            return Street(low, high)
        case "east" | "north":
            return Street(low, high, one_way_to=high)
        case "west" | "south":
            return Street(low, high, one_way_to=low)
        case "closed":
            return Street(low, high, closed=True)
        case "open_east" | "open_north":
            return Street(low, high, closed_toward=low)
        case "open_west" | "open_south":
            return Street(low, high, closed_toward=high)
    raise MapFileError(f"{source}:{line}:{column + 1}: unknown street kind {kind}")


def _bad(source: str, line: int, column: int, glyph: str, expected: str) -> None:
    raise MapFileError(f"{source}:{line}:{column + 1}: unexpected {glyph!r}; expected {expected}")
