"""Declarative TOML case files mapped one-to-one onto the Python API.

Every field is validated; an error names the field and says how to fix it. The schema is
documented in README.md ("Case files"); :data:`SCHEMA` lists every table and its fields with
their types and defaults, and ``dgkinetic check CASE`` validates a file without running it.

A case file is data: it may tune the solvers but never run code or write files. ``[solver]`` takes
options of the families ``ts_``, ``snes_``, ``ksp_``, ``pc_``, ``mat_`` (and their sub-solver
prefixes) with plain values (numbers, booleans, names); options that load Python code, write or
draw files (viewers, monitors with a viewer value, trajectories, options files) are for the
command line only, and the options that end the run or set its step belong to ``[run]``
(:func:`check_solver_options`).
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import re
import stat
import tomllib
from dataclasses import dataclass

from dgkinetic.errors import InputError

__all__ = ["Case", "load_case", "SCHEMA", "check_solver_options", "estimate_memory"]

_REQ = object()   # marks a required field

#: table -> field -> (type(s), default or _REQ)
SCHEMA = {
    "run": {"name": (str, "run"), "output": (str, "output/run"), "t_end": (float, _REQ),
            "dt": (float, _REQ), "diagnostics_every": (int, 1), "checkpoint_every": (int, 0),
            "vtk_every": (int, 0), "plot": (bool, True), "progress": (bool, True), "steady": (bool, False)},
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
                   "tail_floor": (float, 0.0), "form": (str, "weak"), "modes": (int, 0),
                   "radial_points": (int, 16)},
    "scaling": {"transport_speed": (float, 1.0)},
}

MESH_KINDS = ("interval", "rectangle", "file")
PROFILES = ("uniform", "sod", "sine")
KERNELS = ("maxwell", "hard_spheres", "vhs")
FORMS = ("weak", "collocation", "spectral")

#: a case file larger than this is refused (a case is a page of text)
MAX_CASE_BYTES = 1 << 20
#: integers beyond this are refused before any arithmetic (exactly representable as floats)
MAX_INT = 2 ** 53
#: species names become file names, HDF5 dataset names and TOML keys
SPECIES_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_+-]{0,31}")
#: wall ids: the mesh's positive integer boundary ids, written canonically ("1", not "01")
WALL_ID = re.compile(r"[1-9][0-9]{0,8}")
#: fields of each wall kind
WALL_FIELDS = {"specular": (), "outflow": (), "diffuse": ("temperature", "velocity"),
               "maxwell": ("accommodation", "temperature", "velocity"),
               "inflow": ("density", "velocity", "temperature")}
#: upper bounds of the collision operators' resolution fields (tables grow with their powers)
RESOLUTION_LIMITS = {"sphere_points": 128, "modes": 256, "radial_points": 128}
#: state vectors alive at once (TS stages, residuals, work and halo copies, diagnostics)
STATE_COPIES = 32
#: [run] fields a restart may change: they decide how long and what is written, not the physics
RESTART_FREE = ("t_end", "output", "plot", "progress", "name", "diagnostics_every", "checkpoint_every",
                "vtk_every")

# ----------------------------------------------------------------------------- [solver] rules
#: option families a case may set: sub-solver prefixes, then a ts_/snes_/ksp_/pc_/mat_ option
_SOLVER_KEY = re.compile(r"((sub|mg_levels|mg_coarse|fieldsplit_[a-z0-9]+)_)*(ts|snes|ksp|pc|mat)_[a-z0-9_]+")
#: plain values: names and numbers (no ':' or '/', so no viewer or file specification)
_SOLVER_VALUE = re.compile(r"[A-Za-z0-9_.+-]{0,64}")
#: printing flags: allowed as true/false only (any other value is a viewer, i.e. a file)
_SOLVER_FLAG = re.compile(r".*_(monitor|monitor_short|monitor_true_residual|converged_reason)")
#: name parts of options that load code or write, draw or read files: command line only
_COMMAND_LINE_ONLY = ("python", "view", "monitor", "trajectory", "draw", "vtk", "_lg_", "save", "dump",
                      "options", "log", "hdf5", "binary", "socket", "matlab", "file", "output")
#: options [run] owns: they would end the run early or change its step silently
_RUN_OWNED = ("ts_max_time", "ts_final_time", "ts_max_steps", "ts_dt", "ts_time_step", "ts_init_time",
              "ts_exact_final_time", "ts_run_steps", "ts_time_span")
_PETSC_INT = 2 ** 31 - 1


def _short(value) -> str:
    """A value for a one-line message: names as they are, anything else as a clipped repr."""
    if isinstance(value, str) and re.fullmatch(r"[\w.+-]{1,40}", value, re.ASCII):
        return value
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _typename(t):
    if isinstance(t, tuple):
        return " or ".join(_typename(x) for x in t)
    return {float: "number", int: "integer", str: "string", list: "array", bool: "true/false",
            dict: "table"}[t]


def _finite(where: str, value, integer: bool = False):
    """A number (not a boolean), finite, integers within ±2⁵³; float unless ``integer``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"{where}: expected {'an integer' if integer else 'a number'}, got {_short(value)}")
    if isinstance(value, int):
        if abs(value) > MAX_INT:
            raise InputError(f"{where}: {_short(value)} is out of range (|value| ≤ 2^53)")
        return value if integer else float(value)
    if integer:
        raise InputError(f"{where}: expected an integer, got {_short(value)}")
    if not math.isfinite(value):
        raise InputError(f"{where}: must be finite, got {value}")
    return value


