"""Every demo runs small here; a guard keeps any demo from going untested."""
import os
import subprocess
import sys

import numpy as np
from demo_loader import load_demo

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEMOS = os.path.join(ROOT, "demos")
TESTED = {"relaxation", "grazing", "heat_transfer", "couette", "ternary_diffusion", "shock_tube", "quantum_relaxation",
          "thermal_diffusion", "cavity", "obstacle"}


def test_every_demo_is_tested():
    present = {d for d in os.listdir(DEMOS) if os.path.isdir(os.path.join(DEMOS, d)) and not d.startswith(("_", "."))}
    assert present == TESTED, present ^ TESTED


def test_relaxation_demo(tmp_path):
    relaxation = load_demo("relaxation", "relaxation")
    r = relaxation.main(species=3, t_end=0.6, dt=0.2, cells=6, output=str(tmp_path))
    assert np.max(r["invariant_drift"]) < 1e-12
    T = r["temperature"]
    assert np.ptp(T[-1]) < np.ptp(T[0])                     # temperatures approach each other
    assert np.all(np.diff(r["entropy"]) <= 1e-12 * abs(r["entropy"][0]))
    assert os.path.exists(tmp_path / "relaxation.png") and os.path.exists(tmp_path / "relaxation.h5")


def test_heat_transfer_case(tmp_path):
    case = open(os.path.join(DEMOS, "heat_transfer", "heat_transfer.toml")).read()
    case = case.replace('output = "output/heat_transfer"', f'output = "{tmp_path}"')
    case = case.replace("t_end = 4.0", "t_end = 0.1")
    path = tmp_path / "case.toml"
    path.write_text(case)
    r = subprocess.run([sys.executable, "-m", "dgkinetic.cli", "run", str(path)], capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    assert (tmp_path / "diagnostics.h5").exists() and (tmp_path / "profiles.png").exists()


def test_demo_parameters_leave_the_command_line_alone(monkeypatch):
    """A demo's own options become its parameters; the rest, in order, is PETSc's; sys.argv is not changed."""
    from dgkinetic.demo_support import parse_parameters
    argv = ["demo.py", "--cells", "4", "-dgk_ts_monitor", "--knudsen", "1", "0.5", "-dgk_ts_type", "rk"]
    monkeypatch.setattr(sys, "argv", list(argv))
    params, rest = parse_parameters({"cells": 8, "knudsen": [1.0], "flag": False}, "a demo")
    assert params == {"cells": 4, "knudsen": [1.0, 0.5], "flag": False}
    assert rest == ["-dgk_ts_monitor", "-dgk_ts_type", "rk"]
    assert sys.argv == argv


def test_demo_script_passes_petsc_options(tmp_path):
    """Run as a script, a demo hands PETSc its options (-dgk_ts_monitor prints the steps) and nothing
    else (-options_left would list a demo parameter that reached PETSc as an unused option)."""
    r = subprocess.run([sys.executable, os.path.join(DEMOS, "relaxation", "relaxation.py"), "--t_end", "0.4",
                        "--output", str(tmp_path), "-dgk_ts_monitor", "-options_left"],
                       capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "2 TS (dgk_) dt 0.2 time 0.4" in r.stdout
    assert "There are no unused options." in r.stdout, r.stdout[-2000:]
    assert (tmp_path / "relaxation.png").exists() and (tmp_path / "relaxation.h5").exists()
