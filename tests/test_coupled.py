"""Collision operators coupled to transport and stepped by PETSc TS (Landau and Boltzmann)."""
import numpy as np
import pytest

import firedrake as fd
from dgkinetic import Mixture, Species, VelocityGrid
from dgkinetic.collisions.landau import Landau
from dgkinetic.diagnostics import Diagnostics
from dgkinetic.phase_space import PhaseSpace, homogeneous_phase_space
from dgkinetic.solver import KineticProblem, KineticSolver
from dgkinetic.walls import Diffuse, Specular


def two_species(continuous=True):
    species = [Species("e", mass=1.0), Species("i", mass=4.0)]
    grids = [VelocityGrid(2, 4, 2, extent=5.0, scale=s.thermal_speed(1.0), continuous=continuous)
             for s in species]
    return Mixture(species, grids)


def landau(mix):
    return Landau(mix, tail_floor=1e-6)


def temperature_history(phase, mix, op, walls=None, speed=0.0, t_end=2.0, dt=0.1):
    f0 = phase.local_equilibrium([1.0, 1.0], [np.zeros(2)] * 2, [0.7, 1.3])
    diag = Diagnostics(phase)
    hist = []
    solver = KineticSolver(KineticProblem(phase, f0, walls=walls or {}, collisions=[(op, 1.0)],
                                          transport_speed=speed),
                           solver_parameters={"ts_type": "arkimex", "ts_adapt_type": "none"},
                           monitors=[lambda s, step, t, X: hist.append((t, diag.all(X)))])
    solver.solve(t_end, dt)
    return hist, solver


def test_landau_imex_homogeneous_relaxation_is_conservative():
    mix = two_species()
    hist, solver = temperature_history(homogeneous_phase_space(mix), mix, landau(mix), t_end=3.0, dt=0.3)
    first, last = hist[0][1], hist[-1][1]
    for key in ("number_e", "number_i", "momentum_x", "momentum_y", "energy"):
        assert abs(last[key] - first[key]) <= 1e-12 * max(1.0, abs(first[key])), key
    T_inf = 1.0                                   # Σ n_i T_i / Σ n_i
    assert abs(last["temperature_e"] - T_inf) < 0.5 * abs(first["temperature_e"] - T_inf)
    assert abs(last["temperature_e"] + last["temperature_i"] - 2 * T_inf) < 1e-10
    H = [h["entropy"] for _, h in hist]
    assert np.all(np.diff(H) <= 1e-12 * abs(H[0]))
    # the step is ≥ 20× the explicit (forward Euler) limit 2/ρ(J) of the collision Jacobian
    phase0 = homogeneous_phase_space(mix)
    X0 = phase0.local_equilibrium([1.0, 1.0], [np.zeros(2)] * 2, [0.7, 1.3]).dat.data_ro
    rho = max(abs(np.linalg.eigvals(solver.collision_jacobian(np.array(X0))[0])))
    assert 0.3 >= 20 * 2.0 / rho, rho


def test_landau_with_transport_between_walls():
    """1D2V, two species between walls: total mass conserved; a uniform state relaxes its
    temperatures exactly as the homogeneous run does (walls at the common temperature, specular)."""
    mix = two_species()
    op = landau(mix)
    # explicit transport: Δt within its CFL limit h/(3 max|v|) ≈ 0.008 (beyond it round-off in the
    # uniform state would grow like an unstable mode)
    hom, _ = temperature_history(homogeneous_phase_space(mix), mix, op, t_end=0.1, dt=0.005)
    phase = PhaseSpace(fd.IntervalMesh(4, 1.0), mix, degree=1)
    walls = {1: Specular(), 2: Specular()}
    inh, solver = temperature_history(phase, mix, op, walls=walls, speed=1.0, t_end=0.1, dt=0.005)
    for key in ("number_e", "number_i", "energy"):
        assert abs(inh[-1][1][key] - inh[0][1][key]) <= 1e-12 * abs(inh[0][1][key]), key
    assert abs(hom[-1][1]["temperature_e"] - hom[0][1]["temperature_e"]) > 1e-3    # a real relaxation
    X = solver.rows
    assert np.ptp(X, axis=0).max() <= 1e-12 * X.max()                            # still uniform
    for (t1, a), (t2, b) in zip(hom, inh):
        assert t1 == pytest.approx(t2)
        assert a["temperature_e"] == pytest.approx(b["temperature_e"], rel=1e-12)
    # and with a diffuse wall the species masses are still conserved, the state is no longer uniform
    # (explicit transport: Δt within its CFL limit h/(3 max|v|) ≈ 0.016)
    walls = {1: Diffuse(temperature=1.0), 2: Specular()}
    inh, solver = temperature_history(phase, mix, op, walls=walls, speed=1.0, t_end=0.1, dt=0.01)
    for key in ("number_e", "number_i"):
        assert abs(inh[-1][1][key] - inh[0][1][key]) <= 1e-12 * abs(inh[0][1][key]), key
