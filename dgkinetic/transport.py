"""Free transport v·∇ₓf with DG upwind fluxes in space, one advection per velocity node.

Weak form on each cell K, for every velocity node v (PHYSICS.md §1, §4):

    ∫_K ∂t f φ = ∫_K f v·∇φ − Σ_{interior facets} ∫_F f̂ (v·n⁺)[φ] − ∫_{∂Ω} f̂ (v·n) φ,

f̂ the upwind trace (interior), or on the boundary the interior trace where v·n > 0 and the wall's
incoming distribution where v·n < 0. UFL cannot weight each component of the state by its own
velocity (DESIGN.md), so Firedrake assembles scalar operators once — the volume derivatives, the
traces onto a facet space, the facet integrals — and they are applied to the (dofs × velocity)
block with the velocity weights. Traces live in a facet space (vertex values in 1D, "HDiv
Trace" in 2D) whose functions represent a DG trace exactly on straight facets, so per-facet
upwinding by the sign of v·n_F is exact and walls act pointwise on facet nodes.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from mpi4py import MPI

import firedrake as fd
from dgkinetic.errors import InputError
from dgkinetic.phase_space import PhaseSpace
from dgkinetic.sparse_local import block_inverse, local_matrix
from dgkinetic.transport_kernel import FusedTransport
from dgkinetic.walls import Diffuse, Inflow, MaxwellWall, Outflow, Specular
from dgkinetic.equilibrium import equilibrium

__all__ = ["Transport", "Reemission", "global_norm"]


def global_norm(a: np.ndarray, comm) -> float:
    """Euclidean norm of an array distributed over the ranks of ``comm`` (collective).

    Parameters
    ----------
    a : ndarray
        This rank's part (rows owned here, so that no entry is counted twice).
    comm : mpi4py communicator

    Returns
    -------
    float
        √(Σ over ranks of Σ a²), the same on every rank.
    """
    return math.sqrt(comm.allreduce(float(np.sum(a * a))))


def _facet_space(mesh, degree):
    """Single-valued functions on facets able to hold a degree-p DG trace."""
    if mesh.topological_dimension == 1:
        return fd.FunctionSpace(mesh, "HDiv Trace", 0)   # facets are points: one value each
    return fd.FunctionSpace(mesh, "HDiv Trace", degree)


def _accommodation(wall) -> float:
    """The diffusely re-emitted share of a wall: 1 for Diffuse, a MaxwellWall's accommodation, else 0."""
    if isinstance(wall, Diffuse):
        return 1.0
    return wall.accommodation if isinstance(wall, MaxwellWall) else 0.0


def _padded(velocity, dim: int) -> np.ndarray:
    """A wall's velocity as a vector of the velocity space's ``dim`` components (missing ones 0)."""
    out = np.zeros(dim)
    out[:len(velocity)] = velocity
    return out


