"""Case files the command-line tests write: a small base case, its text with overrides, the command run."""
import os
import subprocess
import sys

#: The case the command-line tests start from, table by table: two species (masses 1 and 2) on an
#: interval of 6 cells, a 2V velocity grid (4 cells of degree 2), a sine profile, a specular and a
#: diffuse wall, explicit Runge–Kutta. ``output`` is filled in by :func:`case_text`.
BASE = {
    "run": {"name": "t", "output": None, "t_end": 0.2, "dt": 0.01, "diagnostics_every": 1, "checkpoint_every": 5,
            "plot": False, "progress": False},
    "mesh": {"kind": "interval", "cells": 6, "length": 1.0},
    "velocity": {"dim": 2, "cells": 4, "degree": 2, "extent": 5.0},
    "species": [{"name": "a", "mass": 1.0}, {"name": "b", "mass": 2.0}],
    "initial": {"profile": "sine", "amplitude": 0.3, "density": [1.0, 0.5], "temperature": 1.0},
    "walls": {1: {"kind": "specular"}, 2: {"kind": "diffuse", "temperature": 1.2}},
    "solver": {"ts_type": "rk", "ts_adapt_type": "none"},
}


def _value(v) -> str:
    """A TOML value: booleans, numbers, strings (written as given, no escapes) and lists of them."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    return repr(v)


def _table(header: str, fields: dict) -> str:
    return "\n".join([header] + [f"{k} = {_value(v)}" for k, v in fields.items()]) + "\n"


def case_text(out, *, species=None, walls=None, collisions=(), **changes) -> str:
    """The text of the :data:`BASE` case writing to ``out``, with overrides.

    Parameters
    ----------
    out : str or path
        The run's output directory (``[run] output``).
    species : list of dict, optional
        The ``[[species]]`` tables instead of the base's.
    walls : dict, optional
        Boundary id → the fields of its ``[walls.<id>]`` table, instead of all the base's walls.
    collisions : sequence of dict
        The fields of one ``[[collisions]]`` table each, written last.
    **changes
        Table name (``run``, ``mesh``, ``velocity``, ``initial``, ``solver``) → fields to set in it
        (a field given None is left out; a new one goes last); a table given None is left out.

    Returns
    -------
    str
        The case file: the tables in the base's order, separated by blank lines.
    """
    tables = {name: dict(fields) for name, fields in BASE.items() if name not in ("species", "walls")}
    tables["run"]["output"] = str(out)
    for name, fields in changes.items():
        if name not in tables:
            raise KeyError(f"no table {name!r} in the base case")
        if fields is None:
            del tables[name]
            continue
        tables[name].update(fields)
        tables[name] = {k: v for k, v in tables[name].items() if v is not None}
    parts = [_table(f"[{name}]", tables[name]) for name in ("run", "mesh", "velocity") if name in tables]
    parts += [_table("[[species]]", s) for s in (BASE["species"] if species is None else species)]
    parts += [_table("[initial]", tables["initial"])] if "initial" in tables else []
    parts += [_table(f"[walls.{wid}]", w) for wid, w in (BASE["walls"] if walls is None else walls).items()]
    parts += [_table("[solver]", tables["solver"])] if "solver" in tables else []
    parts += [_table("[[collisions]]", c) for c in collisions]
    return "\n" + "\n".join(parts)


def run_cli(*args, timeout: float = 600, cwd=None) -> subprocess.CompletedProcess:
    """``python -m dgkinetic.cli <args>`` in a new process (one OpenMP thread), its output captured.

    Parameters
    ----------
    *args : str
        The command line, e.g. ``"run", path``.
    timeout : float
        Seconds before the process is killed (subprocess.TimeoutExpired).
    cwd : str, optional
        Its working directory (default: this one).

    Returns
    -------
    subprocess.CompletedProcess
        With ``returncode``, ``stdout`` and ``stderr`` as text.
    """
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "dgkinetic.cli", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd, env=env)