def _numbers(where: str, value, count: int | None = None, positive: bool = False, per: str = "species",
             broadcast: bool = True) -> list[float]:
    """One number or a list of numbers as a list of floats (``count`` entries if given; one number
    stands for all of them if ``broadcast``)."""
    if isinstance(value, list):
        items = value
    else:
        items = [value] * (count if count is not None and broadcast else 1)
    if count is not None and len(items) != count:
        raise InputError(f"{where}: give {'one value or ' if broadcast else ''}one per {per} ({count}), "
                         f"got {len(items) if isinstance(value, list) else _short(value)}")
    out = [_finite(where, x) for x in items]
    if positive and not all(x > 0 for x in out):
        raise InputError(f"{where} must be positive, got {_short(value)}")
    return out


def _coerce(table: str, key: str, value, types):
    types = types if isinstance(types, tuple) else (types,)
    where = f"[{table}] {key}"
    if isinstance(value, bool) and bool not in types:
        raise InputError(f"{where}: expected {_typename(types)}, got a boolean")
    for t in types:
        if t in (float, int) and isinstance(value, int if t is int else (int, float)):
            return _finite(where, value, integer=t is int)
        if isinstance(value, t):
            if t is list:
                for item in value:
                    if isinstance(item, (int, float)) and not isinstance(item, bool):
                        _finite(where, item)
            return value
    raise InputError(f"{where}: expected {_typename(types)}, got {type(value).__name__} {_short(value)}")