class _FacetSet:
    """Facet nodes of one measure (interior dS or boundary ds): trace maps, tests and normals."""

    def __init__(self, phase: PhaseSpace, T, interior: bool):
        V = phase.scalar_space
        u, v = fd.TrialFunction(V), fd.TestFunction(V)
        lam, mu = fd.TrialFunction(T), fd.TestFunction(T)
        n = fd.FacetNormal(phase.mesh)
        if interior:
            side = lambda e: e("+")
            meas = fd.dS
        else:
            side = lambda e: e
            meas = fd.ds
        M_T = local_matrix(side(lam) * side(mu) * meas, T, T)
        live = np.flatnonzero(np.diff(M_T.indptr) > 0)
        inv = block_inverse(M_T)[live]
        self.live = live
        # trace values of the state on facet nodes: G (n_facet_nodes × n_local dofs)
        if interior:
            self.plus = inv @ local_matrix(u("+") * mu("+") * meas, T, V)
            self.minus = inv @ local_matrix(u("-") * mu("+") * meas, T, V)
            test = local_matrix(fd.jump(v) * lam("+") * meas, V, T)
        else:
            self.plus = inv @ local_matrix(u * mu * meas, T, V)
            self.minus = None
            test = local_matrix(v * lam * meas, V, T)
        # facet integral against the test functions, mass inverted: (n_owned × n_facet_nodes)
        nown = V.dof_dset.size
        self.test = (phase.inverse_mass @ test)[:nown][:, live].tocsr()
        d = phase.dim
        normals = np.zeros((len(live), d))
        for a in range(d):
            w = fd.assemble(side(n)[a] * side(mu) * meas)
            normals[:, a] = inv @ np.asarray(w.dat.data_ro_with_halos)
        self.normals = normals
        # ∫ λ_μ over its facet: the quadrature weight of each facet node
        self.node_weights = np.asarray(fd.assemble(side(mu) * meas).dat.data_ro_with_halos)[live]
        # the same, 0 on the facet nodes another rank owns (a rank also sees its halo cells' facets):
        # rank-local sums with these weights add up over the ranks to each facet node once
        self.owned_weights = np.where(live < T.dof_dset.size, self.node_weights, 0.0)

    def markers(self, T, mesh, ids):
        """Boundary id of every (boundary) facet node; -1 where none."""
        mu = fd.TestFunction(T)
        out = np.full(len(self.live), -1, dtype=int)
        for i in ids:
            w = np.asarray(fd.assemble(mu * fd.ds(i)).dat.data_ro_with_halos)[self.live]
            out[np.abs(w) > 0] = i
        return out


@dataclass(frozen=True)
class Reemission:
    """The diffuse re-emission of one wall as a linear map of the outgoing boundary trace.

    On the wall's boundary facet nodes (``rows``) the gas that reaches the wall, the interior trace
    f̂ with v·n > 0, is re-emitted with accommodation a as a wall Maxwellian M_w (the wall's
    temperature and velocity, unnormalised: exp(−m|v − u_w|²/(2T_w))) of amplitude

        σ_i = −Σ_{k∈i} outgoing_k f̂_k / emitted_i,          per species i,

    so that the diffuse part returns the number it receives (zero net number flux when a = 1).
    Its incoming boundary flux (v·n) f on the node is a σ_i shape_k (k in species i); the
    remaining 1 − a is reflected specularly. The map is linear in f̂: it is the diffuse part of the
    wall's Jacobian.

    Attributes
    ----------
    wall : int
        The wall's boundary id.
    rows : ndarray of int, shape (n_rows,)
        The wall's nodes among the boundary facet nodes (rows of ``Transport.boundary``).
    accommodation : float
        a: 1 for a :class:`~dgkinetic.walls.Diffuse` wall, that of a
        :class:`~dgkinetic.walls.MaxwellWall`.
    outgoing : ndarray, shape (n_rows, size)
        W_k (v_k·n)⁺: Σ_{k∈i} outgoing_k f̂_k is species i's number flux into the wall.
    emitted : ndarray, shape (n_rows, n_species)
        Σ_{k∈i} W_k (v_k·n)⁻ M_w,k: the (negative) number flux of a unit-amplitude re-emission.
    shape : ndarray, shape (n_rows, size)
        (v_k·n)⁻ M_w,k: the incoming flux of a unit-amplitude re-emission.
    """

    wall: int
    rows: np.ndarray
    accommodation: float
    outgoing: np.ndarray
    emitted: np.ndarray
    shape: np.ndarray


