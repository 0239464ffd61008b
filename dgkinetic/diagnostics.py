"""Space-integrated diagnostics of a state: invariants, entropy, species moments.

Integrals over space use the DG node volumes ∫φ_r dx, which makes them exact for every quantity
linear in f (number, momentum, energy) and defines the discrete entropy Σ_r (∫φ_r) H_r.
All reductions are collective over the mesh communicator.
"""
from __future__ import annotations

import numpy as np
from mpi4py import MPI

from dgkinetic.moments import number_density, momentum_density, energy_density
from dgkinetic.phase_space import PhaseSpace

__all__ = ["Diagnostics"]


class Diagnostics:
    """Named scalar diagnostics of a phase-space state (owned rows).

    Parameters
    ----------
    phase
        The phase space.
    """

    def __init__(self, phase: PhaseSpace):
        self.phase = phase
        self.comm = phase.mesh.comm
        self.volumes = phase.node_volumes

    def rows(self, f) -> np.ndarray:
        """Owned rows of a state Function (n_owned, size), read-only view."""
        return f.dat.data_ro.reshape(self.phase.n_owned, self.phase.mixture.size)

    def integrate(self, per_node: np.ndarray) -> np.ndarray:
        """Σ_r (∫φ_r) q_r over all ranks; per_node has shape (n_owned, ...)."""
        local = np.tensordot(self.volumes, per_node, axes=(0, 0))
        return np.asarray(self.comm.allreduce(np.asarray(local, dtype=float), op=MPI.SUM))

    def invariants(self, X: np.ndarray) -> dict[str, float]:
        """Per-species number, total momentum per direction, total energy."""
        mix = self.phase.mixture
        vals = self.integrate(mix.conserved(X))
        return dict(zip(mix.invariant_names(), map(float, vals)))

    def entropy(self, X: np.ndarray) -> float:
        """H = Σ_r (∫φ_r) Σ_i Σ_k W h_i(f) (non-increasing; S = −H)."""
        return float(self.integrate(self.phase.mixture.entropy_density(X)))

    def species_table(self, X: np.ndarray) -> dict[str, float]:
        """Per-species mass, momentum, kinetic energy and mean temperature over the domain."""
        mix = self.phase.mixture
        out = {}
        for Xi, s, g in zip(mix.split(X), mix.species, mix.grids):
            n = self.integrate(number_density(Xi, g))
            p = self.integrate(momentum_density(Xi, g, s))
            e = self.integrate(energy_density(Xi, g, s))
            out[f"mass_{s.name}"] = float(s.mass * n)
            for a in range(mix.dim):
                out[f"momentum_{s.name}_{'xyz'[a]}"] = float(p[a])
            out[f"energy_{s.name}"] = float(e)
            # temperature of the species as a whole: (2/d)(E − |P|²/(2 m n)) / n, with d the physical
            # velocity dimension (3 on an axisymmetric grid, as in moments.temperature)
            d = g.physical_dim
            out[f"temperature_{s.name}"] = float(2.0 * (e - np.dot(p, p) / (2 * s.mass * n)) / (d * n))
        return out

    def collisions_limited(self, collisions, X: np.ndarray) -> dict[str, float]:
        """``collisions_limited_<index>`` for each (operator, rate) pair of ``collisions``: the fraction
        of the collision work over the domain that the operator's limiting mechanism (tail floor,
        positive parts) dropped or changed, Σ_r (∫φ_r) limited_r / Σ_r (∫φ_r) total_r from
        :meth:`~dgkinetic.collisions.base.CollisionOperator.limited_work`; 0 without one. X: positive rows."""
        out = {}
        for index, (op, _) in enumerate(collisions):
            parts = op.limited_work(X)
            value = 0.0
            if parts is not None:
                limited, total = (float(self.integrate(p)) for p in parts)
                value = limited / total if total > 0 else 0.0
            out[f"collisions_limited_{index}"] = value
        return out

    def all(self, X: np.ndarray) -> dict[str, float]:
        out = self.invariants(X)
        out["entropy"] = self.entropy(X)
        out.update(self.species_table(X))
        return out
