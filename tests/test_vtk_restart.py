"""VTK output for ParaView survives a restart: moments.pvd keeps the frames written before it."""
import re

from test_cli import base_case, run_cli, write_case


def frame_times(pvd) -> list[float]:
    return [float(t) for t in re.findall(r'timestep="([^"]+)"', pvd.read_text())]


def test_restart_appends_to_the_vtk_series(tmp_path):
    text = base_case(tmp_path).replace("t_end = 0.2", "t_end = 0.1") + ""
    text = text.replace("checkpoint_every = 5", "checkpoint_every = 5\nvtk_every = 2")
    case = write_case(tmp_path, text)
    r = run_cli("run", case)
    assert r.returncode == 0, r.stderr[-2000:]
    pvd = tmp_path / "out" / "moments.pvd"
    first = frame_times(pvd)
    assert len(first) == 5 and abs(first[-1] - 0.1) < 1e-12, first
    # continue to t = 0.2 (only t_end changed: allowed)
    write_case(tmp_path, text.replace("t_end = 0.1", "t_end = 0.2"))
    r = run_cli("run", case, "--restart")
    assert r.returncode == 0, r.stderr[-2000:]
    times = frame_times(pvd)
    assert times[:5] == first, (first, times)                    # the frames before the restart are kept
    assert len(times) == 10 and all(b > a for a, b in zip(times, times[1:])), times
