"""Steady states solved directly: Newton–Krylov on the kinetic residual, preconditioned by a transport sweep.

The steady state of ∂f/∂t = F(f) = T f + Σ_c r_c C_c(f) (T the transport with its walls, r_c the
collision rates) solves F(f) = 0. Diffuse walls and collisions conserve every species' number, so F
has one null direction per species (steady states come in a family indexed by the numbers); the
solver pins the numbers to those of the initial state, N_i⁰, by solving

    F̃(f) = F(f) + ε Σ_i (N_i(f) − N_i⁰) g_i = 0,      g_i = (species i of f⁰)/N_i⁰,

whose every solution has N_i = N_i⁰ (each term of F integrates to zero over phase space) and hence
F = 0. ε is the inverse transit time max|v_a|/ℓ (ℓ the length of the domain, the square root of its area in 2D).

Newton's method on F̃ runs in PETSc SNES (options prefix ``dgk_steady_``: every SNES/KSP option
applies, e.g. ``-dgk_steady_snes_monitor``, ``-dgk_steady_ksp_type fgmres``) with matrix-free
Jacobian-vector products (finite differences of F̃, PETSc's MFFD) and GMRES, preconditioned by

    P = T − ν + (re-emission by diffuse walls) + (the number terms),

the exact Jacobian of the transport with its walls and of the loss term −ν f of the collisions
with their collision frequency ν(x, v) frozen at the Newton iterate. P is, velocity node by velocity
node, one advection–absorption problem in space ("a transport sweep"): a dense n_x × n_x block per
velocity node (on an interval or a 2D mesh: upwind facet fluxes by v·n), inverted once per Newton step
for all nodes at once (size × n_x² doubles: refused with one line above :data:`SWEEP_MEMORY_LIMIT`); the diffuse
re-emission (each wall's re-emitted density is a linear functional of what reaches it) and the number
terms are corrections of rank (wall nodes + 1) × species, applied by the Woodbury identity. In the
free-molecular limit P is the Jacobian itself and Newton converges in one step; with collisions,
GMRES supplies the linearised gain. The collision frequency comes from operators that give it
(:meth:`~dgkinetic.collisions.base.CollisionOperator.loss_frequency`: the spectral form); for the
others P is the transport alone.

Cost is counted in kinetic sweeps: one evaluation of F (transport and collisions at every space
node) per Jacobian-vector product, plus one per Newton step; :attr:`SteadySolver.stats` holds them.

Scope: interval meshes (the channel) and small 2D meshes (the cavity: 64 space nodes × 12³
velocity nodes, 57 MB of blocks, Kn = 1 in 16 sweeps). In parallel the collisions, which are almost all of the cost,
are spread over the ranks by space node (``comm``); the rest is repeated on every rank. Walls other
than diffuse (and the diffuse part of Maxwell's) enter P as absorbing; they stay exact in F.
"""
from __future__ import annotations

import math
import time
import weakref

import numpy as np
import petsctools
import scipy.sparse as sparse
from mpi4py import MPI
from petsc4py import PETSc

from dgkinetic.errors import InputError, NonPhysicalStateError
from dgkinetic.log import logger
from dgkinetic.solver import KineticProblem, command_line_options, weak_callback
from dgkinetic.transport import Transport

__all__ = ["SteadySolver", "STEADY_PARAMETERS", "STEADY_PREFIX"]

STEADY_PREFIX = "dgk_steady_"

#: bytes the sweep's dense blocks and their inverses may take (size × n_x² doubles each)
SWEEP_MEMORY_LIMIT = 4 * 2 ** 30

#: defaults: Newton with full steps, GMRES to a relative 1e-2 (Eisenstat–Walker tightens it as
#: Newton converges), residual reduced by 1e-6 (the steady target of the channel benchmarks)
STEADY_PARAMETERS = {"snes_type": "newtonls", "snes_linesearch_type": "basic", "snes_rtol": 1e-6,
                     "snes_atol": 1e-13, "snes_stol": 0.0, "snes_mf_operator": None, "snes_max_it": 30,
                     "snes_ksp_ew": None,
                     "ksp_type": "gmres", "ksp_gmres_restart": 60, "ksp_max_it": 200,
                     "ksp_rtol": 1e-2, "mat_mffd_type": "ds"}


