"""Case files that solve for the steady state ([run] steady = true), the wall fluxes in diagnostics.h5,
and one initial drift per species."""
import math
import os
import subprocess
import sys

import h5py
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COUETTE = os.path.join(ROOT, "demos", "couette", "couette_3v.toml")


def _case(tmp_path, edits=(), name="case.toml"):
    text = open(COUETTE).read().replace('output = "output/couette_3v"', f'output = "{tmp_path / "out"}"')
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def _run(*args):
    return subprocess.run([sys.executable, "-m", "dgkinetic.cli", "run", *args], capture_output=True, text=True,
                          timeout=900, cwd=ROOT)


def test_steady_couette_case_writes_the_steady_wall_fluxes(tmp_path):
    """The demo's steady 3V Couette case, on a coarser space mesh: two diagnostics rows (initial,
    steady), the number kept, the energy flux through each wall zero (no net work at a steady state:
    the flux q_x + u_y P_xy is uniform and, by the flow's symmetry, odd), the shear stress the same
    at both walls and between the no-slip Navier–Stokes value and the free-molecular one."""
    proc = _run(_case(tmp_path, [("cells = 4\nlength", "cells = 2\nlength")]))
    assert proc.returncode == 0, proc.stderr[-2000:]
    with h5py.File(tmp_path / "out" / "diagnostics.h5") as f:
        assert f.attrs["steady"] == 1 and len(f["time"]) == 2
        assert f.attrs["relative_residual"] <= 1e-6
        assert abs(f["drift_number_Ar"][-1]) <= 1e-13
        p0, pL = -f["flux_wall1_momentum_y"][-1], f["flux_wall2_momentum_y"][-1]   # P_xy (walls' outward normals ∓x)
        e0, eL = f["flux_wall1_energy"][-1], f["flux_wall2_energy"][-1]
    assert abs(p0 - pL) <= 1e-8 * abs(p0)
    assert max(abs(e0), abs(eL)) <= 1e-7 * abs(p0) * 0.35
    ratio = p0 / (-0.35 / math.sqrt(2 * math.pi))
    no_slip = 5 * math.pi / 8 * 0.1                          # (5π/8) Kn: Navier–Stokes without slip
    assert no_slip * 0.5 < ratio < min(no_slip, 1.0), ratio
    assert os.path.isfile(tmp_path / "out" / "petsc_options.txt")


def test_steady_case_refuses_time_stepping_fields(tmp_path):
    proc = _run(_case(tmp_path, [("steady = true", "steady = true\nt_end = 1.0")]))
    assert proc.returncode != 0
    lines = [line for line in proc.stderr.strip().splitlines() if line]
    assert len(lines) == 1 and "steady" in lines[0] and "t_end" in lines[0], proc.stderr


def test_initial_drift_per_species(tmp_path):
    """[initial] velocity as one vector per species: each species starts with its own drift."""
    from dgkinetic.case import load_case
    from dgkinetic.build import build_mixture, initial_moments
    text = (open(COUETTE).read() + '\n[[species]]\nname = "Kr"\nmass = 2.098\n\n'
            '[initial]\nvelocity = [[0.1, 0.0, 0.0], [-0.05, 0.2, 0.0]]\n')
    path = tmp_path / "two.toml"
    path.write_text(text)
    case = load_case(str(path))
    _, drifts, _ = initial_moments(case, build_mixture(case), 1.0)
    assert np.allclose(drifts[0], [0.1, 0.0, 0.0]) and np.allclose(drifts[1], [-0.05, 0.2, 0.0])
    path.write_text(text.replace("[[0.1, 0.0, 0.0], [-0.05, 0.2, 0.0]]", "[[0.1, 0.0, 0.0]]"))
    proc = _run(str(path))
    assert proc.returncode != 0 and "one per species" in proc.stderr
