"""Spatially homogeneous runs: collisions alone on one space node, and the drift of their invariants."""
from __future__ import annotations

import numpy as np

__all__ = ["run_homogeneous", "invariant_drift"]


def run_homogeneous(mixture, collisions, initial_rows, t_end: float, dt: float, solver_parameters=None):
    """Relax a spatially homogeneous state by collisions alone, keeping every step.

    Parameters
    ----------
    mixture
        The :class:`~dgkinetic.mixture.Mixture`.
    collisions
        ``[(operator, rate), ...]`` as for :class:`~dgkinetic.solver.KineticProblem`.
    initial_rows
        The initial state, the concatenated velocity nodes of all species, shape (size,).
    t_end, dt
        Final time and time step.
    solver_parameters
        PETSc options over the defaults ``ts_type arkimex``, ``ts_adapt_type none``.

    Returns
    -------
    tuple
        (times (n,), rows (n, size), solver): one state row per step, the initial one first.
    """
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
    """Largest relative change of the collision invariants of each state row.

    Parameters
    ----------
    mixture
        The :class:`~dgkinetic.mixture.Mixture` of the rows.
    rows
        States, shape (n, size) or (size,).
    reference
        The state the changes are measured from, shape (size,); default the first row.

    Returns
    -------
    ndarray, shape (n,)
        max over invariants ψ of |Σ W ψ (f − f_ref)| / Σ W |ψ f_ref|.
    """
    rows = np.atleast_2d(rows)
    ref = rows[0] if reference is None else np.asarray(reference)
    scale = np.abs(ref) @ (mixture.weights[:, None] * np.abs(mixture.invariants))
    return np.max(np.abs(mixture.conserved(rows) - mixture.conserved(ref)) / scale, axis=1)
