"""Default explicit stepping stays inside the stability region of transport.

The exact discrete steady state of a free-molecular channel (diffuse walls at two temperatures) is
a fixed point of the semi-discrete equations, so a stable Runge–Kutta method keeps it to round-off
whatever its steps. An error-controlled step size alone grows past the stability limit there (the
error estimate of a steady state is zero) and then chatters at the limit, polluting the state at
the level of its tolerance; the default solver caps the step at the estimated stability limit.
"""
from __future__ import annotations

import numpy as np
import pytest

import firedrake as fd
from dgkinetic import Mixture, Species, VelocityGrid
from dgkinetic.phase_space import PhaseSpace
from dgkinetic.solver import KineticProblem, KineticSolver
from dgkinetic.walls import Diffuse


@pytest.fixture(scope="module")
def channel():
    ar = Species("Ar")
    mix = Mixture([ar], [VelocityGrid(2, 4, 2, extent=5.0, scale=ar.thermal_speed(1.5))])
    phase = PhaseSpace(fd.IntervalMesh(6, 1.0), mix, degree=1)
    walls = {1: Diffuse(temperature=1.0), 2: Diffuse(temperature=2.0)}
    f0 = phase.local_equilibrium([1.0], [np.zeros(2)], [1.5])
    problem = KineticProblem(phase, f0, walls=walls)
    solver = KineticSolver(problem)
    n, size = phase.n_owned, mix.size
    A = transport_matrix(solver)
    # steady state: A f = 0 with the number of particles of f0 (the walls conserve it exactly)
    mass = np.kron(phase.node_volumes, mix.weights)
    rhs = np.zeros(n * size + 1)
    rhs[-1] = mass @ f0.dat.data_ro.ravel()
    steady = np.linalg.lstsq(np.vstack([A, mass]), rhs, rcond=None)[0]
    assert np.max(np.abs(A @ steady)) < 1e-12 * np.max(np.abs(steady)) * np.abs(A).max()
    return problem, steady.reshape(n, size)


def transport_matrix(solver) -> np.ndarray:
    """The transport operator as a dense matrix (it is linear: walls re-emit what hits them)."""
    n, size = solver.phase.n_owned, solver.mixture.size
    A = np.empty((n * size, n * size))
    e = np.zeros(n * size)
    for j in range(n * size):
        e[j] = 1.0
        A[:, j] = solver.transport.rhs(e.reshape(n, size)).ravel()
        e[j] = 0.0
    return A


def hold(problem, steady, parameters=None) -> tuple[float, KineticSolver]:
    """Largest relative departure from the steady state after t = 5 (≈ 6 wall-to-wall transits)."""
    problem.initial.dat.data[:] = steady
    solver = KineticSolver(problem, solver_parameters=parameters)
    solver.solve(t_end=5.0, dt=0.1)
    return float(np.max(np.abs(solver.rows - steady)) / np.max(np.abs(steady))), solver


def test_default_stepping_holds_the_discrete_steady_state(channel):
    problem, steady = channel
    drift, solver = hold(problem, steady)
    assert solver.kind == "explicit"
    assert drift <= 1e-12, (drift, solver.stats)


def test_uncapped_controller_leaves_the_stability_region(channel):
    """The same run with the cap lifted drifts by orders of magnitude more: the cap is what holds it."""
    problem, steady = channel
    drift, solver = hold(problem, steady, {"ts_adapt_dt_max": 1.0})
    assert drift > 1e-8, (drift, solver.stats)


def test_step_limit_matches_the_spectrum(channel):
    """The power-iteration estimate of ρ(transport) errs on the safe side, and not by much: it lies
    between the largest |λ| of the matrix and twice it (measured 1.48×: the upwind operator is
    non-normal, and ‖Ax‖/‖x‖ tends to its numerical radius rather than its spectral radius)."""
    problem, steady = channel
    solver = KineticSolver(problem)
    A = transport_matrix(solver)
    rho = np.max(np.abs(np.linalg.eigvals(A)))
    estimate = solver.transport.spectral_radius()
    assert rho <= estimate <= 2.0 * rho, (estimate, rho)
