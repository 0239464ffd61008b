"""A mixture: the species and their velocity grids, and the layout of a row of the state.

A row of the state holds the velocity nodes of every species one after the other
(``[f_1(v^1_1..n_1), f_2(v^2_1..n_2), ...]``); the state is an array of such rows, one per space
node (DESIGN.md, "State"). Collision operators and diagnostics act on whole blocks of rows.
"""
from __future__ import annotations

from functools import cached_property

import numpy as np

from dgkinetic.errors import InputError
from dgkinetic.species import Species
from dgkinetic.statistics import entropy_density, entropy_variable
from dgkinetic.velocity import VelocityGrid

__all__ = ["Mixture"]


class Mixture:
    """Species with one velocity grid each.

    Parameters
    ----------
    species
        The species (names unique).
    grids
        One :class:`VelocityGrid` per species, all of the same velocity dimension.
    """

    def __init__(self, species: list[Species], grids: list[VelocityGrid]):
        species, grids = list(species), list(grids)
        if not species:
            raise InputError("a mixture needs at least one species")
        if len(species) != len(grids):
            raise InputError(f"{len(species)} species but {len(grids)} velocity grids")
        names = [s.name for s in species]
        if len(set(names)) != len(names):
            raise InputError(f"species names must be unique, got {names}")
        if len({g.dim for g in grids}) != 1:
            raise InputError("all velocity grids must have the same dimension")
        if len({g.axisymmetric for g in grids}) != 1:
            raise InputError("velocity grids must be all axisymmetric or all Cartesian")
        self.species = species
        self.grids = grids
        self.dim = grids[0].dim
        sizes = [g.size for g in grids]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
        self.size = int(self.offsets[-1])

    def __len__(self):
        return len(self.species)

    def slices(self) -> list[slice]:
        """Column slice of each species in a state row."""
        return [slice(self.offsets[i], self.offsets[i + 1]) for i in range(len(self))]

    def split(self, X: np.ndarray) -> list[np.ndarray]:
        """Views of the species blocks of X (shape (..., size))."""
        return [X[..., s] for s in self.slices()]

    def index(self, name: str) -> int:
        for i, s in enumerate(self.species):
            if s.name == name:
                return i
        raise InputError(f"unknown species '{name}'; known: {[s.name for s in self.species]}")

    # --------------------------------------------------------------- per-node concatenated data
    @cached_property
    def weights(self) -> np.ndarray:
        """W_k of every column, shape (size,)."""
        return np.concatenate([g.weights for g in self.grids])

    @cached_property
    def velocities(self) -> np.ndarray:
        """v_k of every column, shape (size, d)."""
        return np.concatenate([g.nodes for g in self.grids])

    @cached_property
    def masses(self) -> np.ndarray:
        """m_i of every column, shape (size,)."""
        return np.concatenate([np.full(g.size, s.mass) for s, g in zip(self.species, self.grids)])

    @cached_property
    def alphas(self) -> np.ndarray:
        return np.concatenate([np.full(g.size, s.alpha) for s, g in zip(self.species, self.grids)])

    @cached_property
    def invariants(self) -> np.ndarray:
        """Collision invariants as columns: one number per species, m v along every momentum axis
        (all d, or v_par only on axisymmetric grids), m|v|²/2; shape (size, N + n_axes + 1)."""
        N = len(self)
        axes = list(self.grids[0].momentum_axes)
        cols = np.zeros((self.size, N + len(axes) + 1))
        for i, s in enumerate(self.slices()):
            cols[s, i] = 1.0
        cols[:, N:N + len(axes)] = self.masses[:, None] * self.velocities[:, axes]
        cols[:, -1] = 0.5 * self.masses * np.sum(self.velocities ** 2, axis=1)
        return cols

    def invariant_names(self) -> list[str]:
        g = self.grids[0]
        return ([f"number_{s.name}" for s in self.species]
                + [f"momentum_{g.axis_names[a]}" for a in g.momentum_axes] + ["energy"])

    def conserved(self, X: np.ndarray) -> np.ndarray:
        """Σ_k W_k ψ(v_k) X_k for every collision invariant ψ: shape (..., N+d+1)."""
        return X @ (self.weights[:, None] * self.invariants)

    def energy(self, X: np.ndarray) -> np.ndarray:
        """Kinetic energy density Σ_i m_i/2 Σ W |v|² f_i, shape X.shape[:-1]."""
        return self.conserved(X)[..., -1]

    # --------------------------------------------------------------- entropy
    def entropy_density(self, X: np.ndarray) -> np.ndarray:
        """H per space node: Σ_i Σ_k W_k h_i(f_k) (H decreases; S = −H)."""
        return sum(entropy_density(Xi, s.alpha) @ g.weights
                   for Xi, s, g in zip(self.split(X), self.species, self.grids))

    def entropy_variable(self, X: np.ndarray) -> np.ndarray:
        """η = log(f / τ(f)) column by column (requires a positive state)."""
        out = np.empty_like(X)
        for Xi, Oi, s in zip(self.split(X), self.split(out), self.species):
            Oi[...] = entropy_variable(Xi, s.alpha)
        return out
