"""Which totals a bounded problem conserves: the ones drawn as drifts in invariants.png.

The classification of :meth:`Transport.conserved_invariants` is checked against runs: what it calls
conserved stays to round-off, everything else really changes (so a plot of its "relative drift"
would show physics, not error).
"""
import numpy as np
import pytest

import firedrake as fd
from dgkinetic import Mixture, Species, VelocityGrid
from dgkinetic.phase_space import PhaseSpace
from dgkinetic.solver import KineticProblem, KineticSolver
from dgkinetic.walls import Diffuse, Inflow, Outflow, Specular

WALLS = {
    "diffuse": ({1: Diffuse(temperature=1.0, velocity=[0.0, 0.3]), 2: Diffuse(temperature=2.0)},
                ["number_a", "number_b"]),
    "specular": ({1: Specular(), 2: Specular()}, ["number_a", "number_b", "momentum_y", "energy"]),
    "open": ({1: Inflow(density=[1.0, 0.5], temperature=1.0, velocity=[0.4, 0.0]), 2: Outflow()}, []),
    "periodic": (None, ["number_a", "number_b", "momentum_x", "momentum_y", "energy"]),
}


@pytest.mark.parametrize("case", sorted(WALLS))
def test_conserved_invariants_are_exactly_those_conserved(case):
    walls, expected = WALLS[case]
    species = [Species("a", mass=1.0), Species("b", mass=2.0)]
    mix = Mixture(species, [VelocityGrid(2, 4, 2, extent=5.0, scale=s.thermal_speed(1.5)) for s in species])
    mesh = fd.PeriodicIntervalMesh(8, 1.0) if walls is None else fd.IntervalMesh(8, 1.0)
    phase = PhaseSpace(mesh, mix, degree=1)
    f0 = phase.local_equilibrium([lambda x: 1 + 0.3 * np.sin(2 * np.pi * x[:, 0]), 0.5],
                                 [np.array([0.2, 0.1]), np.zeros(2)], [1.2, lambda x: 1 + 0.3 * x[:, 0]])
    solver = KineticSolver(KineticProblem(phase, f0, walls=walls or {}))
    assert solver.transport.conserved_invariants() == expected
    w = phase.node_volumes

    def totals():
        return w @ mix.conserved(solver.rows)

    before = totals()
    solver.solve(t_end=0.3, dt=0.01)
    change = np.abs(totals() - before) / np.maximum(np.abs(before), 1.0)
    names = mix.invariant_names()
    for name, c in zip(names, change):
        if name in expected:
            assert c <= 1e-12, (case, name, c)
        else:
            assert c > 1e-6, (case, name, c)
