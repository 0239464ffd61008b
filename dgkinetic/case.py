"""Declarative TOML case files mapped one-to-one onto the Python API.

Every field is validated; an error names the field and says how to fix it. The schema is
documented in README.md ("Case files"); :data:`SCHEMA` lists every table and its fields with
their types and defaults, and ``dgkinetic check CASE`` validates a file without running it.
"""
from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass


from dgkinetic.errors import InputError

__all__ = ["Case", "load_case", "SCHEMA"]

_REQ = object()   # marks a required field

#: table -> field -> (type(s), default or _REQ)
SCHEMA = {
    "run": {"name": (str, "run"), "output": (str, "output/run"), "t_end": (float, _REQ),
            "dt": (float, _REQ), "diagnostics_every": (int, 1), "checkpoint_every": (int, 0),
            "vtk_every": (int, 0), "plot": (bool, True), "progress": (bool, True)},
    "mesh": {"kind": (str, _REQ), "cells": ((int, list), 16), "length": ((float, list), 1.0),
             "path": (str, ""), "quadrilateral": (bool, True), "degree": (int, 1),
             "periodic": (bool, False)},
    "velocity": {"dim": (int, 2), "cells": (int, 6), "degree": (int, 2), "extent": (float, 5.0),
                 "reference_temperature": (float, 1.0), "continuous": (bool, False)},
    "species": {"name": (str, _REQ), "mass": (float, 1.0), "statistics": (str, "maxwell"),
                "diameter": (float, 1.0), "charge": (float, 1.0)},
    "initial": {"profile": (str, "uniform"), "density": ((float, list), 1.0),
                "velocity": (list, None), "temperature": ((float, list), 1.0),
                "amplitude": (float, 0.0), "left": (dict, None), "right": (dict, None)},
    "collisions": {"operator": (str, _REQ), "kernel": (str, "maxwell"), "rate": (float, 1.0),
                   "potential": ((str, float), "maxwell"), "sphere_points": (int, 0),
                   "gamma": (float, 0.0), "coulomb_log": (float, 1.0), "nu": ((float, list), 1.0),
                   "tail_floor": (float, 1e-6), "form": (str, "weak"), "modes": (int, 0),
                   "radial_points": (int, 16)},
    "scaling": {"transport_speed": (float, 1.0)},
}

MESH_KINDS = ("interval", "rectangle", "file")
PROFILES = ("uniform", "sod", "sine")


def _typename(t):
    if isinstance(t, tuple):
        return " or ".join(_typename(x) for x in t)
    return {float: "number", int: "integer", str: "string", list: "array", bool: "true/false",
            dict: "table"}[t]


def _coerce(table: str, key: str, value, types):
    types = types if isinstance(types, tuple) else (types,)
    where = f"[{table}] {key}"
    if isinstance(value, bool) and bool not in types:
        raise InputError(f"{where}: expected {_typename(types)}, got a boolean")
    for t in types:
        if t is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            value = float(value)
            if not math.isfinite(value):
                raise InputError(f"{where}: must be finite, got {value}")
            return value
        if isinstance(value, t):
            if t is list:
                for item in value:
                    if isinstance(item, float) and not math.isfinite(item):
                        raise InputError(f"{where}: entries must be finite, got {item}")
            return value
    raise InputError(f"{where}: expected {_typename(types)}, got {type(value).__name__} {value!r}")


def _table(data: dict, table: str, required: bool = True, index: int | None = None) -> dict:
    label = table if index is None else f"{table}[{index}]"
    raw = data if index is not None else data.get(table)
    if raw is None:
        if required:
            raise InputError(f"missing table [{table}]; add it (see README 'Case files')")
        raw = {}
    if not isinstance(raw, dict):
        raise InputError(f"[{label}] must be a table")
    spec = SCHEMA[table]
    unknown = sorted(set(raw) - set(spec))
    if unknown:
        raise InputError(f"[{label}] unknown field(s) {unknown}; allowed: {sorted(spec)}")
    out = {}
    for key, (types, default) in spec.items():
        if key in raw:
            out[key] = _coerce(label, key, raw[key], types)
        elif default is _REQ:
            raise InputError(f"[{label}] {key} is required")
        else:
            out[key] = default
    return out