class _Handle:
    """Context of the preconditioning matrix handle (never applied)."""

    def mult(self, mat, x, y):
        raise NotImplementedError("the steady preconditioner is applied by its PC, not as a matrix")


def _facet_blocks(test, trace, weights: np.ndarray, n: int) -> np.ndarray:
    """Σ_f weights[f, k] test[:, f] trace[f, :n] for every column k: (size, n, n) dense blocks.

    ``test`` (n × F) and ``trace`` (F × N) are the sparse maps of a facet set; every facet node f
    contributes the outer product of its test column and trace row (a few entries each), gathered
    once into a sparse (n², F) matrix and applied to all columns at once."""
    tc, tr = test.tocsc(), trace[:, :n].tocsr()
    idx, val, col = [], [], []
    for f in range(tc.shape[1]):
        ti, tv = tc.indices[tc.indptr[f]:tc.indptr[f + 1]], tc.data[tc.indptr[f]:tc.indptr[f + 1]]
        pj, pv = tr.indices[tr.indptr[f]:tr.indptr[f + 1]], tr.data[tr.indptr[f]:tr.indptr[f + 1]]
        idx.append((ti[:, None] * n + pj[None, :]).ravel())
        val.append((tv[:, None] * pv[None, :]).ravel())
        col.append(np.full(len(ti) * len(pj), f))
    G = sparse.csr_matrix((np.concatenate(val), (np.concatenate(idx), np.concatenate(col))), shape=(n * n, tc.shape[1]))
    return np.ascontiguousarray((G @ weights).T).reshape(-1, n, n)


class _Sweep:
    """P⁻¹ of the module docstring: per-velocity dense blocks plus a Woodbury correction."""

    def __init__(self, solver: "SteadySolver"):
        self.solver = weakref.proxy(solver)     # PETSc holds this object: no cycle through it
        tr, mix = solver.transport, solver.mixture
        speed = tr.speed
        n = solver.n
        # T_k of velocity node k: Σ_a v_a D_a minus the upwind facet fluxes; walls absorb (the
        # re-emission below), so a boundary facet node only lets out what reaches it
        vel = tr._vel                                                             # (size, d_x)
        blocks = np.einsum("ka,anm->knm", vel, np.array([D.toarray()[:, :n] for D in tr.volume]))
        fi, b = tr.interior, tr.boundary
        blocks -= _facet_blocks(fi.test, fi.plus, tr._int_pos, n)
        blocks -= _facet_blocks(fi.test, fi.minus, tr._int_neg, n)
        if b is not None:
            blocks -= _facet_blocks(b.test, b.plus, tr._bnd_pos, n)
        self._base = speed * blocks                                               # (size, n, n)
        # low-rank terms P = P0 + Σ_c u_c v_cᵀ: diffuse re-emission, then the number terms
        U, V = [], []
        W = mix.weights
        if b is not None:
            test, plus = b.test.toarray()[:n], b.plus.toarray()[:, :n]
            for em in tr.reemission():
                a = em.accommodation
                for q, r in enumerate(em.rows):
                    for i, sl in enumerate(mix.slices()):
                        u = np.zeros((n, mix.size))
                        u[:, sl] = -speed * a * test[:, r, None] * em.shape[q, sl][None]
                        v = np.zeros((n, mix.size))
                        v[:, sl] = -plus[r][:, None] * em.outgoing[q, sl][None] / em.emitted[q, i]
                        U.append(u)
                        V.append(v)
        for i, sl in enumerate(mix.slices()):
            u = np.zeros((n, mix.size))
            u[:, sl] = solver.pin_rate * solver._shape[:, sl]
            v = np.zeros((n, mix.size))
            v[:, sl] = solver.node_volumes[:, None] * W[sl][None]
            U.append(u)
            V.append(v)
        self.U, self.V = np.array(U), np.array(V)                                 # (m, n, size)
        # factors of the current Newton step (:meth:`update`): P0⁻¹ blocks, P0⁻¹ U, capacitance⁻¹
        self._inv = self._Z = self._cap = None

    def update(self, nu: np.ndarray | None) -> None:
        """Factor P0 = T_vac − ν (ν: (n, size) or None) and the Woodbury capacitance matrix."""
        blocks = self._base.copy()
        if nu is not None:
            idx = np.arange(self.solver.n)
            blocks[:, idx, idx] -= nu.T
        self._inv = np.linalg.inv(blocks)
        self._Z = np.array([self._p0_solve(u) for u in self.U])                  # P0⁻¹ U
        cap = np.eye(len(self.U)) + np.einsum("anv,bnv->ab", self.V, self._Z)
        self._cap = np.linalg.inv(cap)

    def _p0_solve(self, B: np.ndarray) -> np.ndarray:
        return np.einsum("kij,jk->ik", self._inv, B)

    def solve(self, B: np.ndarray) -> np.ndarray:
        Y = self._p0_solve(B)
        coef = self._cap @ np.einsum("anv,nv->a", self.V, Y)
        return Y - np.tensordot(coef, self._Z, axes=1)

    # PETSc PCPYTHON interface
    def apply(self, pc, x, y):
        s = self.solver
        s.stats["preconditioner_applications"] += 1
        R = x.getArray(readonly=True).reshape(s.n, s.size)
        if s.moments is None:
            y.setArray(self.solve(R).ravel())
            return
        w = s.moments.solve(R)                              # coarse (moment) correction first
        y.setArray((w + self.solve(R - s.moments.apply_jacobian(w))).ravel())


