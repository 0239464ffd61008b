"""States and runs the collision-operator tests share: random non-equilibrium rows, homogeneous runs."""
import math

import numpy as np

from dgkinetic import equilibrium


def random_state(mix, rng, rows: int = 3, *, spread: float = 0.4, density=(0.5, 0.5), drift: float = 0.25,
                 occupation: float = 0.25, degenerate: str = "quantum", t_ref: float = 1.0) -> np.ndarray:
    """Positive non-equilibrium rows (rows, mix.size): per species, equilibria of random density
    n = density[0] + density[1]·U, drift ``drift``·v_t·N(0, 1) and temperature t_ref (0.8 + 0.4 U),
    times a random factor 1 + ``spread``·U. The ``degenerate`` species ("quantum": Bose and Fermi,
    "fermi": Fermi only) get the density of peak occupation ≈ ``occupation`` instead (degenerate but
    physical: Fermi below 1, Bose away from condensation)."""
    blocks = []
    for s, g in zip(mix.species, mix.grids):
        vt = s.thermal_speed(t_ref)
        quantum = s.alpha != 0 if degenerate == "quantum" else s.alpha < 0
        rows_i = []
        for _ in range(rows):
            n = density[0] + density[1] * rng.random()
            if quantum:
                n = occupation * (2 * math.pi * vt * vt) ** (mix.dim / 2)
            u = drift * vt * rng.standard_normal(mix.dim)
            T = t_ref * (0.8 + 0.4 * rng.random())
            rows_i.append(equilibrium(g, s, n, u, T, check=False))
        blocks.append(np.array(rows_i))
    X = np.concatenate(blocks, axis=1)
    X *= 1.0 + spread * rng.random(X.shape)
    assert np.all(X[:, mix.alphas < 0] < 0.9)
    return X


def run_default(mix, op, X0: np.ndarray, t_end: float, dt: float):
    """Homogeneous relaxation under ``op`` (rate 1) with the solver's defaults, what a user gets
    (unlike :func:`dgkinetic.homogeneous.run_homogeneous`, which fixes the step); every step kept.

    Returns
    -------
    tuple
        (times (n,), rows (n, size), solver).
    """
    from dgkinetic.phase_space import homogeneous_phase_space
    from dgkinetic.solver import KineticProblem, KineticSolver
    phase = homogeneous_phase_space(mix)
    f0 = phase.function("f")
    f0.dat.data[:] = np.asarray(X0).reshape(f0.dat.data.shape)
    times, rows = [0.0], [np.asarray(X0, dtype=float).reshape(-1).copy()]

    def record(solver, step, t, X):
        if step > 0:
            times.append(t)
            rows.append(np.array(X[0]))

    solver = KineticSolver(KineticProblem(phase, f0, collisions=[(op, 1.0)], transport_speed=0.0),
                           monitors=[record])
    solver.solve(t_end=t_end, dt=dt)
    assert math.isclose(times[-1], t_end)
    return np.array(times), np.array(rows), solver
