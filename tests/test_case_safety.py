"""Case files are data; restarts never change the physics; a failed run leaves its diagnostics.

The hostile [solver] options and malformed fields are in test_cli.MALFORMED; here: inputs that are
not text, options files on the command line, the resolved case round trip, and the restart rules.
"""

import h5py
import numpy as np
import pytest

from test_cli import base_case, replace, run_cli, write_case


def one_error_line(r, word, status=2):
    """The process (or :func:`cli_main` result) ended with ``status`` and one report line naming ``word``."""
    assert r.returncode == status, (r.returncode, r.stderr[-1500:])
    assert "Traceback" not in r.stderr, r.stderr[-1500:]
    lines = [x for x in r.stderr.splitlines() if x.startswith(("dgkinetic: error", "dgkinetic: stopped"))]
    assert len(lines) == 1, r.stderr[-1500:]
    assert word.lower() in lines[0].lower(), lines[0]
    return lines[0]


class Result:
    def __init__(self, returncode, stderr):
        self.returncode, self.stderr = returncode, stderr


@pytest.fixture
def cli_main(capsys):
    """The command line's main in this process (a process per call costs seconds of imports)."""
    from dgkinetic.cli import main

    def run(*args):
        capsys.readouterr()
        status = main(list(args))
        return Result(status, capsys.readouterr().err)
    return run


def test_non_utf8_case_file(tmp_path, cli_main):
    p = tmp_path / "case.toml"
    p.write_bytes(base_case(tmp_path).replace('name = "t"', 'name = "t\xe9"').encode("latin-1"))
    one_error_line(cli_main("check", str(p)), "UTF-8")
    assert not (tmp_path / "out").exists()


def test_device_is_not_read_forever():
    one_error_line(run_cli("check", "/dev/zero", timeout=120), "not a regular file")


def test_options_file_is_refused_before_petsc_reads_it(tmp_path):
    """PETSc reads -options_file while initialising; the file here would make it write a log at exit."""
    log = tmp_path / "written_by_petsc.txt"
    opts = tmp_path / "evil.opts"
    opts.write_text(f"-log_view :{log}\n")
    case = write_case(tmp_path, base_case(tmp_path))
    one_error_line(run_cli("check", case, "--", "-options_file", str(opts)), "options files")
    assert not log.exists()
    assert not (tmp_path / "out").exists()


def test_resolved_case_round_trips(tmp_path):
    """case.resolved.toml reads back to the same case, with quotes, backslashes and unicode in strings."""
    from dgkinetic.case import load_case
    text = replace(base_case(tmp_path), 'name = "t"', 'name = "a \\"quoted\\" \\\\ back\\\\slash é"')
    text = replace(text, 'name = "b"', 'name = "b-2+"')
    text += 'KSP_RTOL = 1e-9\nsnes_monitor = true\n'
    case = load_case(write_case(tmp_path, text))
    assert case.run["name"] == 'a "quoted" \\ back\\slash é'
    assert case.solver["ksp_rtol"] == 1e-9
    again = load_case(write_case(tmp_path, case.to_toml(), "resolved.toml"))
    assert again.resolved() == case.resolved()
    assert again.fingerprint() == case.fingerprint()


def test_fingerprint_ignores_run_length_but_not_physics(tmp_path):
    from dgkinetic.case import load_case, physics_differences
    text = base_case(tmp_path)
    a = load_case(write_case(tmp_path, text, "a.toml"))
    b = load_case(write_case(tmp_path, replace(text, "t_end = 0.2", "t_end = 0.7"), "b.toml"))
    c = load_case(write_case(tmp_path, replace(text, "mass = 2.0", "mass = 2.5"), "c.toml"))
    d = load_case(write_case(tmp_path, replace(text, "dt = 0.01", "dt = 0.02"), "d.toml"))
    assert a.fingerprint() == b.fingerprint()
    assert c.fingerprint() != a.fingerprint() and d.fingerprint() != a.fingerprint()
    assert physics_differences(a.physics(), c.physics()) == ["[species[1]] mass"]
    assert physics_differences(a.physics(), d.physics()) == ["[run] dt"]


# ----------------------------------------------------------------------------- runs
SHORT = {"t_end = 0.2": "t_end = 0.06", "checkpoint_every = 5": "checkpoint_every = 2"}


def short_case(tmp_path, **edits):
    text = base_case(tmp_path)
    for old, new in {**SHORT, **edits}.items():
        text = replace(text, old, new)
    return text


