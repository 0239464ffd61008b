"""PETSc's own Landau collision operator (``DMPlexLandau``) as a benchmark reference.

Compiles PETSc's tutorial ``src/ts/utils/dmplexlandau/tutorials/ex1.c`` (spatially homogeneous
electron–ion relaxation: anisotropic, optionally drifting Maxwellians relaxing under the Landau
operator, no electric field) with PETSc's own makefile machinery into a cache directory outside the
repository, runs it serially with the options below, and parses from its output the time per time
step (``-log_view`` event ``TSStep``), the grid size per species, and the moments printed after each
step by ``DMPlexLandauPrintNorms`` (density, parallel momentum and kinetic energy of each species),
from which the conservation errors over the run follow.

No Firedrake import; only the standard library. See ``bench/PETSC_LANDAU_NOTES.md`` for the grid,
nondimensionalisation, initial condition and solver of the PETSc problem.

Run: ``python bench/petsc_landau.py`` (builds once, then ≈ 10–20 s for the default case).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

TUTORIAL = "ex1"
TUTORIAL_REL = Path("src/ts/utils/dmplexlandau/tutorials") / f"{TUTORIAL}.c"
DEFAULT_PETSC_DIR = Path.home() / ".cache" / "dgkinetic" / "petsc-3.26.0"
DEFAULT_ARCH = "arch-firedrake-default"

# PETSc Landau's physical constants (plexland.c ProcessOptions): ion masses are given in units of
# 1.6720e-27 kg (so "-dm_landau_ion_masses 2" is m_i/m_e = 3670.94), charges in units of 1.6022e-19 C,
# temperatures in keV (× 1.1604525e7 K/keV), k_B = 1.38064852e-23 J/K, eps_0 = 8.8542e-12 F/m.
PETSC_PROTON_MASS = 1.6720e-27
PETSC_ELECTRON_MASS = 9.10938356e-31
PETSC_CHARGE = 1.6022e-19
PETSC_KELVIN_PER_KEV = 1.1604525e7
PETSC_BOLTZMANN = 1.38064852e-23
PETSC_EPSILON0 = 8.8542e-12

_MAKEFILE = """\
# Written by dgkinetic bench/petsc_landau.py: build PETSc's Landau tutorial with PETSc's own rules.
include ${PETSC_DIR}/lib/petsc/conf/variables
include ${PETSC_DIR}/lib/petsc/conf/rules
"""

_FLOAT = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


class PetscLandauError(RuntimeError):
    """PETSc, the compiler, the build or the run is not usable."""


# ------------------------------------------------------------------------------------------------
# locating PETSc and building


def _petsc_dir(petsc_dir: str | os.PathLike | None = None) -> Path:
    cands = [petsc_dir, os.environ.get("PETSC_DIR"), DEFAULT_PETSC_DIR]
    for c in cands:
        if c and (Path(c) / TUTORIAL_REL).is_file() and (Path(c) / "include" / "petscversion.h").is_file():
            return Path(c).resolve()
    raise PetscLandauError(
        f"PETSc source tree with {TUTORIAL_REL} not found (tried PETSC_DIR={os.environ.get('PETSC_DIR')!r} "
        f"and {DEFAULT_PETSC_DIR}); set PETSC_DIR to a PETSc source+build directory")


def _petsc_arch(petsc_dir: Path, petsc_arch: str | None = None) -> str:
    def ok(a):
        return a and (petsc_dir / a / "lib" / "petsc" / "conf" / "petscvariables").is_file()
    for a in (petsc_arch, os.environ.get("PETSC_ARCH"), DEFAULT_ARCH):
        if ok(a):
            return a
    found = sorted(p.name for p in petsc_dir.glob("arch-*") if ok(p.name))
    if not found:
        raise PetscLandauError(f"no built PETSC_ARCH (arch-*/lib/petsc/conf/petscvariables) in {petsc_dir}")
    return found[0]


def petsc_version(petsc_dir: str | os.PathLike | None = None) -> str:
    """``"major.minor.subminor"`` from ``include/petscversion.h``."""
    text = (_petsc_dir(petsc_dir) / "include" / "petscversion.h").read_text()
    parts = [re.search(rf"#define\s+PETSC_VERSION_{k}\s+(\d+)", text) for k in ("MAJOR", "MINOR", "SUBMINOR")]
    if not all(parts):
        raise PetscLandauError("cannot read the PETSc version from include/petscversion.h")
    return ".".join(m.group(1) for m in parts)


def _petsc_variable(petsc_dir: Path, arch: str, name: str) -> str | None:
    text = (petsc_dir / arch / "lib" / "petsc" / "conf" / "petscvariables").read_text()
    m = re.search(rf"^{name}\s*=\s*(.*)$", text, re.M)
    return m.group(1).strip() if m else None


def build(cache_dir: str | os.PathLike | None = None, petsc_dir: str | os.PathLike | None = None,
          petsc_arch: str | None = None, quiet: bool = True) -> Path:
    """Compile PETSc's Landau tutorial ``ex1`` into ``cache_dir`` and return the binary's path.

    ``cache_dir`` defaults to ``~/.cache/dgkinetic/bench/landau-<petsc version>``. The tutorial source
    is copied there next to a two-line makefile that includes PETSc's ``conf/variables`` and
    ``conf/rules``; ``make ex1`` then compiles and links it exactly as PETSc's own tutorial makefile
    would. Nothing is written into the PETSc tree. Idempotent: skipped when the binary is newer than
    both the tutorial source and the makefile.
    """
    pdir = _petsc_dir(petsc_dir)
    arch = _petsc_arch(pdir, petsc_arch)
    version = petsc_version(pdir)
    cache = Path(cache_dir) if cache_dir else Path.home() / ".cache" / "dgkinetic" / "bench" / f"landau-{version}"
    cache.mkdir(parents=True, exist_ok=True)
    src, mk, exe = cache / f"{TUTORIAL}.c", cache / "makefile", cache / TUTORIAL

    original = pdir / TUTORIAL_REL
    if not src.is_file() or src.read_bytes() != original.read_bytes():
        shutil.copy2(original, src)              # copy2 keeps the tutorial's mtime
    if not mk.is_file() or mk.read_text() != _MAKEFILE:
        mk.write_text(_MAKEFILE)
    if exe.is_file() and exe.stat().st_mtime > max(src.stat().st_mtime, mk.stat().st_mtime):
        return exe

    if shutil.which("make") is None:
        raise PetscLandauError("'make' not found on PATH: cannot build PETSc's Landau tutorial")
    cc = (_petsc_variable(pdir, arch, "PCC") or "").split()
    if not cc or shutil.which(cc[0]) is None:
        raise PetscLandauError(f"PETSc's C compiler {cc[0] if cc else '(PCC unset)'!r} not found on PATH")
    cmd = ["make", "-C", str(cache), TUTORIAL, f"PETSC_DIR={pdir}", f"PETSC_ARCH={arch}"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0 or not exe.is_file():
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-1:] or ["(no output)"]
        raise PetscLandauError(f"building {TUTORIAL} failed ({' '.join(cmd)}): {tail[0]}")
    if not quiet:
        print(proc.stdout, end="")
    exe.touch()
    return exe


# ------------------------------------------------------------------------------------------------
# options


def default_options(steps: int = 10, dt: float = 0.1, degree: int = 3, cells: tuple[int, int] = (4, 8),
                    radius: float | tuple[float, float] = 5.0, temps: tuple[float, float] = (1.0, 1.0),
                    ion_mass: float = 2.0, ion_charge: float = 1.0, shift: float = 0.5,
                    ln_lambda: float | None = 10.0, snes_rtol: float = 1e-14, snes_stol: float = 1e-14,
                    ts_type: str = "beuler") -> list[str]:
    """The PETSc options of the electron–deuteron relaxation benchmark, as a list of tokens.

    ``cells`` = (v_perp, v_par) cells of the uniform base box of each species' grid; ``radius`` the
    box half-size in units of each species' own thermal speed sqrt(T_s/m_s); ``temps`` (T_e, T_i) in
    keV; ``ion_mass`` in PETSc proton masses (2 → m_i/m_e = 3670.94); ``shift`` the electron parallel
    drift in units of v_0 (ex1 gives the ions the opposite momentum); ``ln_lambda`` a single Coulomb
    logarithm for all pairs (None: PETSc's NRL formulas, different per pair); ``dt`` in PETSc's time
    unit t_0 (see PETSC_LANDAU_NOTES.md).
    """
    r = radius if isinstance(radius, (tuple, list)) else (radius, radius)
    opts = [
        # physics: two grids, one species each (electrons, deuterons)
        "-dm_landau_num_species_grid", "1,1",
        "-dm_landau_thermal_temps", f"{temps[0]:.12g},{temps[1]:.12g}",
        "-dm_landau_ion_masses", f"{ion_mass:.12g}",
        "-dm_landau_ion_charges", f"{ion_charge:.12g}",
        "-dm_landau_n", "1,1",
        "-dm_landau_electron_shift", f"{shift:.12g}",
        # grid: uniform Q_k box per species, no AMR (this PETSc has no p4est)
        "-dm_landau_domain_radius", f"{r[0]:.12g},{r[1]:.12g}",
        "-dm_landau_num_cells", f"{cells[0]},{cells[1]}",
        "-petscspace_degree", f"{degree}",
        "-dm_landau_device_type", "cpu",
        # time integration and (Picard) nonlinear solve
        "-ts_type", ts_type,
        "-ts_time_step", f"{dt:.17g}",
        "-ts_max_steps", f"{steps}",
        "-ts_max_time", "1e30",
        "-ts_exact_final_time", "stepover",
        "-snes_rtol", f"{snes_rtol:g}",
        "-snes_stol", f"{snes_stol:g}",
        "-snes_max_it", "100",
        "-ksp_type", "preonly",
        "-pc_type", "lu",
        # output: moments every step, cell counts per grid, timing
        "-use_nrl", "false",
        "-print_nrl", "false",
        "-dm_landau_verbose", "-1",
        "-snes_converged_reason",
        "-ex1_dm_view_e",
        "-ex1_dm_view_i",
        "-log_view",
        "-options_left",
    ]
    if ln_lambda is not None:
        opts += ["-dm_landau_ln_lambda", f"{ln_lambda:.12g}"]
    return opts


def _as_tokens(options) -> list[str]:
    if options is None:
        return []
    if isinstance(options, dict):
        toks = []
        for k, v in options.items():
            k = k if k.startswith("-") else "-" + k
            if v is None or v is True:
                toks.append(k)
            elif v is False:
                toks += [k, "false"]
            elif isinstance(v, (tuple, list)):
                toks += [k, ",".join(f"{x:g}" if isinstance(x, float) else str(x) for x in v)]
            else:
                toks += [k, f"{v:.17g}" if isinstance(v, float) else str(v)]
        return toks
    return [str(t) for t in options]


# ------------------------------------------------------------------------------------------------
# parsing


def _parse_log_view(text: str) -> dict:
    events, on = {}, False
    pat = re.compile(rf"^\s*(\S.*?)\s+(\d+)\s+{_FLOAT}\s+({_FLOAT})\s+{_FLOAT}\s+({_FLOAT})\s")
    for line in text.splitlines():
        if line.startswith("--- Event Stage"):
            on = True
            continue
        if on and (line.startswith("-----") or line.startswith("Object Type")):
            on = False
        if on:
            m = pat.match(line)
            if m:
                name = m.group(1).strip()
                e = events.setdefault(name, {"count": 0, "time": 0.0, "flop": 0.0})
                e["count"] += int(m.group(2))
                e["time"] += float(m.group(3))
                e["flop"] += float(m.group(4))
    return events


def parse_output(text: str) -> dict:
    """Parse the text output of ex1 run with :func:`default_options` (see :func:`run`)."""
    out: dict = {}
    m = re.search(rf"v_0=\s*({_FLOAT})\s*\(\s*({_FLOAT})c\)\s*n_0=\s*({_FLOAT})\s*t_0=\s*({_FLOAT})", text)
    if m:
        out["normalisation"] = {"v_0_m_per_s": float(m.group(1)), "v_0_over_c": float(m.group(2)),
                                "n_0_per_m3": float(m.group(3)), "t_0_s": float(m.group(4))}
    m = re.search(r"^Domain radius.*$", text, re.M)
    if m:
        out["domain_radius_v0"] = [{"par": float(a), "perp": float(b)} for a, b in
                                   re.findall(rf"par=\s*({_FLOAT})\s+perp=\s*({_FLOAT})", m.group(0))]
    m = re.search(r"FormLandau (\d+) IPs, (\d+) cells total, Nb=(\d+), Nq=(\d+).* N=(\d+) nnz= (\d+)", text)
    if m:
        out["ips_total"], out["cells_total"], out["Nb"], out["Nq"], out["dofs_total"], out["nnz"] = map(
            int, m.groups())
    out["cells_per_species"] = [int(c) for c in re.findall(r"Number of 2-cells per rank:\s*(\d+)", text)]
    # moments
    steps: dict[int, dict] = {}
    for m in re.finditer(r"^step\s+(\d+)\)\s+time=\s*(\S+)\s+temperature \(eV\):(.*)$", text, re.M):
        d = steps.setdefault(int(m.group(1)), {})
        d["time"] = float(m.group(2))
        temps = re.findall(rf"T=\s*({_FLOAT})\s+T_par=\s*({_FLOAT})\s+T_perp=\s*({_FLOAT})", m.group(3))
        d["T_eV"] = [float(a) for a, _, _ in temps]
        d["T_par_eV"] = [float(b) for _, b, _ in temps]
        d["T_perp_eV"] = [float(c) for _, _, c in temps]
    for m in re.finditer(rf"^\s*(\d+)\) species-(\d+): charge density=\s*({_FLOAT}) z-momentum=\s*({_FLOAT}) "
                         rf"energy=\s*({_FLOAT})", text, re.M):
        d = steps.setdefault(int(m.group(1)), {})
        s = int(m.group(2))
        for key, val in (("charge_density", m.group(3)), ("momentum", m.group(4)), ("energy", m.group(5))):
            lst = d.setdefault(key, [])
            lst.extend([None] * (s + 1 - len(lst)))
            lst[s] = float(val)
    for m in re.finditer(rf"^\s*(\d+)\) Total: charge density=\s*({_FLOAT}), momentum=\s*({_FLOAT}), "
                         rf"energy=\s*({_FLOAT})", text, re.M):
        d = steps.setdefault(int(m.group(1)), {})
        d["total_charge"], d["total_momentum"], d["total_energy"] = (float(g) for g in m.groups()[1:])
    out["moments"] = [dict(step=k, **steps[k]) for k in sorted(steps)]
    # nonlinear solves
    reasons = re.findall(r"Nonlinear solve (converged|did not converge) due to (\S+) iterations (\d+)", text)
    out["snes_iterations"] = [int(n) for _, _, n in reasons]
    out["snes_reasons"] = [r for _, r, _ in reasons]
    out["snes_all_converged"] = all(c == "converged" for c, _, _ in reasons)
    out["unused_options"] = re.findall(r"^Option left: name:(\S+)", text, re.M)
    out["events"] = _parse_log_view(text)
    return out


def _conservation(moments: list[dict], p_unit: float | None = None) -> dict:
    """Relative changes from the first printed state (step 0, the projected initial condition).

    ``p_unit``: PETSc's momentum unit n_0 m_e v_0 (SI) for the nondimensional momentum error.
    """
    full = [m for m in moments if "energy" in m and "total_energy" in m]
    if len(full) < 2:
        return {}
    m0, ns = full[0], len(full[0]["energy"])

    def rel(a, b):
        return (b - a) / a if a else float("nan")

    pscale = sum(abs(p) for p in m0["momentum"])    # Σ_s |P_s(0)|; round-off when nothing drifts
    if p_unit and pscale < 1e-10 * p_unit:
        pscale = 0.0
    series = []
    for m in full[1:]:
        dP = m["total_momentum"] - m0["total_momentum"]
        series.append({
            "density_rel": [rel(m0["charge_density"][s], m["charge_density"][s]) for s in range(ns)],
            "momentum_rel": dP / pscale if pscale else float("nan"),
            "momentum_abs": dP,
            "momentum_nd": dP / p_unit if p_unit else float("nan"),
            "energy_rel": rel(m0["total_energy"], m["total_energy"]),
        })
    last = series[-1]
    return {
        "density_rel": last["density_rel"],          # per species, end of run
        "momentum_rel": last["momentum_rel"],        # total parallel momentum change / Σ_s |P_s(0)|
        "momentum_abs": last["momentum_abs"],        # kg m/s per m^3 (PETSc's SI output)
        "momentum_nd": last["momentum_nd"],          # same in units of n_0 m_e v_0 (electron drift 0.5 -> P_e = 0.5)
        "max_momentum_nd": max(abs(x["momentum_nd"]) for x in series),
        "energy_rel": last["energy_rel"],            # total kinetic energy
        "max_density_rel": [max(abs(x["density_rel"][s]) for x in series) for s in range(ns)],
        "max_momentum_rel": max(abs(x["momentum_rel"]) for x in series),
        "max_energy_rel": max(abs(x["energy_rel"]) for x in series),
        "momentum_scale": pscale,
        # physical exchange between species over the run (not errors): relative change of each species
        "species_momentum_change_rel": [(full[-1]["momentum"][s] - m0["momentum"][s]) / pscale
                                        if pscale else float("nan") for s in range(ns)],
        "species_energy_change_rel": [rel(m0["energy"][s], full[-1]["energy"][s]) for s in range(ns)],
    }


# ------------------------------------------------------------------------------------------------
# running


def run(options=None, steps: int = 10, dt: float = 0.1, *, timeout: float = 900.0, binary=None,
        keep_output: bool = False, **case) -> dict:
    """Run the PETSc Landau benchmark serially and return timings, grid and conservation errors.

    ``options`` (dict or list of tokens) are appended after :func:`default_options` ``(steps, dt,
    **case)`` and so override them (PETSc: the last occurrence of an option wins). ``binary`` defaults
    to :func:`build` ``()``. Returns a dict with, among others:

    - ``time_per_step_s``: ``-log_view`` TSStep time / TSStep count (excludes setup and the per-step
      moment printing); ``time_per_landau_jacobian_s``: time of one Landau operator assembly (PETSc
      forms the Picard matrix A(f) once per nonlinear iteration, in the residual);
    - ``snes_iterations_per_step``; ``quad_points_per_species``; ``dofs_per_species``;
    - ``conservation``: relative change over the run of each species' density, of the total parallel
      momentum (over Σ_s |P_s(0)|) and of the total energy, at the end and max over steps;
    - ``moments``: the per-step moments and temperatures as printed by PETSc;
    - ``command``: the exact command line.
    """
    exe = Path(binary) if binary else build()
    cmd = [str(exe)] + default_options(steps, dt, **case) + _as_tokens(options)
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=exe.parent)
    except subprocess.TimeoutExpired as exc:
        raise PetscLandauError(f"PETSc Landau run exceeded {timeout:g} s: {' '.join(cmd)}") from exc
    wall = time.perf_counter() - t
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    text = proc.stdout + proc.stderr
    if proc.returncode != 0:
        tail = "\n".join(text.strip().splitlines()[-15:])
        raise PetscLandauError(f"PETSc Landau run failed (exit {proc.returncode}):\n{tail}")
    res = parse_output(text)
    ev = res.pop("events")
    nsp = len(res.get("cells_per_species", [])) or 2
    tsstep = ev.get("TSStep", {"count": 0, "time": float("nan")})
    jac = ev.get("Landau Jacobian", {"count": 0, "time": float("nan")})
    res.update({
        "command": cmd,
        "command_line": " ".join(cmd),
        "petsc_version": _version_from_log(text),
        "steps": tsstep["count"],
        "dt": dt,
        "wall_total_s": wall,
        "cpu_total_s": cpu,                  # user+sys CPU of the PETSc process (wall > cpu: machine shared)
        # TSStep wall time scaled by the process's cpu/wall ratio: an estimate robust to a busy machine,
        # meaningful when TSStep dominates the process (check tsstep_fraction; start-up waits skew it)
        "tsstep_fraction": tsstep["time"] / wall if wall > 0 else float("nan"),
        "time_per_step_cpu_est_s": (tsstep["time"] / tsstep["count"] * min(1.0, cpu / wall)
                                    if tsstep["count"] and wall > 0 else float("nan")),
        "time_per_step_s": tsstep["time"] / tsstep["count"] if tsstep["count"] else float("nan"),
        "tsstep_total_s": tsstep["time"],
        "setup_s": ev.get("Landau Create", {}).get("time", 0.0) + ev.get("Landau Mass mat", {}).get("time", 0.0),
        "landau_jacobian_count": jac["count"],
        "landau_jacobian_time_s": jac["time"],
        "time_per_landau_jacobian_s": jac["time"] / jac["count"] if jac["count"] else float("nan"),
        "lu_time_s": ev.get("MatLUFactorNum", {}).get("time", 0.0) + ev.get("MatSolve", {}).get("time", 0.0),
        "snes_iterations_per_step": (sum(res["snes_iterations"]) / len(res["snes_iterations"])
                                     if res["snes_iterations"] else float("nan")),
        "log_events": {k: ev[k] for k in ("TSStep", "SNESSolve", "Landau Jacobian", "Landau Mass",
                                          " J Kernel (GPU)", "J Kernel (GPU)", "MatLUFactorNum", "MatSolve")
                       if k in ev},
        "conservation": _conservation(res["moments"], petsc_units(cmd)["momentum_unit"]),
        "units": petsc_units(cmd),
        # exact m_i/m_e of the run: PETSc's ion masses are in units of 1.6720e-27 kg, m_e = 9.10938356e-31 kg
        "mass_ratio": [float(x) * PETSC_PROTON_MASS / PETSC_ELECTRON_MASS
                       for x in (_last_option(cmd, "-dm_landau_ion_masses") or "1").split(",")],
    })
    _add_nondimensional(res, cmd)
    if "Nq" in res:
        cells = res.get("cells_per_species") or [res["cells_total"] // nsp] * nsp
        res["quad_points_per_species"] = [c * res["Nq"] for c in cells]
        res["dofs_per_species"] = [res["dofs_total"] // nsp] * nsp if len(set(cells)) == 1 else None
    if keep_output:
        res["output"] = text
    return res


def _last_option(cmd: list[str], name: str) -> str | None:
    idx = [i for i, t in enumerate(cmd) if t == name]
    return cmd[idx[-1] + 1] if idx and idx[-1] + 1 < len(cmd) else None


def petsc_units(cmd: list[str]) -> dict:
    """PETSc's units for a command line, recomputed exactly as plexland.c does.

    v_0 = sqrt(k T_e / m_e), momentum unit n_0 m_e v_0, energy unit n_0 m_e v_0², and (for a single
    -dm_landau_ln_lambda) t_0 = 8π (ε_0 m_e / e²)² v_0³ / (lnΛ n_0).
    """
    te = float((_last_option(cmd, "-dm_landau_thermal_temps") or "1").split(",")[0])
    n0 = float(_last_option(cmd, "-dm_landau_n_0") or 1e20)
    lam = _last_option(cmd, "-dm_landau_ln_lambda")
    v0 = (PETSC_BOLTZMANN * te * PETSC_KELVIN_PER_KEV / PETSC_ELECTRON_MASS) ** 0.5
    t0 = (8 * 3.141592653589793 * (PETSC_EPSILON0 * PETSC_ELECTRON_MASS / PETSC_CHARGE ** 2) ** 2 * v0 ** 3
          / float(lam) / n0) if lam else None
    return {"v_0": v0, "n_0": n0, "t_0": t0, "momentum_unit": n0 * PETSC_ELECTRON_MASS * v0,
            "energy_unit": n0 * PETSC_ELECTRON_MASS * v0 * v0}


def _add_nondimensional(res: dict, cmd: list[str]) -> None:
    """Moments in PETSc's units: n_s, P_s / (n_0 m_e v_0), E_s / (n_0 m_e v_0²) (electron first)."""
    u = petsc_units(cmd)
    z = [-1.0] + [float(x) for x in (_last_option(cmd, "-dm_landau_ion_charges") or "1").split(",")]
    for m in res["moments"]:
        if "energy" not in m:
            continue
        m["density_nd"] = [q / (u["n_0"] * z[s] * PETSC_CHARGE) for s, q in enumerate(m["charge_density"])]
        m["momentum_nd"] = [p / u["momentum_unit"] for p in m["momentum"]]
        m["energy_nd"] = [e / u["energy_unit"] for e in m["energy"]]


def _version_from_log(text: str) -> str | None:
    m = re.search(r"Using PETSc Release Version (\S+),", text)
    return m.group(1) if m else None


# ------------------------------------------------------------------------------------------------


def _summary(res: dict) -> str:
    c = res["conservation"]
    if not c or "quad_points_per_species" not in res:
        return (f"command: {res['command_line']}\ntime per step: {res['time_per_step_s']:.4g} s; "
                "no moments/grid parsed (keep -dm_landau_verbose -1 and -ex1_dm_view_e/-ex1_dm_view_i)")
    g = ", ".join(f"{q} ({n} cells)" for q, n in zip(res["quad_points_per_species"], res["cells_per_species"]))
    lines = [
        f"PETSc {res['petsc_version']} DMPlexLandau ex1 (serial CPU), electrons + deuterons, axisymmetric 3V",
        f"command: {res['command_line']}",
        f"grid: Q{res['Nb'] and round(res['Nb'] ** 0.5) - 1} quads, Nq={res['Nq']} Gauss points per cell; "
        f"quadrature points per species: {g}; dofs per species: {res['dofs_per_species']}",
        "domain half-widths in v_0 units: "
        + ", ".join(f"par={d['par']:.4g} perp={d['perp']:.4g}" for d in res.get("domain_radius_v0", [])),
        "normalisation: " + ", ".join(f"{k}={v:.4g}" for k, v in res.get("normalisation", {}).items())
        + "; m_i/m_e = " + ", ".join(f"{x:.6f}" for x in res["mass_ratio"]),
        f"steps: {res['steps']} x dt={res['dt']:g} t_0; SNES (Picard) iterations per step: "
        f"{res['snes_iterations_per_step']:.2f} {res['snes_iterations']}",
        f"time per step: {res['time_per_step_s']:.4g} s wall, ~{res['time_per_step_cpu_est_s']:.4g} s cpu"
        f"  (Landau operator assembly: "
        f"{res['time_per_landau_jacobian_s']:.4g} s x {res['landau_jacobian_count']}; setup {res['setup_s']:.3g} s; "
        f"process wall {res['wall_total_s']:.3g} s, cpu {res['cpu_total_s']:.3g} s)",
        "conservation over the run (relative): density e/i = "
        + ", ".join(f"{x:.2e}" for x in c["density_rel"])
        + f"; total parallel momentum = {c['momentum_rel']:.2e} of sum|P_s| ({c['momentum_nd']:.2e} n_0 m_e v_0)"
        + f"; total energy = {c['energy_rel']:.2e}",
        "max over steps: density e/i = " + ", ".join(f"{x:.2e}" for x in c["max_density_rel"])
        + f"; momentum = {c['max_momentum_rel']:.2e}; energy = {c['max_energy_rel']:.2e}",
        "physical exchange over the run: species momentum change / sum|P_s(0)| = "
        + ", ".join(f"{x:+.3e}" for x in c["species_momentum_change_rel"])
        + "; species energy change = " + ", ".join(f"{x:+.3e}" for x in c["species_energy_change_rel"]),
    ]
    m0, m1 = res["moments"][0], res["moments"][-1]
    if "momentum_nd" in m0 and "momentum_nd" in m1:
        lines.append("moments in PETSc units (n_s; P_s/(n_0 m_e v_0); E_s/(n_0 m_e v_0^2)), start -> end: "
                     + "; ".join(f"{k}: " + ", ".join(f"{a:.10g}->{b:.10g}" for a, b in zip(m0[k], m1[k]))
                                 for k in ("density_nd", "momentum_nd", "energy_nd")))
    lines.append("T_par/T_perp (eV) e: {:.5g}/{:.5g} -> {:.5g}/{:.5g}; i: {:.5g}/{:.5g} -> {:.5g}/{:.5g}".format(
        m0["T_par_eV"][0], m0["T_perp_eV"][0], m1["T_par_eV"][0], m1["T_perp_eV"][0],
        m0["T_par_eV"][1], m0["T_perp_eV"][1], m1["T_par_eV"][1], m1["T_perp_eV"][1]))
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--dt", type=float, default=0.1, help="time step in PETSc's unit t_0")
    p.add_argument("--degree", type=int, default=3)
    p.add_argument("--cells", type=int, nargs=2, default=(4, 8), metavar=("NPERP", "NPAR"))
    p.add_argument("--radius", type=float, default=5.0, help="box half-width per species, in its thermal speeds")
    p.add_argument("--temps", type=float, nargs=2, default=(1.0, 1.0), metavar=("TE", "TI"), help="keV")
    p.add_argument("--shift", type=float, default=0.5, help="electron parallel drift in v_0 units")
    p.add_argument("--snes-rtol", type=float, default=1e-14)
    p.add_argument("--timeout", type=float, default=900.0)
    p.add_argument("--cache-dir", default=None)
    p.add_argument("--json", default=None, help="also write the result dict to this file")
    p.add_argument("petsc_options", nargs="*", help="extra PETSc options (after --), override the defaults")
    a = p.parse_args(argv)
    try:
        exe = build(a.cache_dir)
        res = run(a.petsc_options, a.steps, a.dt, timeout=a.timeout, binary=exe, degree=a.degree,
                  cells=tuple(a.cells), radius=a.radius, temps=tuple(a.temps), shift=a.shift,
                  snes_rtol=a.snes_rtol, snes_stol=a.snes_rtol)
    except PetscLandauError as exc:
        print(f"petsc_landau: {exc}", file=sys.stderr)
        return 1
    print(_summary(res))
    if res["unused_options"]:
        print("WARNING: PETSc options not used:", " ".join(res["unused_options"]))
    if not res["snes_all_converged"]:
        print("WARNING: some nonlinear solves did not converge:", res["snes_reasons"])
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
