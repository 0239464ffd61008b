"""Does a velocity grid resolve the collision physics of a run? Measured, not guessed.

A grid can hold every Maxwellian of a run (:func:`dgkinetic.equilibrium.check_resolution`) and still
give wrong collision rates: a Landau-Maxwell mixture on 8 cells of degree 2 exchanges energy 19.5 %
too fast. What matters is measured here: the momentum and energy the discrete operator makes each
species exchange at a state of the run's temperatures with relative drifts, against the closed
forms that hold exactly for Maxwell molecules (:mod:`dgkinetic.reference.maxwell_mixture`). For
another interaction the measurement uses the Maxwell-molecule operator of the same form on the same
grids, which probes the same resolution of the velocity space (where that surrogate is cheap: the
Landau and spectral forms; a weak or collocation Boltzmann form with another kernel is measured
only when its kernel is Maxwell molecules).
"""
from __future__ import annotations

import math

import numpy as np

from dgkinetic.equilibrium import equilibrium
from dgkinetic.mixture import Mixture
from dgkinetic.moments import energy_density, momentum_density, mean_velocity, temperature
from dgkinetic.reference.maxwell_mixture import exchange_rates

__all__ = ["exchange_rate_error", "discrete_exchange", "maxwell_surrogate", "EXCHANGE_TOLERANCE"]

#: relative exchange-rate error above which a run warns that its grid does not resolve the collisions
EXCHANGE_TOLERANCE = 1e-2

#: relative drift between species of the probe state, in thermal speeds at the mean temperature
PROBE_DRIFT = 0.3


def maxwell_surrogate(operator):
    """(operator with Maxwell-molecule interactions on the same grids, closed form) or None.

    The operator itself when it already has Maxwell molecules; ``"landau"`` or ``"boltzmann"``
    names the closed form of :func:`~dgkinetic.reference.maxwell_mixture.exchange_rates`.
    """
    from dgkinetic.collisions.boltzmann import Boltzmann
    from dgkinetic.collisions.kernels import MaxwellMolecules
    from dgkinetic.collisions.landau import Landau
    from dgkinetic.collisions.spectral import SpectralBoltzmann
    mix = operator.mixture
    if isinstance(operator, Landau):
        if operator.axisymmetric:
            return None
        return (operator if operator.gamma == 0.0 else Landau(mix, "maxwell", nu=operator.nu)), "landau"
    if isinstance(operator, (Boltzmann, SpectralBoltzmann)) and isinstance(operator.kernel, MaxwellMolecules):
        return operator, "boltzmann"
    if isinstance(operator, SpectralBoltzmann):
        return SpectralBoltzmann(mix, MaxwellMolecules(), modes=operator.periodic.N), "boltzmann"
    return None


def _strength(operator, theory: str, mix: Mixture):
    """λ_ij (Boltzmann: |S^{d−1}| C_ij) or ν_ij (Landau) of a Maxwell-molecule operator."""
    if theory == "landau":
        return operator.nu
    from dgkinetic.collisions.kernels import sphere_area
    N, d = len(mix), mix.dim
    return sphere_area(d) * np.array([[operator.kernel.coefficient(i, j, d) for j in range(N)] for i in range(N)])


def discrete_exchange(operator, X: np.ndarray) -> tuple:
    """At one state row X (shape (1, size)): per species the drift u_i (N, d) and temperature T_i
    (N,), and the momentum and energy the operator makes it gain, d(m n u)_i/dt (N, d) and dE_i/dt (N,)."""
    mix = operator.mixture
    parts, R = mix.split(X), mix.split(operator.rhs(X))
    u = np.array([mean_velocity(p, g)[0] for p, g in zip(parts, mix.grids)])
    T = np.array([temperature(p, g, s)[0] for p, g, s in zip(parts, mix.grids, mix.species)])
    dp = np.array([momentum_density(r, g, s)[0] for r, g, s in zip(R, mix.grids, mix.species)])
    dE = np.array([energy_density(r, g, s)[0] for r, g, s in zip(R, mix.grids, mix.species)])
    return u, T, dp, dE


def exchange_rate_error(operator, temperatures) -> float | None:
    """Largest relative error of the exchange rates of ``operator`` (or its Maxwell surrogate) at
    a probe state of the run: species i at temperature T_i, drifts ±PROBE_DRIFT thermal speeds.

    Returns None for a single species (nothing is exchanged) or where no surrogate is cheap.
    """
    mix = operator.mixture
    N = len(mix)
    if N < 2 or any(s.alpha != 0 for s in mix.species):
        return None
    found = maxwell_surrogate(operator)
    if found is None:
        return None
    probe_op, theory = found
    T = np.broadcast_to(np.asarray(temperatures, dtype=float), (N,))
    d = mix.dim
    u = np.zeros((N, d))
    for i, s in enumerate(mix.species):
        u[i, 0] = PROBE_DRIFT * (1 if i % 2 == 0 else -1) * s.thermal_speed(float(np.mean(T)))
    X = np.concatenate([equilibrium(g, s, 1.0, u[i], T[i]) for i, (s, g) in
                        enumerate(zip(mix.species, mix.grids))])[None]
    u_d, T_d, dp, dE = discrete_exchange(probe_op, X)
    masses = [s.mass for s in mix.species]
    ep, eE = exchange_rates(theory, masses, np.ones(N), u_d, T_d, _strength(probe_op, theory, mix))
    err = max(np.max(np.abs(dp - ep)) / max(np.max(np.abs(ep)), 1e-300),
              np.max(np.abs(dE - eE)) / max(np.max(np.abs(eE)), 1e-300))
    return float(err) if math.isfinite(err) else math.inf