def test_restart_refuses_a_changed_case_and_damaged_files(tmp_path, cli_main):
    case = write_case(tmp_path, short_case(tmp_path))
    r = cli_main("run", case)
    assert r.returncode == 0, r.stderr[-2000:]
    out = tmp_path / "out"
    assert (out / "checkpoint.h5").exists()
    # a longer run of the same physics restarts
    longer = write_case(tmp_path, short_case(tmp_path, **{"t_end = 0.2": "t_end = 0.08"}), "longer.toml")
    r = cli_main("run", longer, "--restart")
    assert r.returncode == 0, r.stderr[-2000:]
    with h5py.File(out / "diagnostics.h5") as h:
        assert np.asarray(h["time"])[-1] == pytest.approx(0.08)
    # changed physics: a species' mass, the velocity extent, the time step
    for old, new, field in (("mass = 2.0", "mass = 3.0", "[species[1]] mass"),
                            ("extent = 5.0", "extent = 6.0", "[velocity] extent"),
                            ("dt = 0.01", "dt = 0.005", "[run] dt")):
        changed = write_case(tmp_path, short_case(tmp_path, **{"t_end = 0.2": "t_end = 0.1", old: new}), "c.toml")
        one_error_line(cli_main("run", changed, "--restart"), field)
    # a missing diagnostics series, a corrupt checkpoint: one line each
    (out / "diagnostics.h5").rename(out / "kept.h5")
    one_error_line(cli_main("run", longer, "--restart"), "diagnostics")
    (out / "kept.h5").rename(out / "diagnostics.h5")
    (out / "checkpoint.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + b"garbage" * 100)
    one_error_line(cli_main("run", longer, "--restart"), "checkpoint")


def test_fresh_run_removes_an_old_checkpoint(tmp_path, cli_main):
    """A fresh run killed before its first checkpoint must not leave the previous run's to restart."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "checkpoint.h5").write_bytes(b"the previous run's checkpoint")
    case = write_case(tmp_path, short_case(tmp_path, **{"checkpoint_every = 5": "checkpoint_every = 0"}))
    r = cli_main("run", case)
    assert r.returncode == 0, r.stderr[-2000:]
    assert not (out / "checkpoint.h5").exists()
    one_error_line(cli_main("run", case, "--restart"), "no checkpoint")


def test_failed_run_leaves_its_diagnostics(tmp_path):
    """An explicit step 10× beyond the CFL limit blows up: status 3, and the rows before it are on disk."""
    text = short_case(tmp_path, **{"dt = 0.01": "dt = 0.1", "t_end = 0.2": "t_end = 20.0",
                                   "checkpoint_every = 5": "checkpoint_every = 0"})
    r = run_cli("run", write_case(tmp_path, text))
    line = one_error_line(r, "t=", status=3)
    assert "stopped" in line
    with h5py.File(tmp_path / "out" / "diagnostics.h5") as h:
        t = np.asarray(h["time"])
        assert len(t) >= 2 and t[-1] < 20.0
        assert "stopped" in h.attrs


def test_printing_flag_switched_on_in_a_case(tmp_path, capfd):
    """`ts_monitor = true` prints PETSc's monitor to the terminal (as the flag -dgk_ts_monitor, not as a
    viewer named "true", which PETSc refuses); `false` leaves it off."""
    from dgkinetic.cli import main
    text = short_case(tmp_path, **{"checkpoint_every = 5": "checkpoint_every = 0"})
    status = main(["run", write_case(tmp_path, text + "ts_monitor = true\nksp_converged_reason = false\n")])
    out = capfd.readouterr().out
    assert status == 0
    assert "TS (dgk_) dt 0.01 time 0.06" in out
    assert "-dgk_ts_monitor" in (tmp_path / "out" / "petsc_options.txt").read_text()
    assert "converged_reason" not in (tmp_path / "out" / "petsc_options.txt").read_text()


def test_vtk_output_without_vtk_is_refused_before_running(tmp_path, cli_main, monkeypatch):
    """vtk_every needs the vtk package (a dependency of dgkinetic; Firedrake does not install it):
    where it is missing, one line at set-up, not a traceback from inside the time stepper."""
    import importlib.util
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "vtkmodules"
                        else find_spec(name, *a))
    text = short_case(tmp_path, **{"checkpoint_every = 5": "checkpoint_every = 0\nvtk_every = 2"})
    one_error_line(cli_main("check", write_case(tmp_path, text)), "vtk_every")
    assert not (tmp_path / "out").exists()


def test_run_stopped_early_by_an_option_does_not_exit_0(tmp_path):
    """-dgk_ts_max_steps from the command line ends the solve before t_end: status 3, not success."""
    text = short_case(tmp_path, **{"checkpoint_every = 5": "checkpoint_every = 0"})
    r = run_cli("run", write_case(tmp_path, text), "--", "-dgk_ts_max_steps", "2")
    one_error_line(r, "before t_end", status=3)


def test_solver_options_a_case_may_set():
    """The allow-list keeps what tuning needs: types, tolerances, sub-solver prefixes, flags."""
    from dgkinetic.case import check_solver_options
    options = {"TS_TYPE": "ARKIMEX", "ts_arkimex_type": "2e", "ts_adapt_type": "none", "ts_rtol": 1e-6,
               "snes_mf_operator": True, "snes_rtol": 1e-10, "snes_max_it": 50, "ksp_type": "gmres",
               "ksp_gmres_restart": 60, "pc_type": "bjacobi", "sub_pc_type": "ilu",
               "fieldsplit_0_ksp_type": "preonly", "pc_factor_mat_solver_type": "mumps",
               "mat_mumps_icntl_14": 50, "ts_max_snes_failures": -1, "snes_converged_reason": True,
               "ksp_monitor": False}
    out = check_solver_options(options)
    assert out["ts_type"] == "arkimex" and out["snes_converged_reason"] == "" and "ksp_monitor" not in out
    assert len(out) == len(options) - 1