def _table(data: dict, table: str, required: bool = True, index: int | None = None) -> tuple[dict, set]:
    """The validated fields of one table with defaults filled in, and the set of fields given."""
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
        raise InputError(f"[{label}] unknown field(s) {[_short(u) for u in unknown]}; allowed: {sorted(spec)}")
    out = {}
    for key, (types, default) in spec.items():
        if key in raw:
            out[key] = _coerce(label, key, raw[key], types)
        elif default is _REQ:
            raise InputError(f"[{label}] {key} is required")
        else:
            out[key] = default
    return out, set(raw)


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

    def resolved(self) -> dict:
        """The case as TOML-ready data: every table, defaults filled in, only fields that apply."""
        def clean(d):
            return {k: clean(v) if isinstance(v, dict) else v for k, v in d.items() if v is not None}
        return {"run": clean(self.run), "mesh": clean(self.mesh), "velocity": clean(self.velocity),
                "species": [clean(s) for s in self.species], "initial": clean(self.initial),
                "walls": {str(k): clean(w) for k, w in self.walls.items()},
                "collisions": [clean(c) for c in self.collisions], "scaling": clean(self.scaling),
                "solver": clean(self.solver)}

    def to_toml(self) -> str:
        """The resolved case as TOML text (written by tomli-w: it reads back to the same case)."""
        import tomli_w
        return tomli_w.dumps(self.resolved())

    def physics(self) -> dict:
        """What defines the run's trajectory: the resolved case without :data:`RESTART_FREE` fields."""
        data = self.resolved()
        data["run"] = {k: v for k, v in data["run"].items() if k not in RESTART_FREE}
        return data

    def fingerprint(self) -> str:
        """SHA-256 of :meth:`physics` (stored in checkpoints; a restart must match it)."""
        text = json.dumps(self.physics(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


def physics_differences(a: dict, b: dict) -> list[str]:
    """Fields (``[table] key``) whose values differ between two :meth:`Case.physics` dicts."""
    def flat(d, prefix=""):
        out = {}
        if isinstance(d, dict):
            for k, v in d.items():
                out.update(flat(v, f"{prefix}.{k}" if prefix else str(k)))
        elif isinstance(d, list) and d and all(isinstance(x, dict) for x in d):
            for i, v in enumerate(d):
                out.update(flat(v, f"{prefix}[{i}]"))
        else:
            out[prefix] = d
        return out
    fa, fb = flat(a), flat(b)
    keys = sorted(k for k in set(fa) | set(fb) if fa.get(k, "<absent>") != fb.get(k, "<absent>"))
    return [f"[{k.rsplit('.', 1)[0]}] {k.rsplit('.', 1)[-1]}" if "." in k else k for k in keys]


# ----------------------------------------------------------------------------- reading
def _read(path: str) -> dict:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise InputError(f"case file '{path}' not found") from None
    except (OSError, ValueError) as e:
        raise InputError(f"cannot read case file '{path}': {getattr(e, 'strerror', None) or e}") from None
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"case file '{path}' is not a regular file")
    if info.st_size > MAX_CASE_BYTES:
        raise InputError(f"case file '{path}' is {info.st_size} bytes; a case file is at most {MAX_CASE_BYTES}")
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_CASE_BYTES + 1)
    except OSError as e:
        raise InputError(f"cannot read case file '{path}': {e.strerror}") from None
    if len(raw) > MAX_CASE_BYTES:
        raise InputError(f"case file '{path}' is larger than {MAX_CASE_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"case file '{path}' is not UTF-8 text (invalid byte at offset {e.start})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"case file '{path}' is not valid TOML: {e}") from None
    except RecursionError:
        raise InputError(f"case file '{path}' is nested too deeply") from None


def load_case(path: str) -> Case:
    """Read and validate a TOML case file.

    Parameters
    ----------
    path
        The case file (a regular UTF-8 file of at most :data:`MAX_CASE_BYTES`).

    Returns
    -------
    Case
        Every table with its defaults filled in; fields that do not apply are absent.

    Raises
    ------
    InputError
        Unreadable file, TOML syntax error, unknown, mistyped or inapplicable field, out-of-range
        value, a run larger than the machine's memory.
    """
    data = _read(path)
    allowed = set(SCHEMA) | {"walls", "solver"}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise InputError(f"unknown table(s) {[_short(u) for u in unknown]}; allowed: {sorted(allowed)}")
    base = os.path.dirname(os.path.abspath(path))
    run = _run_table(data)
    mesh = _mesh_table(data, base)
    vel = _velocity_table(data)
    species = _species_tables(data)
    init = _initial_table(data, len(species), vel["dim"])
    walls = _wall_tables(data, len(species), vel["dim"])
    collisions = [_collision_table(c, i, len(species)) for i, c in enumerate(_array_of_tables(data, "collisions"))]
    scaling, _ = _table(data, "scaling", required=False)
    if scaling["transport_speed"] < 0:
        raise InputError(f"[scaling] transport_speed must be ≥ 0 (0 = homogeneous), got {scaling['transport_speed']}")
    solver = check_solver_options(data.get("solver", {}))
    case = Case(run, mesh, vel, species, init, walls, collisions, scaling, solver, os.path.abspath(path))
    _check_consistency(case)
    estimate_memory(case)
    return case