def _moment_functions(c: np.ndarray, dim: int) -> np.ndarray:
    """The 13 (3V) or 8 (2V) functions of the peculiar velocity c (…, dim) spanning the trial space of
    the moment correction: 1, c, |c|², the traceless c c, c |c|²; shape (m, …)."""
    c2 = np.sum(c ** 2, axis=-1)
    out = [np.ones_like(c2)] + [c[..., a] for a in range(dim)] + [c2]
    out += [c[..., a] * c[..., b] for a in range(dim) for b in range(a + 1, dim)]
    out += [c[..., a] ** 2 - c[..., a + 1] ** 2 for a in range(dim - 1)]
    out += [c[..., a] * c2 for a in range(dim)]
    return np.array(out)


class _Moments:
    """The moment (coarse) correction of the preconditioner.

    Trial space: at every space node j and species i, ψ_a(c) M_ij with M_ij the local Maxwellian of
    species i and ψ_a the 13 (3V) moment functions of Grad's closure (:func:`_moment_functions`);
    test space: the moments Σ_k W_k ψ_a(c_k) r_k at each node. The coarse matrix A = Ψᵀ J Z holds the
    transport with its walls exactly and the collisions linearised on Z, built once, at the first
    Newton step, by one finite difference per species and group of moment functions (momentum,
    energy, stress, heat flux; one species conserves the first two), the group's other functions
    taking the rotated response (:meth:`_isotropic`; on the main demo's Ar–Kr mixture 34 kinetic
    sweeps instead of 49 with one difference per function, the same Newton steps):
    the viscous stress and heat flux relax at the operator's own rates, so A is a discrete
    13-moment system, close to Navier–Stokes–Fourier at small Knudsen numbers — where the sweep alone
    is weakest (the hydrodynamic modes, which collisions do not damp). Applied before the sweep:
    y = w + P⁻¹(r − J w), w = Z A⁻¹ Ψᵀ r (a multiplicative two-level method)."""

    def __init__(self, solver: "SteadySolver"):
        self.solver = weakref.proxy(solver)     # PETSc holds this object: no cycle through it
        self._collision_part = None
        # of the current Newton step (:meth:`update`): trial and test functions (m, n, size), the
        # collisions on the trial functions, A⁻¹, m, and the coefficients of the last :meth:`solve`
        self.Z = self.Psi = self.CZ = self.A = self._coef = None
        self.m = 0

    def update(self, X: np.ndarray) -> None:
        s, mix = self.solver, self.solver.mixture
        n, dim, S = s.n, mix.dim, len(mix)
        W = mix.weights
        Z, Psi = [], []                                       # per (species, function): (n, size)
        for i, (sp, g, sl) in enumerate(zip(mix.species, mix.grids, mix.slices())):
            Xi = X[:, sl]
            dens = np.maximum(Xi @ g.weights, 1e-300)
            u = (Xi * g.weights) @ g.nodes / dens[:, None]
            c = g.nodes[None, :, :] - u[:, None, :]
            T = np.maximum(sp.mass * np.sum(Xi * g.weights * np.sum(c ** 2, axis=2), axis=1) / (dim * dens), 1e-300)
            scale = np.sqrt(T / sp.mass)[:, None, None]
            psi = _moment_functions(c / scale, dim)           # (m, n, n_v)
            M = dens[:, None] * (sp.mass / (2 * np.pi * T[:, None])) ** (dim / 2) * np.exp(
                -sp.mass * np.sum(c ** 2, axis=2) / (2 * T[:, None]))
            for a in range(len(psi)):
                z, t = np.zeros((n, mix.size)), np.zeros((n, mix.size))
                z[:, sl], t[:, sl] = psi[a] * M, psi[a] * W[sl]
                Z.append(z)
                Psi.append(t)
        self.Z, self.Psi = np.array(Z), np.array(Psi)        # (m, n, size)
        m = len(Z)
        sweep = s._sweep
        # transport (vacuum part): A[a, j, b, l] = Σ_k Ψ_a[j,k] T_k[j,l] Z_b[l,k]
        A = np.empty((m, n, m, n))
        for b in range(m):
            E = sweep._base * self.Z[b].T[:, None, :]         # (k, j, l)
            A[:, :, b, :] = np.matmul(self.Psi.transpose(1, 0, 2), E.transpose(1, 0, 2)).transpose(1, 0, 2)
        # walls and number terms (low rank)
        left = np.einsum("anv,cnv->can", self.Psi, sweep.U)
        right = np.einsum("cnv,bnv->cbn", sweep.V, self.Z)
        A += np.einsum("caj,cbl->ajbl", left, right)
        # collisions: node-local, built once
        if self._collision_part is None and s.collisions:
            self._collision_part = self._isotropic(X, dim, S)
        elif self._collision_part is None:
            self._collision_part = np.zeros_like(self.Z)
        self.CZ = self._collision_part
        idx = np.arange(n)
        A[:, idx, :, idx] += np.einsum("ajk,bjk->jab", self.Psi, self.CZ)
        self.A = np.linalg.inv(A.reshape(m * n, m * n))
        self.m = m

    def _isotropic(self, X: np.ndarray, dim: int, S: int) -> np.ndarray:
        """C'(X) Z_b by one finite difference per species and group of moment functions (stress and
        heat flux, and for a mixture momentum and energy: in 3V 2 for one species instead of 8, 4 per
        species of a mixture instead of 12).
        The group's first function p is probed exactly; the others take p's response rotated: its
        Galerkin coefficients on every species' vector functions (momentum and heat flux, which the
        exchange of momentum couples: thermal diffusion) or tensor functions (the stress) move from
        the first component to the function's own. An isotropic operator at a locally isotropic state
        responds that way; the grid's cubic anisotropy and the rest are left to the Krylov iterations."""
        s, m = self.solver, len(self.Z)
        per = m // S
        n_stress = dim * (dim - 1) // 2 + dim - 1
        mom, heat = list(range(1, dim + 1)), list(range(dim + 2 + n_stress, per))
        stress = list(range(dim + 2, dim + 2 + n_stress))
        blocks = [slice(j * per, (j + 1) * per) for j in range(S)]
        grams = [np.einsum("anv,bnv->nab", self.Psi[b], self.Z[b]) for b in blocks]    # per species (n, per, per)
        base = s.collision_rhs(X)
        CZ = np.zeros_like(self.Z)
        for i in range(S):
            groups = [(stress, (stress,)), (heat, (mom, heat))]
            if S > 1:                             # one species conserves its momentum and energy
                groups += [(mom, (mom, heat)), ([dim + 1], ())]
            for group, moves in groups:
                probe = i * per + group[0]
                h = 1e-7 * np.linalg.norm(X) / max(np.linalg.norm(self.Z[probe]), 1e-300)
                R = (s.collision_rhs(X + h * self.Z[probe]) - base) / h
                CZ[probe] = R
                if len(group) == 1:                # the energy: nothing to rotate
                    continue
                for j, (b, G) in enumerate(zip(blocks, grams)):
                    coef = np.linalg.solve(G, np.einsum("anv,nv->na", self.Psi[b], R)[..., None])[..., 0]
                    for k in range(1, len(group)):
                        for target in moves:
                            CZ[i * per + group[k]] += np.einsum("n,nv->nv", coef[:, target[0]],
                                                                self.Z[j * per + target[k]])
        return CZ

    def solve(self, R: np.ndarray) -> np.ndarray:
        """w = Z A⁻¹ Ψᵀ R."""
        coef = (self.A @ np.einsum("anv,nv->an", self.Psi, R).ravel()).reshape(self.m, -1)
        self._coef = coef
        return np.einsum("an,anv->nv", coef, self.Z)

    def apply_jacobian(self, w: np.ndarray) -> np.ndarray:
        """J w for w = Z coef of the last :meth:`solve`: exact transport and number terms, the
        collisions from the stored Z columns."""
        s = self.solver
        out = s.transport.rhs(w) + np.einsum("an,anv->nv", self._coef, self.CZ)
        dN = s.numbers(w)
        for i, sl in enumerate(s.mixture.slices()):
            out[:, sl] += s.pin_rate * dN[i] * s._shape[:, sl]
        return out


