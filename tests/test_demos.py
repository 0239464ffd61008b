"""Every demo runs small here; a guard keeps any demo from going untested."""
import os
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEMOS = os.path.join(ROOT, "demos")
TESTED = {"relaxation", "grazing", "heat_transfer", "couette", "ternary_diffusion", "shock_tube", "quantum_relaxation"}


def test_every_demo_is_tested():
    present = {d for d in os.listdir(DEMOS) if os.path.isdir(os.path.join(DEMOS, d)) and not d.startswith(("_", "."))}
    assert present == TESTED, present ^ TESTED


def test_relaxation_demo(tmp_path):
    sys.path.insert(0, os.path.join(DEMOS, "relaxation"))
    try:
        import relaxation
    finally:
        sys.path.pop(0)
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