def _array_of_tables(data: dict, name: str) -> list:
    raw = data.get(name, [])
    if not isinstance(raw, list):
        raise InputError(f"{name} must be an array of tables: [[{name}]]")
    return raw


#: [run] fields of time stepping, which a steady run (steady = true) does not take
TIME_STEPPING_FIELDS = ("t_end", "dt", "checkpoint_every", "vtk_every")


def _run_table(data: dict) -> dict:
    raw = data.get("run")
    if isinstance(raw, dict) and raw.get("steady") is True:
        given = [k for k in TIME_STEPPING_FIELDS if k in raw]
        if given:
            raise InputError(f"[run] steady = true solves for the steady state directly; remove {given} "
                             "(time stepping only)")
        run, _ = _table({"run": {**raw, "t_end": 1.0, "dt": 1.0}}, "run")
        del run["t_end"], run["dt"]                      # (checkpoint_every and vtk_every stay 0: off)
        _check_output(run)
        return run
    run, _ = _table(data, "run")
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
    if run["t_end"] / run["dt"] > 1e9:
        raise InputError(f"[run] t_end / dt = {run['t_end'] / run['dt']:.3g} steps; at most 1e9")
    _check_output(run)
    return run


def _check_output(run: dict) -> None:
    out = run["output"]
    if not out.strip() or "\0" in out:
        raise InputError(f"[run] output must name a directory, got {out!r}")
    if os.path.exists(out) and not os.path.isdir(out):
        raise InputError(f"[run] output '{out}' exists and is not a directory")
    parent = os.path.abspath(out)
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent) or not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"[run] output '{out}': cannot create it ('{parent}' is not a writable directory)")
    if "\n" in run["name"] or "\0" in run["name"]:
        raise InputError("[run] name must be one line")


def _mesh_table(data: dict, base: str) -> dict:
    mesh, given = _table(data, "mesh")
    kind = mesh["kind"]
    if kind not in MESH_KINDS:
        raise InputError(f"[mesh] kind must be one of {list(MESH_KINDS)}, got {_short(kind)}")
    if kind == "file":
        if not mesh["path"]:
            raise InputError("[mesh] path is required when kind = \"file\"")
        p = mesh["path"] if os.path.isabs(mesh["path"]) else os.path.join(base, mesh["path"])
        if not os.path.isfile(p):
            raise InputError(f"[mesh] path: mesh file '{mesh['path']}' not found")
        if not os.access(p, os.R_OK):
            raise InputError(f"[mesh] path: mesh file '{mesh['path']}' is not readable")
        mesh["path"] = p
    elif "path" in given:
        raise InputError(f"[mesh] path applies to kind = \"file\" only; remove it for kind = \"{kind}\"")
    else:
        del mesh["path"]
    axes = 2 if kind == "rectangle" else 1
    for key in ("cells", "length"):
        value = mesh[key]
        if kind == "interval" and isinstance(value, list):
            raise InputError(f"[mesh] {key} must be one number for kind = \"interval\", got {_short(value)}")
        if kind == "rectangle" and not (isinstance(value, list) and len(value) == 2):
            raise InputError(f"[mesh] {key} must be two values for kind = \"rectangle\"")
        items = value if isinstance(value, list) else [value] * axes
        if key == "cells":
            items = [_finite("[mesh] cells", c, integer=True) for c in items]
            if any(c < 1 for c in items):
                raise InputError(f"[mesh] cells must be positive integers, got {_short(value)}")
            if mesh["periodic"] and any(c < 3 for c in items):
                raise InputError(f"[mesh] cells: a periodic mesh needs at least 3 cells per direction, got "
                                 f"{_short(value)}")
        else:
            items = _numbers("[mesh] length", items, positive=True)
        mesh[key] = items if isinstance(value, list) else items[0]
    if not 0 <= mesh["degree"] <= 6:
        raise InputError(f"[mesh] degree must be in [0, 6], got {mesh['degree']}")
    return mesh