@dataclass
class Case:
    """A validated case: plain dictionaries per table plus the PETSc options."""

    run: dict
    mesh: dict
    velocity: dict
    species: list
    initial: dict
    walls: dict
    collisions: list
    scaling: dict
    solver: dict
    path: str

    def to_toml(self) -> str:
        """The resolved case (all defaults filled in) as TOML text."""
        lines = []

        def value(v):
            if isinstance(v, bool):
                return "true" if v else "false"
            if isinstance(v, str):
                return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
            if isinstance(v, (list, tuple)):
                return "[" + ", ".join(value(x) for x in v) + "]"
            if isinstance(v, dict):
                return "{" + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + "}"
            if v is None:
                return '""'
            return repr(v)

        def table(name, d):
            lines.append(f"[{name}]")
            lines.extend(f"{k} = {value(v)}" for k, v in d.items() if v is not None)
            lines.append("")

        for name in ("run", "mesh", "velocity"):
            table(name, getattr(self, name))
        for s in self.species:
            lines.append("[[species]]")
            lines.extend(f"{k} = {value(v)}" for k, v in s.items())
            lines.append("")
        table("initial", self.initial)
        for wid, w in self.walls.items():
            table(f"walls.{wid}", w)
        for c in self.collisions:
            lines.append("[[collisions]]")
            lines.extend(f"{k} = {value(v)}" for k, v in c.items())
            lines.append("")
        table("scaling", self.scaling)
        table("solver", self.solver)
        return "\n".join(lines)


def load_case(path: str) -> Case:
    """Read and validate a TOML case file.

    Raises
    ------
    InputError
        Unreadable file, TOML syntax error, unknown or mistyped field, out-of-range value.
    """
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise InputError(f"case file '{path}' not found") from None
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"case file '{path}' is not valid TOML: {e}") from None
    except OSError as e:
        raise InputError(f"cannot read case file '{path}': {e.strerror}") from None
    allowed = set(SCHEMA) | {"walls", "solver"}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise InputError(f"unknown table(s) {unknown}; allowed: {sorted(allowed)}")
    run = _table(data, "run")
    for key in ("t_end", "dt"):
        if run[key] <= 0:
            raise InputError(f"[run] {key} must be positive, got {run[key]}")
    if run["dt"] > run["t_end"]:
        raise InputError(f"[run] dt = {run['dt']} exceeds t_end = {run['t_end']}; lower dt")
    for key in ("diagnostics_every", "checkpoint_every", "vtk_every"):
        if run[key] < 0:
            raise InputError(f"[run] {key} must be ≥ 0, got {run[key]}")
    if run["diagnostics_every"] == 0:
        raise InputError("[run] diagnostics_every must be ≥ 1")
    base = os.path.dirname(os.path.abspath(path))
    mesh = _table(data, "mesh")
    if mesh["kind"] not in MESH_KINDS:
        raise InputError(f"[mesh] kind must be one of {list(MESH_KINDS)}, got {mesh['kind']!r}")
    if mesh["kind"] == "file":
        if not mesh["path"]:
            raise InputError("[mesh] path is required when kind = \"file\"")
        p = mesh["path"] if os.path.isabs(mesh["path"]) else os.path.join(base, mesh["path"])
        if not os.path.isfile(p):
            raise InputError(f"[mesh] path: mesh file '{mesh['path']}' not found")
        if not os.access(p, os.R_OK):
            raise InputError(f"[mesh] path: mesh file '{mesh['path']}' is not readable")
        mesh["path"] = p
    cells = mesh["cells"] if isinstance(mesh["cells"], list) else [mesh["cells"]]
    if any(not isinstance(c, int) or isinstance(c, bool) or c < 1 for c in cells):
        raise InputError(f"[mesh] cells must be positive integers, got {mesh['cells']}")
    length = mesh["length"] if isinstance(mesh["length"], list) else [mesh["length"]]
    if any(not isinstance(x, (int, float)) or x <= 0 for x in length):
        raise InputError(f"[mesh] length must be positive, got {mesh['length']}")
    if not 0 <= mesh["degree"] <= 6:
        raise InputError(f"[mesh] degree must be in [0, 6], got {mesh['degree']}")
    vel = _table(data, "velocity")
    if vel["dim"] not in (2, 3):
        raise InputError(f"[velocity] dim must be 2 or 3, got {vel['dim']}")
    if vel["cells"] < 1 or not 1 <= vel["degree"] <= 8:
        raise InputError("[velocity] cells must be ≥ 1 and degree in [1, 8]")
    if vel["extent"] <= 0 or vel["reference_temperature"] <= 0:
        raise InputError("[velocity] extent and reference_temperature must be positive")
    raw_species = data.get("species")
    if not isinstance(raw_species, list) or not raw_species:
        raise InputError("missing [[species]]: give at least one species table")
    species = [_table(s, "species", index=i) for i, s in enumerate(raw_species)]
    for i, s in enumerate(species):
        for key in ("mass", "diameter"):
            if s[key] <= 0:
                raise InputError(f"[species[{i}]] {key} must be positive, got {s[key]}")
        if s["statistics"] not in ("maxwell", "bose", "fermi"):
            raise InputError(f"[species[{i}]] statistics must be maxwell, bose or fermi, got {s['statistics']!r}")
    names = [s["name"] for s in species]
    if len(set(names)) != len(names):
        raise InputError(f"[[species]] names must be unique, got {names}")
    init = _table(data, "initial", required=False)
    if init["profile"] not in PROFILES:
        raise InputError(f"[initial] profile must be one of {list(PROFILES)}, got {init['profile']!r}")
    nsp = len(species)
    for key in ("density", "temperature"):
        vals = init[key] if isinstance(init[key], list) else [init[key]] * nsp
        if len(vals) != nsp:
            raise InputError(f"[initial] {key}: give one value or one per species ({nsp})")
        if any(not isinstance(v, (int, float)) or not v > 0 for v in vals):
            raise InputError(f"[initial] {key} must be positive, got {init[key]}")
        init[key] = [float(v) for v in vals]
    u = init["velocity"] if init["velocity"] is not None else [0.0] * vel["dim"]
    if len(u) != vel["dim"] or not all(isinstance(x, (int, float)) for x in u):
        raise InputError(f"[initial] velocity must be {vel['dim']} numbers, got {u}")
    init["velocity"] = [float(x) for x in u]
    walls = data.get("walls", {})
    if not isinstance(walls, dict):
        raise InputError("[walls] must be a table of wall tables: [walls.1], [walls.2], ...")
    from dgkinetic.walls import make_wall
    parsed_walls = {}
    for key, spec in walls.items():
        try:
            wid = int(key)
        except ValueError:
            raise InputError(f"[walls.{key}]: wall ids are the mesh's integer boundary ids") from None
        if not isinstance(spec, dict):
            raise InputError(f"[walls.{key}] must be a table")
        try:
            make_wall(spec)
        except InputError as e:
            raise InputError(f"[walls.{key}] {e}") from None
        parsed_walls[wid] = dict(spec)
    raw_coll = data.get("collisions", [])
    if not isinstance(raw_coll, list):
        raise InputError("collisions must be an array of tables: [[collisions]]")
    collisions = [_table(c, "collisions", index=i) for i, c in enumerate(raw_coll)]
    for i, c in enumerate(collisions):
        if c["operator"] not in ("boltzmann", "landau"):
            raise InputError(f"[collisions[{i}]] operator must be boltzmann or landau, got {c['operator']!r}")
        if c["rate"] < 0:
            raise InputError(f"[collisions[{i}]] rate must be ≥ 0, got {c['rate']}")
        if not 0 <= c["tail_floor"] < 1e-3:
            raise InputError(f"[collisions[{i}]] tail_floor must be in [0, 1e-3), got {c['tail_floor']}")
        if c["form"] not in ("weak", "collocation", "spectral"):
            raise InputError(f"[collisions[{i}]] form must be \"weak\" (the bracket form), \"collocation\" or "
                             f"\"spectral\", got {c['form']!r}")
        if c["form"] != "weak" and c["operator"] != "boltzmann":
            raise InputError(f"[collisions[{i}]] form = \"{c['form']}\" exists for the boltzmann operator only; "
                             "remove it or set operator = \"boltzmann\"")
    scaling = _table(data, "scaling", required=False)
    solver = data.get("solver", {})
    if not isinstance(solver, dict):
        raise InputError("[solver] must be a table of PETSc options without the dgk_ prefix")
    for k, v in solver.items():
        if k.startswith("-") or k.startswith("dgk_"):
            raise InputError(f"[solver] {k}: give options without '-' and without the dgk_ prefix")
        if not isinstance(v, (str, int, float, bool)):
            raise InputError(f"[solver] {k}: value must be a string, number or boolean")
    case = Case(run, mesh, vel, species, init, parsed_walls, collisions, scaling, dict(solver),
                os.path.abspath(path))
    _check_consistency(case)
    return case


