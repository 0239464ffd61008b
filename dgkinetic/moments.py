"""Velocity moments of one species on its grid, batched over space nodes.

``f`` has shape (..., n_v): any leading axes (space nodes, time levels) are kept. Moments are
exact weighted sums over the velocity nodes, so a collision form that conserves the discrete
invariants conserves exactly these numbers.
"""
from __future__ import annotations

import numpy as np

from dgkinetic.species import Species
from dgkinetic.velocity import VelocityGrid

__all__ = ["number_density", "momentum_density", "energy_density", "mean_velocity", "temperature",
           "pressure_tensor", "heat_flux", "SpeciesMoments", "mixture_temperature",
           "mixture_velocity"]


def number_density(f, grid: VelocityGrid):
    """n = Σ_k W_k f_k."""
    return f @ grid.weights


def _drift_nodes(grid: VelocityGrid) -> np.ndarray:
    """v_k on the axes that carry momentum, 0 on the others (v_perp of an axisymmetric grid)."""
    v = np.zeros_like(grid.nodes)
    axes = list(grid.momentum_axes)
    v[:, axes] = grid.nodes[:, axes]
    return v


def momentum_density(f, grid: VelocityGrid, species: Species):
    """m Σ_k W_k v_k f_k, shape (..., d) (0 along v_perp of an axisymmetric grid)."""
    return species.mass * (f @ (grid.weights[:, None] * _drift_nodes(grid)))


def energy_density(f, grid: VelocityGrid, species: Species):
    """m/2 Σ_k W_k |v_k|² f_k (total kinetic energy, drift included)."""
    return 0.5 * species.mass * (f @ (grid.weights * np.sum(grid.nodes ** 2, axis=1)))


def mean_velocity(f, grid: VelocityGrid):
    """u = Σ W v f / n, shape (..., d) (0 along v_perp of an axisymmetric grid)."""
    return (f @ (grid.weights[:, None] * _drift_nodes(grid))) / number_density(f, grid)[..., None]


def pressure_tensor(f, grid: VelocityGrid, species: Species):
    """P = m Σ W (v−u)⊗(v−u) f, shape (..., d, d)."""
    u = mean_velocity(f, grid)
    c = grid.nodes - u[..., None, :]                            # (..., n_v, d)
    return species.mass * np.einsum("...k,k,...ka,...kb->...ab", f, grid.weights, c, c)


def temperature(f, grid: VelocityGrid, species: Species):
    """T = tr P / (d n) (k_B = 1; d = 3 for an axisymmetric grid, whose P_perp,perp holds both
    perpendicular directions)."""
    P = pressure_tensor(f, grid, species)
    return np.trace(P, axis1=-2, axis2=-1) / (grid.physical_dim * number_density(f, grid))


def heat_flux(f, grid: VelocityGrid, species: Species):
    """q = m/2 Σ W |v−u|² (v−u) f, shape (..., d)."""
    u = mean_velocity(f, grid)
    c = grid.nodes - u[..., None, :]
    return 0.5 * species.mass * np.einsum("...k,k,...k,...ka->...a", f, grid.weights,
                                          np.sum(c ** 2, axis=-1), c)


class SpeciesMoments:
    """All the moments of one species (arrays over the leading axes of f)."""

    def __init__(self, f, grid: VelocityGrid, species: Species):
        self.number_density = number_density(f, grid)
        self.momentum_density = momentum_density(f, grid, species)
        self.energy_density = energy_density(f, grid, species)
        self.mean_velocity = mean_velocity(f, grid)
        self.pressure_tensor = pressure_tensor(f, grid, species)
        self.temperature = temperature(f, grid, species)
        self.heat_flux = heat_flux(f, grid, species)


def mixture_velocity(fs, grids, species):
    """Mass-averaged velocity Σ ρ_i u_i / Σ ρ_i."""
    mom = sum(momentum_density(f, g, s) for f, g, s in zip(fs, grids, species))
    rho = sum(s.mass * number_density(f, g) for f, g, s in zip(fs, grids, species))
    return mom / rho[..., None]


def mixture_temperature(fs, grids, species):
    """T = (2/d) (E − ½ ρ|u|²) / Σ n_i, u the mass-averaged velocity."""
    u = mixture_velocity(fs, grids, species)
    E = sum(energy_density(f, g, s) for f, g, s in zip(fs, grids, species))
    rho = sum(s.mass * number_density(f, g) for f, g, s in zip(fs, grids, species))
    n = sum(number_density(f, g) for f, g in zip(fs, grids))
    d = grids[0].physical_dim
    return 2.0 * (E - 0.5 * rho * np.sum(u ** 2, axis=-1)) / (d * n)