def _velocity_table(data: dict) -> dict:
    vel, _ = _table(data, "velocity")
    if vel["dim"] not in (2, 3):
        raise InputError(f"[velocity] dim must be 2 or 3, got {vel['dim']}")
    if vel["cells"] < 1 or not 1 <= vel["degree"] <= 8:
        raise InputError("[velocity] cells must be ≥ 1 and degree in [1, 8]")
    if vel["extent"] <= 0 or vel["reference_temperature"] <= 0:
        raise InputError("[velocity] extent and reference_temperature must be positive")
    return vel


def _species_tables(data: dict) -> list:
    raw = data.get("species")
    if not isinstance(raw, list) or not raw:
        raise InputError("missing [[species]]: give at least one species table")
    species = [_table(s, "species", index=i)[0] for i, s in enumerate(raw)]
    for i, s in enumerate(species):
        if not SPECIES_NAME.fullmatch(s["name"]):
            raise InputError(f"[species[{i}]] name must be 1–32 letters, digits, '_', '+' or '-' (it names files "
                             f"and datasets), got {_short(s['name'])}")
        for key in ("mass", "diameter"):
            if s[key] <= 0:
                raise InputError(f"[species[{i}]] {key} must be positive, got {s[key]}")
        if s["statistics"] not in ("maxwell", "bose", "fermi"):
            raise InputError(f"[species[{i}]] statistics must be maxwell, bose or fermi, got "
                             f"{_short(s['statistics'])}")
    names = [s["name"] for s in species]
    if len(set(names)) != len(names):
        raise InputError(f"[[species]] names must be unique, got {names}")
    return species


def _initial_table(data: dict, nsp: int, dim: int) -> dict:
    init, given = _table(data, "initial", required=False)
    profile = init["profile"]
    if profile not in PROFILES:
        raise InputError(f"[initial] profile must be one of {list(PROFILES)}, got {_short(profile)}")
    applies = {"profile", "density", "temperature", "velocity"} | (
        {"amplitude"} if profile == "sine" else {"left", "right"} if profile == "sod" else set())
    extra = sorted(given - applies)
    if extra:
        raise InputError(f"[initial] {', '.join(extra)} {'does' if len(extra) == 1 else 'do'} not apply to "
                         f"profile = \"{profile}\"; remove")
    for key in ("density", "temperature"):
        init[key] = _numbers(f"[initial] {key}", init[key], nsp, positive=True)
    u = init["velocity"] if init["velocity"] is not None else [0.0] * dim
    if isinstance(u, list) and u and all(isinstance(v, list) for v in u):       # one drift per species
        if len(u) != nsp:
            raise InputError(f"[initial] velocity: give one drift vector for all species or one per species "
                             f"({nsp}), got {len(u)}")
        init["velocity"] = [_numbers(f"[initial] velocity[{i}]", v, dim, per="velocity component",
                                     broadcast=False) for i, v in enumerate(u)]
    else:
        init["velocity"] = _numbers("[initial] velocity", u, dim, per="velocity component", broadcast=False)
    if profile == "sine" and not 0 <= init["amplitude"] < 1:
        raise InputError(f"[initial] amplitude must be in [0, 1) for profile = \"sine\", got {init['amplitude']}")
    if profile != "sine":
        del init["amplitude"]
    for side in ("left", "right"):
        if profile != "sod":
            del init[side]
            continue
        table = init[side] or {}
        unknown = sorted(set(table) - {"density", "temperature"})
        if unknown:
            raise InputError(f"[initial.{side}] unknown field(s) {[_short(u) for u in unknown]}; allowed: "
                             "['density', 'temperature']")
        init[side] = {k: _numbers(f"[initial.{side}] {k}", v, nsp, positive=True) for k, v in table.items()}
    return init


