"""What the demo scripts share: parameters from defaults + command line, and a homogeneous runner.

A demo is ``main(**overrides) -> dict`` with a ``DEFAULTS`` dict; run as a script, every default can
be changed as ``--name value`` and whatever argparse does not know (``-dgk_ts_monitor`` …) is left
for PETSc.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

__all__ = ["parse_parameters", "run_demo", "run_homogeneous", "invariant_drift", "output_dir", "write_results",
           "save_figure", "plot_knudsen_sweep", "plot_profiles_by_knudsen"]


def parse_parameters(defaults: dict, description: str, argv=None) -> dict:
    """Demo parameters from the command line; unknown arguments are kept in sys.argv for PETSc."""
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
    sys.argv = sys.argv[:1] + rest
    return vars(args)


def run_demo(main, defaults: dict, doc: str):
    """A demo's command line: parse ``defaults`` from argv, run ``main(**parameters)`` and return its
    result; bad input (an InputError) ends the program with one line naming the demo."""
    from dgkinetic.errors import InputError
    try:
        return main(**parse_parameters(defaults, doc.splitlines()[0]))
    except InputError as err:
        sys.exit(f"{os.path.splitext(os.path.basename(sys.argv[0]))[0]}: {err}")


def output_dir(name: str, params: dict) -> str:
    out = params.get("output") or os.path.join("output", name)
    os.makedirs(out, exist_ok=True)
    return out


def run_homogeneous(mixture, collisions, initial_rows, t_end, dt, solver_parameters=None):
    """Spatially homogeneous run; returns (times, rows, solver) with one state row per step."""
    from dgkinetic.phase_space import homogeneous_phase_space
    from dgkinetic.solver import KineticProblem, KineticSolver
    phase = homogeneous_phase_space(mixture)
    f0 = phase.function("f")
    f0.dat.data[:] = np.asarray(initial_rows).reshape(1, -1)
    times, rows = [0.0], [np.array(f0.dat.data_ro).reshape(-1)]

    def record(solver, step, t, X):
        if step > 0:
            times.append(t)
            rows.append(np.array(X[0]))

    params = {"ts_type": "arkimex", "ts_adapt_type": "none"}
    params.update(solver_parameters or {})
    solver = KineticSolver(KineticProblem(phase, f0, collisions=collisions, transport_speed=0.0),
                           solver_parameters=params, monitors=[record])
    solver.solve(t_end, dt)
    return np.array(times), np.array(rows), solver


def invariant_drift(mixture, rows: np.ndarray, reference: np.ndarray | None = None) -> np.ndarray:
    """Largest relative change of the collision invariants per state row, against ``reference``
    (default: the first row), each invariant scaled by Σ W |ψ f_reference|."""
    rows = np.atleast_2d(rows)
    ref = rows[0] if reference is None else np.asarray(reference)
    scale = np.abs(ref) @ (mixture.weights[:, None] * np.abs(mixture.invariants))
    return np.max(np.abs(mixture.conserved(rows) - mixture.conserved(ref)) / scale, axis=1)


def write_results(path: str, data: dict, attrs: dict | None = None) -> None:
    """Arrays of ``data`` as datasets (other entries skipped), ``attrs`` as attributes: written to
    ``path``.part, then renamed, so a reader never sees a half-written file."""
    import h5py
    with h5py.File(path + ".part", "w") as h:
        for key, value in data.items():
            if isinstance(value, np.ndarray):
                h.create_dataset(key, data=value)
        for key, value in (attrs or {}).items():
            h.attrs[key] = value
    os.replace(path + ".part", path)


def pyplot():
    """matplotlib.pyplot on the file-only backend."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def save_figure(fig, path: str, dpi: int = 110) -> None:
    """Save a figure (write, then rename) and close it."""
    root, ext = os.path.splitext(path)
    part = f"{root}.part{ext}"
    fig.tight_layout()
    fig.savefig(part, dpi=dpi)
    pyplot().close(fig)
    os.replace(part, path)


def plot_knudsen_sweep(ax, knudsen, ratio, what: str, curves=()) -> np.ndarray:
    """A quantity over its free-molecular value against Kn (Kn = ∞ drawn as a star at the right end),
    with the exact free-molecular line and theory ``curves`` = [(label, style, f(Kn), Kn_max)].
    Returns the Kn grid used for the curves."""
    kn = np.asarray(knudsen, dtype=float)
    ratio = np.asarray(ratio)
    fin = np.isfinite(kn)
    grid = np.geomspace(min(kn[fin].min(), 0.1) / 2, max(kn[fin].max(), 10) * 2, 100)
    ax.semilogx(kn[fin], ratio[fin], "o", label="Boltzmann, hard disks")
    if not fin.all():
        ax.semilogx(grid[-1], ratio[~fin][0], "*", ms=10, label="no collisions (Kn = ∞)")
    ax.axhline(1.0, color="k", lw=0.8, label="free-molecular (exact)")
    for label, style, curve, kn_max in curves:
        sel = grid < kn_max
        ax.semilogx(grid[sel], curve(grid[sel]), style, label=label)
    ax.set_xlabel("Kn = λ/L")
    ax.set_ylabel(f"{what} / {what}(free-molecular)")
    ax.legend(fontsize=7)
    return grid


def plot_profiles_by_knudsen(ax, x, knudsen, profiles, ylabel: str, reference) -> None:
    """One profile per Kn against x/L (Kn = ∞ labelled free-molecular) and a dotted
    ``reference`` = (label, [y(0), y(1)]) line, e.g. the no-slip or no-jump continuum limit."""
    for k, y in zip(knudsen, profiles):
        ax.plot(x, y, ".-", ms=3, label="free-molecular" if not np.isfinite(k) else f"Kn = {k:g}")
    label, ends = reference
    ax.plot([0, 1], ends, "k:", lw=0.8, label=label)
    ax.set_xlabel("x / L")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=7)