class SteadySolver:
    """The steady state of a :class:`~dgkinetic.solver.KineticProblem` by Newton–Krylov (module docstring).

    Parameters
    ----------
    problem
        Phase space (interval or small 2D mesh), initial guess (its species numbers are kept), walls, collisions.
    solver_parameters
        SNES/KSP/MFFD options over :data:`STEADY_PARAMETERS`; the command line under
        ``options_prefix`` wins.
    options_prefix
        Default ``dgk_steady_``.
    moment_correction
        Use the moment (coarse) correction in the preconditioner (default; module docstring).
    comm
        Ranks that share the collision evaluations (default: this rank alone). The problem's mesh
        lives on COMM_SELF on every rank; each rank evaluates the collisions of its share of the
        space nodes, and the rest (transport, sweeps, Newton) is repeated identically on every rank.

    After :meth:`solve`, :attr:`state` holds the steady state and :attr:`stats` the Newton and
    Krylov iterations, the kinetic sweeps (evaluations of the residual), the preconditioner
    applications and the final residual relative to the initial one.
    """

    def __init__(self, problem: KineticProblem, solver_parameters: dict | None = None,
                 options_prefix: str = STEADY_PREFIX, moment_correction: bool = True, comm=None):
        phase = problem.phase
        if phase.mesh.comm.size != 1:
            raise InputError("steady solver: build the mesh on COMM_SELF (every rank holds the whole mesh); "
                             "the collision work is spread over the ranks of `comm`")
        if problem.transport_speed == 0:
            raise InputError("steady solver: a homogeneous problem's steady state is its equilibrium; "
                             "use dgkinetic.equilibrium")
        self.problem, self.phase, self.mixture = problem, phase, phase.mixture
        self.transport = Transport(phase, problem.walls, problem.transport_speed)
        self.collisions = list(problem.collisions)
        self.n, self.size = phase.n_owned, self.mixture.size
        #: the ranks that share the collision work (each evaluates a contiguous share of the space
        #: nodes; everything else is repeated on every rank, with identical results)
        self.comm = MPI.COMM_SELF if comm is None else comm
        shares = np.array_split(np.arange(self.n), self.comm.size)
        self._row_counts = np.array([len(a) for a in shares])
        start = int(self._row_counts[:self.comm.rank].sum())
        self._my_rows = slice(start, start + int(self._row_counts[self.comm.rank]))
        if self.comm.size > self.n:
            raise InputError(f"steady solver: {self.comm.size} ranks for {self.n} space nodes; use at most {self.n}")
        self.node_volumes = np.asarray(phase.node_volumes)
        self.state = problem.initial.copy(deepcopy=True)
        self.state.rename("f")
        X0 = self.rows.copy()
        mix = self.mixture
        self.numbers0 = self.numbers(X0)
        if np.any(self.numbers0 <= 0):
            raise InputError("steady solver: every species needs a positive number in the initial state")
        self._shape = np.zeros_like(X0)
        for i, sl in enumerate(mix.slices()):
            self._shape[:, sl] = X0[:, sl] / self.numbers0[i]
        length = float(self.node_volumes.sum()) ** (1.0 / phase.dim)          # the domain's size
        self.pin_rate = problem.transport_speed * float(np.max(np.abs(mix.velocities[:, :phase.dim]))) / length
        prefix = options_prefix if options_prefix.endswith("_") else options_prefix + "_"
        user = {k.lower(): v for k, v in petsctools.flatten_parameters(solver_parameters or {}).items()}
        params = {**STEADY_PARAMETERS, **user}
        self.parameters = {**params, **command_line_options(prefix)}
        self._last_collisions = None          # (state, Σ rate C(state)) of the last evaluation
        self.stats = {"newton_iterations": 0, "linear_iterations": 0, "sweeps": 0,
                      "preconditioner_applications": 0, "residual": math.nan, "wall_time": 0.0}
        need = 2 * 8 * self.size * self.n ** 2
        if need > SWEEP_MEMORY_LIMIT:
            raise InputError(f"steady solver: the transport sweep's dense blocks need {need / 2 ** 30:.1f} GiB "
                             f"({self.n} space nodes squared × {self.size} velocity nodes × 2) above the "
                             f"{SWEEP_MEMORY_LIMIT / 2 ** 30:.0f} GiB limit; use fewer space nodes or time stepping")
        self._sweep = _Sweep(self)
        #: the moment correction of the preconditioner (option ``moment_correction``, default on with collisions)
        self.moments = _Moments(self) if (moment_correction and self.collisions) else None

        snes = PETSc.SNES().create(comm=PETSc.COMM_SELF)
        self._x = PETSc.Vec().createSeq(self.n * self.size, comm=PETSc.COMM_SELF)
        # callbacks and the PC's context reach the solver through weak references (weak_callback)
        snes.setFunction(weak_callback(self._residual), self._x.duplicate())
        # the operator is PETSc's matrix-free finite-difference Jacobian (snes_mf_operator); the
        # preconditioning "matrix" is only a handle: the sweep holds its factors itself
        N = self.n * self.size
        P = PETSc.Mat().createPython([N, N], context=_Handle(), comm=PETSc.COMM_SELF)
        P.setUp()
        snes.setJacobian(weak_callback(self._jacobian), P, P)
        pc = snes.getKSP().getPC()
        pc.setType(PETSc.PC.Type.PYTHON)
        pc.setPythonContext(self._sweep)
        petsctools.attach_options(snes, parameters=params, options_prefix=prefix)
        petsctools.set_from_options(snes)
        self.snes = snes

    # ------------------------------------------------------------------ pieces
    @property
    def rows(self) -> np.ndarray:
        """Current state, (n_nodes, mixture.size)."""
        return self.state.dat.data_ro.reshape(self.n, self.size)

    def numbers(self, X: np.ndarray) -> np.ndarray:
        """Number of each species in the state rows X (shape (n, size)): Σ_x vol Σ_k W_k X."""
        W = self.mixture.weights
        return np.array([self.node_volumes @ (X[:, sl] @ W[sl]) for sl in self.mixture.slices()])

    def collision_rhs(self, X: np.ndarray) -> np.ndarray:
        """Σ rate × C(X), (n, size); counted as a kinetic sweep (a repeated call at the state of the last
        one returns its result: SNES evaluates F at the initial state, and so does the first Jacobian).
        Each rank of :attr:`comm` evaluates its share of the space nodes and every rank receives all
        of them."""
        if self._last_collisions is not None and np.array_equal(X, self._last_collisions[0]):
            return self._last_collisions[1].copy()
        self.stats["sweeps"] += 1
        mine = self._my_rows
        local = np.zeros((mine.stop - mine.start, self.size))
        for op, rate in self.collisions:
            if rate:
                local += rate * op.rhs(X[mine])
        if self.comm.size == 1:
            out = local
        else:
            out = np.empty_like(X)
            counts = self._row_counts * self.size
            self.comm.Allgatherv(local, [out, counts, np.concatenate([[0], np.cumsum(counts)[:-1]]), MPI.DOUBLE])
        self._last_collisions = (np.array(X, copy=True), out.copy())
        return out

    def residual(self, X: np.ndarray) -> np.ndarray:
        """F̃(X) of the module docstring, (n, size)."""
        out = self.transport.rhs(X) + self.collision_rhs(X)
        dN = self.numbers(X) - self.numbers0
        for i, sl in enumerate(self.mixture.slices()):
            out[:, sl] += self.pin_rate * dN[i] * self._shape[:, sl]
        return out

    def _residual(self, snes, x, F):
        X = x.getArray(readonly=True).reshape(self.n, self.size)
        R = self.residual(X)
        if not np.all(np.isfinite(R)):
            raise NonPhysicalStateError("steady solver: the residual is not finite")
        F.setArray(R.ravel())

    def _jacobian(self, snes, x, J, P):
        J.assemble()                                   # sets the base point of the matrix-free operator
        X = x.getArray(readonly=True).reshape(self.n, self.size)
        nu = None
        for op, rate in self.collisions:
            part = op.loss_frequency(X) if rate else None
            if part is not None:
                nu = rate * part if nu is None else nu + rate * part
        self._sweep.update(nu)
        if self.moments is not None:
            self.moments.update(X)

    # ------------------------------------------------------------------ solve
    def solve(self):
        """Newton–Krylov from the current state to the steady state; returns the state Function.

        Raises :class:`NonPhysicalStateError` if SNES does not converge."""
        start = time.perf_counter()
        self._x.setArray(self.rows.ravel())
        F0 = self.residual(self.rows)
        r0 = float(np.linalg.norm(F0))
        with petsctools.inserted_options(self.snes):
            self.snes.solve(None, self._x)
        self.stats["wall_time"] += time.perf_counter() - start
        self.stats["newton_iterations"] += self.snes.getIterationNumber()
        self.stats["linear_iterations"] += self.snes.getLinearSolveIterations()
        X = self._x.getArray(readonly=True).reshape(self.n, self.size).copy()
        # the pinned numbers hold to the solver's tolerance; a rescaling of each species (a change
        # of that size) makes them exact
        for i, sl in enumerate(self.mixture.slices()):
            X[:, sl] *= self.numbers0[i] / self.numbers(X)[i]
        self.state.dat.data[:] = X.reshape(self.state.dat.data.shape)
        self.stats["residual"] = float(self.snes.getFunctionNorm()) / r0 if r0 > 0 else 0.0
        reason = self.snes.getConvergedReason()
        logger.debug("steady solve: %s (reason %s)", self.stats, reason)
        if reason < 0:
            raise NonPhysicalStateError(f"steady solver did not converge: SNES reason {reason} after "
                                        f"{self.snes.getIterationNumber()} Newton steps (residual "
                                        f"{self.stats['residual']:.2e} of the initial); try "
                                        "-dgk_steady_snes_max_it or a closer initial state")
        return self.state