def _wall_tables(data: dict, nsp: int, dim: int) -> dict:
    walls = data.get("walls", {})
    if not isinstance(walls, dict):
        raise InputError("[walls] must be a table of wall tables: [walls.1], [walls.2], ...")
    parsed = {}
    for key, spec in walls.items():
        where = f"[walls.{_short(key)}]"
        if not WALL_ID.fullmatch(key):
            raise InputError(f"{where}: wall ids are the mesh's positive integer boundary ids, written "
                             "without leading zeros ([walls.1])")
        if not isinstance(spec, dict):
            raise InputError(f"{where} must be a table")
        kind = spec.get("kind")
        if kind not in WALL_FIELDS:
            raise InputError(f"{where} wall kind must be one of {sorted(WALL_FIELDS)}, got {_short(kind)}")
        extra = sorted(set(spec) - {"kind", *WALL_FIELDS[kind]})
        if extra:
            raise InputError(f"{where} field(s) {[_short(x) for x in extra]} do not apply to a {kind} wall; "
                             f"allowed: {list(WALL_FIELDS[kind])}")
        wall = {"kind": kind}
        if "temperature" in spec:
            wall["temperature"] = _finite(f"{where} temperature", spec["temperature"])
            if wall["temperature"] <= 0:
                raise InputError(f"{where} temperature must be positive, got {wall['temperature']}")
        if "accommodation" in spec:
            a = _finite(f"{where} accommodation", spec["accommodation"])
            if not 0 <= a <= 1:
                raise InputError(f"{where} accommodation must be in [0, 1], got {a}")
            wall["accommodation"] = a
        if "velocity" in spec:
            if not isinstance(spec["velocity"], list):
                raise InputError(f"{where} velocity must be an array of {dim} numbers")
            wall["velocity"] = _numbers(f"{where} velocity", spec["velocity"], dim, per="velocity component",
                                        broadcast=False)
        if "density" in spec:
            wall["density"] = _numbers(f"{where} density", spec["density"], nsp, positive=True)
        from dgkinetic.walls import make_wall
        try:
            make_wall(wall)
        except InputError as e:
            raise InputError(f"{where} {e}") from None
        parsed[int(key)] = wall
    return parsed