class Transport:
    """The transport right-hand side −v·∇ₓf with walls.

    Parameters
    ----------
    phase
        The phase space.
    walls
        Boundary condition per boundary id of the mesh (:mod:`dgkinetic.walls`); every boundary
        id must have one (a periodic mesh has none).
    speed
        Factor on the transport (1/ε in the diffusive scaling), default 1.
    """

    def __init__(self, phase: PhaseSpace, walls: dict | None = None, speed: float = 1.0):
        self.phase = phase
        mix = phase.mixture
        if mix.grids[0].axisymmetric:
            raise InputError("transport needs Cartesian velocity grids; axisymmetric (v_perp, v_par) grids are "
                             "for spatially homogeneous runs")
        mesh = phase.mesh
        walls = dict(walls or {})
        has_boundary = mesh.comm.allreduce(mesh.exterior_facets.set.total_size) > 0
        ids = [int(i) for i in mesh.exterior_facets.unique_markers] if has_boundary else []
        unknown = sorted(set(walls) - set(ids), key=str)
        if unknown:
            raise InputError(f"unknown boundary id(s) {unknown}; this mesh has {sorted(ids)}")
        missing = sorted(set(ids) - set(walls))
        if missing:
            raise InputError(f"boundary id(s) {missing} have no wall condition; give one for each of {sorted(ids)}")
        self.walls = walls
        self.speed = float(speed)
        V = phase.scalar_space
        u, v = fd.TrialFunction(V), fd.TestFunction(V)
        dx = phase.dim
        # volume term ∫ f v·∇φ: one operator per space direction, mass inverted
        self.volume = [(phase.inverse_mass @ local_matrix(u * v.dx(a) * fd.dx, V, V))[:phase.n_owned].tocsr()
                       for a in range(dx)]
        vel = mix.velocities[:, :dx]                          # (size, d_x): only x-components advect
        self._vel = vel
        T = _facet_space(mesh, phase.degree)
        self.interior = _FacetSet(phase, T, interior=True)
        vn = self.interior.normals @ vel.T                     # (n_int_nodes, size)
        self._int_pos, self._int_neg = np.maximum(vn, 0.0), np.minimum(vn, 0.0)
        # boundary facet nodes: v·n per node and column (with its positive and negative parts) and
        # what each wall needs (Transport._setup_walls); None and empty without boundary
        self.boundary = None
        self._bnd_vn = self._bnd_pos = self._bnd_neg = None
        self._wall_rows = {}
        if ids:
            self.boundary = _FacetSet(phase, T, interior=False)
            self._bnd_vn, self._wall_rows = self._setup_walls(T, ids)
            self._bnd_pos = np.maximum(self._bnd_vn, 0.0)
            self._bnd_neg = np.minimum(self._bnd_vn, 0.0)
        self._fused = FusedTransport.build(self)

    # ------------------------------------------------------------------ walls
    def _setup_walls(self, T, ids) -> tuple[np.ndarray, dict]:
        """v·n on the boundary facet nodes (n_bnodes, size), and per wall id what applying it needs:
        its rows (facet nodes), the wall, and by kind the reflection permutation, the wall
        Maxwellian and its emitted flux, or the inflow state."""
        mix, b = self.phase.mixture, self.boundary
        marker = b.markers(T, self.phase.mesh, ids)
        vn = b.normals @ self._vel.T                           # (n_bnodes, size)
        neg = np.minimum(vn, 0.0)
        wall_rows = {}
        dv = mix.dim
        for wid, wall in self.walls.items():
            rows = np.flatnonzero(marker == wid)
            info = {"rows": rows, "wall": wall}
            nrm = b.normals[rows]
            if isinstance(wall, (Specular, MaxwellWall)) and len(rows):
                axis = np.argmax(np.abs(nrm), axis=1)
                if not np.allclose(np.abs(nrm[np.arange(len(rows)), axis]), 1.0, atol=1e-12):
                    raise InputError(f"wall {wid}: specular reflection needs walls normal to a coordinate "
                                     f"axis (reflected velocities must be grid nodes)")
                perms = [np.concatenate([g.reflection(a) + off for g, off in
                                         zip(mix.grids, mix.offsets[:-1])]) for a in range(self.phase.dim)]
                info["reflect"] = np.stack(perms)[axis]        # (nrows, size) column permutation per row
            if isinstance(wall, (Diffuse, MaxwellWall)):
                uw = _padded(wall.velocity, dv)
                if len(rows) and np.max(np.abs(nrm @ uw[:self.phase.dim])) > 1e-12 * max(1.0, np.abs(uw).max()):
                    raise InputError(f"wall {wid}: wall velocity must be tangential to the wall")
                # unnormalised wall Maxwellian of each species; σ fixes its density per facet node
                Mw = np.concatenate([np.exp(-s.mass * np.sum((g.nodes - uw) ** 2, axis=1) / (2 * wall.temperature))
                                     for s, g in zip(mix.species, mix.grids)])
                info["maxwellian"] = Mw
                # Σ_k W_k (v·n)⁻ M_w per species and row: the normalisation of the re-emitted flux
                info["emitted"] = np.stack([(neg[rows][:, sl] * (mix.weights * Mw)[sl]).sum(axis=1)
                                            for sl in mix.slices()], axis=1)
            if isinstance(wall, Inflow):
                if len(wall.density) != len(mix):
                    raise InputError(f"inflow wall {wid}: give one density per species ({len(mix)})")
                uin = _padded(wall.velocity, dv)
                info["state"] = np.concatenate([equilibrium(g, s, n, uin, wall.temperature)
                                                for s, g, n in zip(mix.species, mix.grids, wall.density)])
            wall_rows[wid] = info
        return vn, wall_rows

    def reemission(self) -> list[Reemission]:
        """The diffuse re-emission of every wall that has one, as linear maps of the outgoing trace.

        Returns
        -------
        list of Reemission
            One per :class:`~dgkinetic.walls.Diffuse` wall and per
            :class:`~dgkinetic.walls.MaxwellWall` with accommodation > 0, in the order of the
            walls given; empty without boundary. Rank-local: the rows are this rank's boundary
            facet nodes (a wall may have none here).
        """
        if self.boundary is None:
            return []
        W, out = self.phase.mixture.weights, []
        for wid, info in self._wall_rows.items():
            wall, rows = info["wall"], info["rows"]
            a = _accommodation(wall)
            if a == 0.0:
                continue
            out.append(Reemission(wall=wid, rows=rows, accommodation=a, outgoing=self._bnd_pos[rows] * W,
                                  emitted=info["emitted"], shape=self._bnd_neg[rows] * info["maxwellian"]))
        return out

    def _incoming(self, trace: np.ndarray) -> np.ndarray:
        """Boundary flux (v·n) f̂ on boundary facet nodes, given the interior trace (n_bnodes, size)."""
        mix = self.phase.mixture
        flux = self._bnd_pos * trace
        for info in self._wall_rows.values():
            rows, wall = info["rows"], info["wall"]
            if not len(rows):
                continue
            tr, neg = trace[rows], self._bnd_neg[rows]
            if isinstance(wall, Outflow):
                flux[rows] += neg * tr
                continue
            if isinstance(wall, Inflow):
                flux[rows] += neg * info["state"]
                continue
            f_in = np.zeros_like(tr)
            a = _accommodation(wall)
            if a < 1.0:
                # f(v) = f(Rv): the reflected node's trace value
                f_in += (1.0 - a) * np.take_along_axis(tr, info["reflect"], axis=1)
            if a > 0.0:
                out = self._bnd_pos[rows] * tr * mix.weights     # outgoing number flux density
                for i, sl in enumerate(mix.slices()):
                    sigma = -out[:, sl].sum(axis=1) / info["emitted"][:, i]
                    f_in[:, sl] += a * sigma[:, None] * info["maxwellian"][sl]
            flux[rows] += neg * f_in
        return flux

    # ------------------------------------------------------------------ application
    def rhs(self, X: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """dX/dt from transport, by the sparse operators.

        Parameters
        ----------
        X : ndarray, shape (n_local, size)
            The state's local rows, halos included.
        out : ndarray, shape (n_owned, size), optional
            Where to write the result (overwritten); a new array when omitted.

        Returns
        -------
        ndarray, shape (n_owned, size)
            dX/dt at the owned rows (``out`` if given).
        """
        out = np.zeros((self.phase.n_owned, X.shape[1])) if out is None else out
        out[...] = 0.0
        for a, D in enumerate(self.volume):
            out += (D @ X) * self._vel[:, a]
        fi = self.interior
        flux = self._int_pos * (fi.plus @ X) + self._int_neg * (fi.minus @ X)
        out -= fi.test @ flux
        if self.boundary is not None:
            out -= self.boundary.test @ self._incoming(self.boundary.plus @ X)
        if self.speed != 1.0:
            out *= self.speed
        return out

    def rhs_function(self, f: fd.Function, out: np.ndarray) -> np.ndarray:
        """:meth:`rhs` of a state Function; the compiled loop of :mod:`dgkinetic.transport_kernel` on
        axis-aligned meshes, the sparse operators otherwise.

        Parameters
        ----------
        f : Function
            The state (its halos are read).
        out : ndarray, shape (n_owned, size)
            Where to write dX/dt at the owned rows (overwritten).

        Returns
        -------
        ndarray
            ``out``.
        """
        if self._fused is None:
            return self.rhs(f.dat.data_ro_with_halos.reshape(-1, out.shape[1]), out)
        if out.flags.c_contiguous and out.dtype == np.float64:
            self._fused.apply(f.dat, out)
        else:
            out[...] = self._fused.apply(f.dat)
        if self.boundary is not None:
            self._subtract_boundary(f.dat.data_ro_with_halos.reshape(-1, out.shape[1]), out)
        return out

    def rhs_rows(self, rows: np.ndarray, work: fd.Function, out: np.ndarray) -> np.ndarray:
        """:meth:`rhs` of a state given by its owned rows, e.g. a time stepper's stage vector.

        The compiled loop reads the rows in place (``work`` only carries the halo exchange);
        otherwise the rows are copied into ``work`` first.

        Parameters
        ----------
        rows : ndarray, shape (n_owned, size)
            The state's owned rows.
        work : Function
            A scratch state on the phase space (its values may be overwritten).
        out : ndarray, shape (n_owned, size)
            Where to write dX/dt (overwritten).

        Returns
        -------
        ndarray
            ``out``.
        """
        if self._fused is None or not (out.flags.c_contiguous and out.dtype == np.float64):
            work.dat.data_wo[...] = rows.reshape(work.dat.data_wo.shape)
            return self.rhs_function(work, out)
        self._fused.apply_rows(rows, work.dat, out)
        if self.boundary is not None:
            cols, plus = self._boundary_columns
            n = self.phase.n_owned
            Xh = work.dat.data_ro_with_halos.reshape(-1, out.shape[1]) if np.any(cols >= n) else None
            X = rows[cols] if Xh is None else np.where((cols < n)[:, None], rows[np.minimum(cols, n - 1)], Xh[cols])
            self._subtract_boundary(X, out, plus)
        return out

    def _subtract_boundary(self, X: np.ndarray, out: np.ndarray, plus=None) -> None:
        """Subtract the walls' facet integrals from ``out`` at the owned rows a boundary facet touches.

        ``X`` is read by the trace operator ``plus``: the whole boundary trace (``boundary.plus``) of
        the local rows by default, or that of :attr:`_boundary_columns` of just the rows it reads.
        """
        brows, test = self._boundary_rows
        plus = self.boundary.plus if plus is None else plus
        out[brows] -= self.speed * (test @ self._incoming(plus @ X))

    def conserved_invariants(self) -> list[str]:
        """The collision invariants (names of :meth:`~dgkinetic.mixture.Mixture.invariant_names`)
        this transport conserves exactly with its walls.

        Every species' number, unless a wall is open (inflow, outflow); the energy, if every wall
        is specular (or there are none); the momentum along a velocity axis, if every wall is
        specular with its normal orthogonal to that axis (or there are none). Diffuse and Maxwell
        walls exchange momentum and energy with the gas. Collective (same list on every rank).

        Returns
        -------
        list of str
            The conserved invariants, in the order of ``invariant_names``.
        """
        mix = self.phase.mixture
        comm = self.phase.mesh.comm
        walls = list(self._wall_rows.values()) if self.boundary is not None else []
        open_ = any(isinstance(w["wall"], (Inflow, Outflow)) for w in walls)
        specular = all(isinstance(w["wall"], Specular) for w in walls)
        # largest |n_a| over the facet nodes of all walls, per space direction (0 where no wall)
        reach = np.zeros(mix.dim)
        for w in walls:
            if len(w["rows"]):
                reach[:self.phase.dim] = np.maximum(reach[:self.phase.dim],
                                                    np.abs(self.boundary.normals[w["rows"]]).max(axis=0))
        reach = comm.allreduce(reach, op=MPI.MAX)
        axes = mix.grids[0].axis_names
        keep = []
        for name in mix.invariant_names():
            if name.startswith("number_"):
                ok = not open_
            elif name == "energy":
                ok = specular
            else:
                ok = specular and reach[axes.index(name[len("momentum_"):])] < 1e-12
            if ok:
                keep.append(name)
        return keep

    def spectral_radius(self, iterations: int = 40, seed: int = 0) -> float:
        """Estimate of the largest |λ| of the (linear) transport operator, by power iteration.

        The operator is applied to a random state ``iterations`` times (walls included; an inflow
        wall's constant part is subtracted) and the last growth factor ‖Ax‖/‖x‖ is returned. For
        the non-normal upwind operator this factor approaches the largest |λ| from the side of the
        numerical radius, i.e. it errs towards a smaller stable step. Collective over the mesh's
        ranks (the same value on every rank).

        Parameters
        ----------
        iterations : int
            Power iterations.
        seed : int
            Seed of the random start (offset per rank).

        Returns
        -------
        float
            The estimate of the spectral radius (0 if the operator vanishes).
        """
        phase = self.phase
        comm = phase.mesh.comm
        n, size = phase.n_owned, phase.mixture.size
        work = phase.function("power_iteration")
        rng = np.random.default_rng(seed + 7919 * comm.rank)
        x = rng.standard_normal((n, size))
        out = np.empty((n, size))
        affine = self.rhs_rows(np.zeros((n, size)), work, np.empty((n, size)))

        growth = 0.0
        for _ in range(iterations):
            x /= global_norm(x, comm)
            y = self.rhs_rows(x, work, out) - affine
            growth = global_norm(y, comm)
            if growth == 0.0:
                return 0.0
            x = y
        return growth

    @cached_property
    def _boundary_columns(self):
        """The local rows the boundary traces read, and the trace operator restricted to them."""
        cols = np.unique(self.boundary.plus.nonzero()[1])
        return cols, self.boundary.plus[:, cols].tocsr()

    @cached_property
    def _boundary_rows(self):
        """The owned rows a boundary facet touches, and the boundary test operator restricted to them."""
        rows = np.unique(self.boundary.test.nonzero()[0])
        return rows, self.boundary.test[rows].tocsr()

    def parts(self, X: np.ndarray) -> dict[str, np.ndarray]:
        """The right-hand side split by origin; the parts add up to :meth:`rhs`.

        ``central``: volume term and interior facets with the average flux (v·n){f} — the
        antisymmetric (reversible) part; ``upwind``: the interior jump term ½|v·n|[f], the
        numerical dissipation; ``wall <id>``: each boundary's facets.

        Parameters
        ----------
        X : ndarray, shape (n_local, size)
            The state's local rows, halos included.

        Returns
        -------
        dict of str to ndarray
            Each part at the owned rows, (n_owned, size), times the transport speed.
        """
        fi = self.interior
        central = sum((D @ X) * self._vel[:, a] for a, D in enumerate(self.volume))
        vn = self._int_pos + self._int_neg
        fp, fm = fi.plus @ X, fi.minus @ X
        central = central - fi.test @ (0.5 * vn * (fp + fm))
        out = {"central": central,
               "upwind": -(fi.test @ (0.5 * (self._int_pos - self._int_neg) * (fp - fm)))}
        if self.boundary is not None:
            flux = self.boundary_flux(X)
            for wid, info in self._wall_rows.items():
                only = np.zeros_like(flux)
                only[info["rows"]] = flux[info["rows"]]
                out[f"wall {wid}"] = -(self.boundary.test @ only)
        return {k: self.speed * v for k, v in out.items()}

    def boundary_state(self, X: np.ndarray):
        """The outward normal velocity and the upwind state on the boundary facet nodes.

        Parameters
        ----------
        X : ndarray, shape (n_local, size)
            The state's local rows, halos included.

        Returns
        -------
        vn : ndarray, shape (n_bnodes, size)
            v·n, n the outward normal.
        fhat : ndarray, shape (n_bnodes, size)
            f̂: the interior trace going out (and where v·n = 0), the wall's distribution coming in.
        """
        trace = self.boundary.plus @ X
        flux = self._incoming(trace)
        vn = self._bnd_vn
        safe = np.where(vn != 0, vn, 1.0)
        return vn, np.where(vn != 0, flux / safe, trace)

    def wall_entropy_flux(self, X: np.ndarray) -> dict[str, float]:
        """Entropy leaving through each wall, Σ_μ ∫λ_μ Σ_k W_k (v·n) h(f̂) (rank-local sums).

        The outward entropy flux of the kinetic equation: S changes by minus it. Zero for a
        specular wall (the reflected and incident nodes pair up with equal weights).

        Parameters
        ----------
        X : ndarray, shape (n_local, size)
            The state's local rows, halos included.

        Returns
        -------
        dict of str to float
            Key ``wall <id>`` per wall: this rank's part of the flux, times the transport speed.
        """
        from dgkinetic.statistics import entropy_density
        mix = self.phase.mixture
        vn, fhat = self.boundary_state(X)
        h = np.empty_like(fhat)
        for Fi, Hi, s in zip(mix.split(fhat), mix.split(h), mix.species):
            Hi[...] = entropy_density(Fi, s.alpha)
        per_node = (vn * h) @ mix.weights * self.boundary.owned_weights
        return {f"wall {wid}": self.speed * float(np.sum(per_node[info["rows"]]))
                for wid, info in self._wall_rows.items()}

    def wall_fluxes(self, X: np.ndarray) -> dict[str, float]:
        """Outward fluxes through each wall (rank-local sums over the facet nodes this rank owns, so
        that their sum over the ranks is the wall's flux): per species the number, then the momentum
        components and the energy of the mixture.

        Parameters
        ----------
        X : ndarray, shape (n_local, size)
            The state's local rows, halos included.

        Returns
        -------
        dict of str to float
            Keys ``wall<id>_number_<species>``, ``wall<id>_momentum_<x|y|z>``, ``wall<id>_energy``;
            e.g. on a wall normal to x, ``momentum_y`` is the shear stress P_xy times the wall's
            area and ``energy`` its heat flux. Empty without boundary.
        """
        mix = self.phase.mixture
        out = {}
        if self.boundary is None:
            return out
        flux = self.boundary_flux(X) * mix.weights * self.boundary.owned_weights[:, None] * self.speed
        v = mix.velocities
        for wid, info in self._wall_rows.items():
            F = flux[info["rows"]].sum(axis=0)
            for s, sl in zip(mix.species, mix.slices()):
                out[f"wall{wid}_number_{s.name}"] = float(F[sl].sum())
            for a in range(mix.dim):
                out[f"wall{wid}_momentum_{'xyz'[a]}"] = float(F @ (mix.masses * v[:, a]))
            out[f"wall{wid}_energy"] = float(F @ (0.5 * mix.masses * np.sum(v ** 2, axis=1)))
        return out

    def boundary_flux(self, X: np.ndarray) -> np.ndarray:
        """Net outward flux density (v·n) f̂ at each boundary facet node, per column.

        Parameters
        ----------
        X : ndarray, shape (n_local, size)
            The state's local rows, halos included.

        Returns
        -------
        ndarray, shape (n_bnodes, size)
            (v·n) f̂, not yet weighted by the nodes' facet quadrature weights
            (``boundary.node_weights``) nor by the transport speed; (0, size) without boundary.
        """
        if self.boundary is None:
            return np.zeros((0, X.shape[1]))
        return self._incoming(self.boundary.plus @ X)
