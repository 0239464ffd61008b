"""What the demo scripts share: their command line, parameter checks, gases and Knudsen sweeps.

A demo is ``main(**overrides) -> dict`` with a ``DEFAULTS`` dict; run as a script through
:func:`run_demo`, every default can be changed as ``--name value``, and whatever argparse does
not know (``-dgk_ts_monitor`` …) is PETSc's command line; :func:`check_parameters` turns a value
it cannot use into one line. The channel demos sweep the Knudsen number from the free-molecular
limit down (:func:`knudsen_sweep`), to steady states found by time stepping
(:func:`channel_to_steady`) or directly (:func:`steady_state`), and write them with their figure
(:func:`write_knudsen_sweep`). Other demos write their results with
:func:`dgkinetic.output.write_arrays` and draw with :mod:`dgkinetic.plotting`; a homogeneous
relaxation runs with :func:`dgkinetic.homogeneous.run_homogeneous`.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable

import numpy as np

__all__ = ["parse_parameters", "run_demo", "output_dir", "check_parameters", "argon_krypton", "knudsen_sweep",
           "knudsen_collisions", "channel_to_steady", "steady_state", "write_knudsen_sweep"]


def parse_parameters(defaults: dict, description: str, argv: list[str] | None = None) -> tuple[dict, list[str]]:
    """Demo parameters from a command line, and the arguments left for PETSc.

    Parameters
    ----------
    defaults
        Parameter name → default value; its type (or the type of a list's first entry, for
        ``nargs="+"``) converts the command-line text. Booleans read 1/true/yes.
    description
        One line for ``--help``.
    argv
        The arguments (default ``sys.argv[1:]``, which is not changed).

    Returns
    -------
    tuple
        (parameters dict, the arguments argparse does not know, in order).
    """
    p = argparse.ArgumentParser(description=description)
    for key, value in defaults.items():
        kind = type(value)
        if isinstance(value, (list, tuple)):
            p.add_argument(f"--{key}", type=type(value[0]), nargs="+", default=list(value))
        elif kind is bool:
            p.add_argument(f"--{key}", type=lambda s: s.lower() in ("1", "true", "yes"), default=value)
        else:
            p.add_argument(f"--{key}", type=kind, default=value)
    args, rest = p.parse_known_args(sys.argv[1:] if argv is None else argv)
    return vars(args), rest


def run_demo(main: Callable[..., dict], defaults: dict, doc: str, argv: list[str] | None = None) -> dict:
    """Run a demo from its command line.

    Parses ``defaults`` from ``argv`` (default ``sys.argv[1:]``), starts PETSc with the remaining
    arguments (:func:`dgkinetic.cli.start_petsc`) and returns ``main(**parameters)``. Bad input (an
    :class:`~dgkinetic.errors.InputError`) ends the program with one line naming the demo.

    Parameters
    ----------
    main
        The demo's ``main(**parameters) -> dict``.
    defaults
        Its ``DEFAULTS``.
    doc
        Its docstring (the first line describes it in ``--help``).
    argv
        The command line without the program name.
    """
    from dgkinetic.cli import start_petsc
    from dgkinetic.errors import InputError
    parameters, petsc_args = parse_parameters(defaults, doc.splitlines()[0], argv)
    start_petsc(petsc_args)
    try:
        return main(**parameters)
    except InputError as err:
        sys.exit(f"{os.path.splitext(os.path.basename(sys.argv[0]))[0]}: {err}")


def output_dir(name: str, params: dict) -> str:
    """The output directory of a demo, created: ``params["output"]``, or ``output/<name>``."""
    out = params.get("output") or os.path.join("output", name)
    os.makedirs(out, exist_ok=True)
    return out


# ------------------------------------------------------------------------------ parameter checks
def _knudsen(p: dict) -> str | None:
    kn = p["knudsen"]
    if isinstance(kn, (list, tuple)):
        if not kn or any(not (math.isfinite(k) and k > 0) for k in kn):
            return f"knudsen must be positive numbers, got {kn}"
    elif not (math.isfinite(float(kn)) and float(kn) > 0):
        return f"knudsen must be a positive number, got {float(kn)}"
    return None


def _knudsen_or_free_flight(p: dict) -> str | None:
    kn = p["knudsen"]
    if not kn or any(not float(k) > 0 for k in kn):
        return f"knudsen must be positive numbers (inf for free flight), got {kn}"
    return None


def _wall_speed(p: dict) -> str | None:
    if not 0 < p["wall_speed"] <= 1.0:
        return f"wall_speed must be in (0, 1] (units of √(T_w/m)), got {p['wall_speed']}"
    return None


def _cold_wall_first(p: dict) -> str | None:
    T0, TL = float(p["t_left"]), float(p["t_right"])
    if not (0 < T0 < TL):
        return f"need 0 < t_left < t_right (the cold wall at x = 0), got {T0}, {TL}"
    return None


def _even_velocity_cells(p: dict) -> str | None:
    if p["velocity_cells"] % 2:
        return f"velocity_cells must be even (v_x = 0 on a cell edge), got {p['velocity_cells']}"
    return None


def _positive(key: str) -> Callable[[dict], str | None]:
    return lambda p: None if math.isfinite(p[key]) and p[key] > 0 else f"{key} must be positive, got {p[key]}"


#: check name → what it asks of the parameters (the message if they fail it, else None)
CHECKS = {"knudsen": _knudsen, "knudsen_or_free_flight": _knudsen_or_free_flight, "wall_speed": _wall_speed,
          "cold_wall_first": _cold_wall_first, "even_velocity_cells": _even_velocity_cells,
          **{key: _positive(key) for key in ("tolerance", "t_max", "t_max_collisions", "check_every",
                                             "wall_temperature")}}


def check_parameters(p: dict, *checks: str) -> None:
    """Raise a one-line InputError for the first of ``checks`` the demo parameters ``p`` fail.

    Parameters
    ----------
    p
        The demo's parameters.
    *checks
        Names in :data:`CHECKS`: ``knudsen`` a positive number, or a non-empty list of them;
        ``knudsen_or_free_flight`` a non-empty list of positive numbers, inf allowed;
        ``wall_speed`` in (0, 1] (units of √(T_w/m)); ``cold_wall_first`` 0 < t_left < t_right;
        ``even_velocity_cells`` (so that v_x = 0 lies on a cell edge); ``tolerance``, ``t_max``,
        ``t_max_collisions``, ``check_every`` and ``wall_temperature`` positive and finite.
    """
    from dgkinetic.errors import InputError
    for name in checks:
        message = CHECKS[name](p)
        if message:
            raise InputError(message)


# ------------------------------------------------------------------------------ gases and sweeps
def argon_krypton() -> list:
    """Argon and krypton as hard spheres (or disks) in units of argon's mass and diameter.

    Returns
    -------
    list of Species
        Ar (mass 1, diameter 1) and Kr (mass 83.80/39.95, diameter 1.13).
    """
    from dgkinetic.species import Species
    return [Species("Ar", mass=1.0, diameter=1.0), Species("Kr", mass=83.80 / 39.95, diameter=1.13)]


def knudsen_collisions(op, knudsen: float) -> list:
    """The collisions of a channel of unit width and mean density at Knudsen number ``knudsen``.

    Parameters
    ----------
    op
        A hard-sphere (hard-disk in 2V) collision operator of unit diameter.
    knudsen
        λ/L; ∞ for the free-molecular limit.

    Returns
    -------
    list
        ``[(op, rate)]`` with the rate of :func:`~dgkinetic.reference.channel_flow.rate_for_knudsen`;
        empty when ``knudsen`` is ∞.
    """
    from dgkinetic.reference.channel_flow import rate_for_knudsen
    return [] if math.isinf(knudsen) else [(op, rate_for_knudsen(knudsen, 1.0, 1.0, 1.0, op.mixture.dim))]


def knudsen_sweep(knudsen, run: Callable[[float], tuple[dict, str]]) -> tuple[np.ndarray, dict]:
    """``run(kn)`` for the free-molecular limit and each Knudsen number, from the largest down.

    Each run's line ``Kn = <kn> <note>`` is printed as it ends.

    Parameters
    ----------
    knudsen
        The Knudsen numbers (any order).
    run
        ``run(kn) -> (row, note)``, kn = ∞ for the free-molecular limit: a dict of results and
        the text of the progress line.

    Returns
    -------
    tuple
        (the Knudsen numbers as run, ∞ first; the rows as one array per key, a row per entry).
    """
    sweep = [math.inf] + sorted(knudsen, reverse=True)
    rows = []
    for kn in sweep:
        row, note = run(kn)
        print(f"Kn = {kn:<5g} {note}", flush=True)
        rows.append(row)
    return np.array(sweep), {key: np.array([row[key] for row in rows]) for key in rows[0]}


def channel_to_steady(mix, walls, op, knudsen: float, p: dict, initial, mean_free_time: float, measure) -> tuple:
    """A :class:`~dgkinetic.channel.Channel` at one Knudsen number, stepped to the steady state of ``measure``.

    The splitting step is 0.3 mean free times (0.1 without collisions). The run lasts at least
    1.5 times the crossing time L/min|v_x| of the slowest molecules (with collisions, at most 3 mean
    free times of it); without collisions the tolerance is ``p["tolerance"]``/10 and the run at
    most 3 times that (collisionless runs are cheap, and their wall re-emissions settle slowly),
    with collisions ``p["tolerance"]`` and ``p["t_max"]`` (at least the shortest run).

    Parameters
    ----------
    mix
        The mixture.
    walls
        The walls at x = 0 and x = L.
    op
        The collision operator (:func:`knudsen_collisions`).
    knudsen
        λ/L, ∞ for the free-molecular limit.
    p
        The demo's parameters ``cells``, ``degree``, ``tolerance`` and ``t_max``.
    initial
        The initial (density, velocity, temperature) per species.
    mean_free_time
        λ over the mean speed.
    measure
        ``measure(channel)``, as for :meth:`~dgkinetic.channel.Channel.run_to_steady`.

    Returns
    -------
    tuple
        (the channel, the history ``run_to_steady`` returned, the largest relative change of a
        species' number).
    """
    from dgkinetic.channel import Channel
    free = math.isinf(knudsen)
    channel = Channel(mix, *walls, cells=p["cells"], degree=p["degree"], initial=initial,
                      collisions=knudsen_collisions(op, knudsen),
                      collision_step=0.3 * mean_free_time if not free else 0.1)
    n0 = channel.numbers()
    crossing = 1.0 / min(np.min(np.abs(g.nodes[:, 0])) for g in mix.grids)
    t_min = 1.5 * crossing if free else min(1.5 * crossing, 3 * mean_free_time)
    hist = channel.run_to_steady(measure, tolerance=p["tolerance"] / (10 if free else 1), check_every=0.5,
                                 t_min=t_min, t_max=3 * t_min if free else max(p["t_max"], t_min))
    return channel, hist, float(np.max(np.abs(channel.numbers() - n0) / n0))


def steady_state(phase, f0, walls: dict, op, knudsen: float):
    """The steady state at one Knudsen number, solved directly (:class:`~dgkinetic.steady.SteadySolver`).

    Parameters
    ----------
    phase, f0, walls
        The phase space, the initial guess and the walls, as for
        :class:`~dgkinetic.solver.KineticProblem`.
    op
        The collision operator (:func:`knudsen_collisions`).
    knudsen
        λ/L, ∞ for the free-molecular limit.

    Returns
    -------
    SteadySolver
        Solved: ``rows`` is the steady state.
    """
    from dgkinetic.solver import KineticProblem
    from dgkinetic.steady import SteadySolver
    solver = SteadySolver(KineticProblem(phase, f0, walls=walls, collisions=knudsen_collisions(op, knudsen)))
    solver.solve()
    return solver


def write_knudsen_sweep(r: dict, p: dict, name: str, attrs: dict, sweep: tuple, profiles: tuple, title: str,
                        stem: str | None = None) -> str:
    """Write a Knudsen sweep's results and its figure into the demo's :func:`output_dir`.

    The figure: the quantity over its free-molecular value against Kn
    (:func:`~dgkinetic.plotting.plot_knudsen_sweep`), and the profiles across the gap
    (:func:`~dgkinetic.plotting.plot_profiles_by_knudsen`).

    Parameters
    ----------
    r
        The results (arrays written as datasets); its ``knudsen`` and ``x`` are drawn.
    p
        The demo's parameters (``output``).
    name
        The default output directory ``output/<name>``.
    attrs
        Attributes of the HDF5 file.
    sweep
        ``(ratio, what, label, curves)``: the arguments of ``plot_knudsen_sweep`` after Kn.
    profiles
        ``(profiles, ylabel, reference)``: those of ``plot_profiles_by_knudsen`` after x and Kn.
    title
        The figure's title.
    stem
        The files' name, ``<stem>.h5`` and ``<stem>.png`` (default ``name``).

    Returns
    -------
    str
        The output directory.
    """
    from dgkinetic.output import write_arrays
    from dgkinetic.plotting import plot_knudsen_sweep, plot_profiles_by_knudsen, save_figure, subplots
    out = output_dir(name, p)
    stem = stem or name
    write_arrays(os.path.join(out, f"{stem}.h5"), r, attrs)
    fig, ax = subplots(1, 2, figsize=(11, 4))
    plot_knudsen_sweep(ax[0], r["knudsen"], *sweep)
    plot_profiles_by_knudsen(ax[1], r["x"], r["knudsen"], *profiles)
    fig.suptitle(title)
    save_figure(fig, os.path.join(out, f"{stem}.png"))
    return out