def _collision_table(raw, i: int, nsp: int) -> dict:
    c, given = _table(raw, "collisions", index=i)
    where = f"[collisions[{i}]]"
    if c["operator"] not in ("boltzmann", "landau"):
        raise InputError(f"{where} operator must be boltzmann or landau, got {_short(c['operator'])}")
    if c["rate"] < 0:
        raise InputError(f"{where} rate must be ≥ 0, got {c['rate']}")
    if not 0 <= c["tail_floor"] < 1e-3:
        raise InputError(f"{where} tail_floor must be in [0, 1e-3), got {c['tail_floor']}")
    if c["form"] not in FORMS:
        raise InputError(f"{where} form must be \"weak\" (the bracket form), \"collocation\" or "
                         f"\"spectral\", got {_short(c['form'])}")
    if c["form"] != "weak" and c["operator"] != "boltzmann":
        raise InputError(f"{where} form = \"{c['form']}\" exists for the boltzmann operator only; "
                         "remove it or set operator = \"boltzmann\"")
    if c["operator"] == "landau":
        p = c["potential"]
        if isinstance(p, str) and p not in ("maxwell", "coulomb"):
            raise InputError(f"{where} potential must be \"maxwell\", \"coulomb\" (lower case) or a number gamma, "
                             f"got {_short(p)}")
        applies = {"operator", "rate", "potential", "tail_floor", "coulomb_log" if p == "coulomb" else "nu"}
        if "nu" in applies:
            c["nu"] = _collision_strengths(where, c["nu"], nsp)
        if p == "coulomb" and c["coulomb_log"] <= 0:
            raise InputError(f"{where} coulomb_log must be positive, got {c['coulomb_log']}")
    else:
        if c["kernel"] not in KERNELS:
            raise InputError(f"{where} kernel must be one of {list(KERNELS)}, got {_short(c['kernel'])}")
        applies = {"operator", "rate", "kernel", "form", "sphere_points"}
        applies |= {"gamma"} if c["kernel"] == "vhs" else set()
        applies |= {"modes", "radial_points"} if c["form"] == "spectral" else {"tail_floor"}
        for key, top in RESOLUTION_LIMITS.items():
            low = 1 if key == "radial_points" else 0
            if key in applies and not low <= c[key] <= top:
                raise InputError(f"{where} {key} must be in [{low}, {top}], got {c[key]}")
    extra = sorted(given - applies)
    if extra:
        verb = "does" if len(extra) == 1 else "do"
        form = f" with form = \"{c['form']}\"" if c["operator"] == "boltzmann" else ""
        raise InputError(f"{where} {', '.join(extra)} {verb} not apply to operator = \"{c['operator']}\"{form}; "
                         "remove")
    return {k: v for k, v in c.items() if k in applies}


def _collision_strengths(where: str, nu, nsp: int):
    """Landau ν: one non-negative number or an nsp × nsp array of them."""
    if not isinstance(nu, list):
        return _numbers(f"{where} nu", nu, positive=True)[0]
    if len(nu) != nsp or not all(isinstance(row, list) and len(row) == nsp for row in nu):
        raise InputError(f"{where} nu must be one number or an array of {nsp} arrays of {nsp} numbers")
    rows = [_numbers(f"{where} nu", row, nsp, per="species", broadcast=False) for row in nu]
    if any(x < 0 for row in rows for x in row):
        raise InputError(f"{where} nu must be non-negative")
    return rows


# ----------------------------------------------------------------------------- [solver]
def check_solver_options(options) -> dict:
    """The ``[solver]`` table as PETSc options a case file may set, keys lower-cased.

    Parameters
    ----------
    options
        The raw table: option names without ``-`` and without the ``dgk_`` prefix.

    Returns
    -------
    dict
        Lower-case names (PETSc's are case-insensitive) to values; ``*_type`` values lower-cased;
        printing flags switched on map to ``""`` (no value: the terminal), switched off are dropped.

    Raises
    ------
    InputError
        A name outside the ts_/snes_/ksp_/pc_/mat_ families, an option that loads code or writes,
        draws or reads files (command line only), one that [run] owns (end time, step count, step,
        final-time rule), a value that is not a plain number, boolean or name, a printing flag with a
        value, or two spellings of one option.
    """
    if not isinstance(options, dict):
        raise InputError("[solver] must be a table of PETSc options without the dgk_ prefix")
    out = {}
    for key, value in options.items():
        where = f"[solver] {_short(key)}"
        name = key.lower()
        if name.startswith("-") or name.startswith("dgk_"):
            raise InputError(f"{where}: give options without '-' and without the dgk_ prefix")
        if name in out:
            raise InputError(f"{where}: given twice (PETSc option names ignore case)")
        if name in _RUN_OWNED:
            raise InputError(f"{where}: the end time and the step are set by [run] t_end and dt; remove it")
        if not _SOLVER_KEY.fullmatch(name):
            raise InputError(f"{where}: a case may set ts_, snes_, ksp_, pc_ and mat_ options only; give other "
                             "PETSc options on the command line (-dgk_...)")
        if _SOLVER_FLAG.fullmatch(name):
            if not (isinstance(value, bool) or value == ""):
                raise InputError(f"{where}: a case may switch it on or off (true/false) only; a viewer (a file) "
                                 "goes on the command line")
            if value is not False:
                out[name] = ""           # on: the option without a value prints to the terminal
            continue
        if any(part in name for part in _COMMAND_LINE_ONLY):
            raise InputError(f"{where}: options that load code or write, draw or read files are taken from the "
                             "command line only (-dgk_...), not from a case file")
        out[name] = _solver_value(where, name, value)
    return out