def _check_consistency(case: Case) -> None:
    """Cross-field checks that need several tables at once."""
    mesh = case.mesh
    if mesh["kind"] == "interval" and isinstance(mesh["cells"], list):
        raise InputError("[mesh] cells must be one integer for kind = \"interval\"")
    if mesh["kind"] == "rectangle":
        for key in ("cells", "length"):
            if not (isinstance(mesh[key], list) and len(mesh[key]) == 2):
                raise InputError(f"[mesh] {key} must be two values for kind = \"rectangle\"")
    if mesh["periodic"] and case.walls:
        raise InputError("[mesh] periodic = true leaves no walls: remove the [walls] tables")
    if case.collisions and case.velocity["degree"] < 2:
        raise InputError("[velocity] degree must be ≥ 2 with collisions (the collision invariants must be "
                         "in the velocity space for exact conservation)")
    for c in case.collisions:
        if c["operator"] == "landau" and not case.velocity["continuous"]:
            raise InputError("[velocity] continuous must be true for the Landau operator (it needs an "
                             "H¹-conforming velocity space)")
    ts_type = case.solver.get("ts_type")
    if ts_type is not None and not case.collisions and ts_type == "arkimex":
        raise InputError("[solver] ts_type = \"arkimex\" needs [[collisions]] (nothing is implicit)")