def _solver_value(where: str, name: str, value):
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        value = _finite(where, value, integer=isinstance(value, int))
        if isinstance(value, int) and abs(value) > _PETSC_INT:
            raise InputError(f"{where}: {_short(value)} is out of PETSc's integer range")
        return value
    if not isinstance(value, str) or not _SOLVER_VALUE.fullmatch(value):
        raise InputError(f"{where}: the value must be a number, true/false or a name (letters, digits, '_.+-'), "
                         f"got {_short(value)}")
    if name.endswith("_type"):
        value = value.lower()
        if value == "python":
            raise InputError(f"{where}: Python types load code; set them on the command line only")
    return value


# ----------------------------------------------------------------------------- sizes
def velocity_nodes(vel: dict) -> int:
    """Nodes of one species' velocity grid described by a [velocity] table."""
    per_axis = vel["cells"] * vel["degree"] + 1 if vel["continuous"] else vel["cells"] * (vel["degree"] + 1)
    return per_axis ** vel["dim"]


def space_nodes(mesh: dict) -> int | None:
    """DG nodes of a built-in [mesh] (None for a mesh file)."""
    p = mesh["degree"]
    if mesh["kind"] == "interval":
        return mesh["cells"] * (p + 1)
    if mesh["kind"] == "rectangle":
        nx, ny = mesh["cells"]
        return nx * ny * ((p + 1) ** 2 if mesh["quadrilateral"] else (p + 1) * (p + 2))
    return None


def physical_memory() -> int:
    """Bytes of memory of this machine."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def estimate_memory(case: Case, nodes: int | None = None) -> int:
    """A lower bound of the run's memory in bytes; refuse a run that cannot fit in this machine.

    Counts :data:`STATE_COPIES` state vectors, the per-node dense collision Jacobian blocks of
    implicit stepping, one dense n_v × n_v array of the collision operator and the velocity grids.

    Parameters
    ----------
    case
        The case.
    nodes
        Space nodes (default: from a built-in mesh's size; 1 for a mesh file not yet read).

    Raises
    ------
    InputError
        The estimate exceeds this machine's memory, or the state exceeds PETSc's 32-bit indices.
    """
    nv = velocity_nodes(case.velocity)
    size = nv * len(case.species)
    nx = nodes or space_nodes(case.mesh) or 1
    total = 8 * nx * size * STATE_COPIES + 8 * nv * 16 * len(case.species)
    if case.collisions:
        total += 8 * size * size
        explicit = case.solver.get("ts_type") in ("euler", "rk", "ssp") or all(
            c.get("form") == "spectral" for c in case.collisions)
        if not explicit:
            total += 3 * 8 * nx * size * size
    what = f"{nx} space nodes × {size} velocity nodes"
    if nx * size > _PETSC_INT:
        raise InputError(f"[mesh]/[velocity]: {what} = {nx * size:.3g} unknowns exceed PETSc's 32-bit index "
                         "range; use fewer cells or a lower degree")
    available = physical_memory()
    if total > available:
        raise InputError(f"[mesh]/[velocity]: {what} need at least {total / 2**30:.3g} GiB, more than this "
                         f"machine's {available / 2**30:.3g} GiB; use fewer cells or a lower degree")
    return total


def _check_consistency(case: Case) -> None:
    """Cross-field checks that need several tables at once."""
    if case.mesh["periodic"] and case.walls:
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
