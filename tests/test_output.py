"""output.write_arrays: the one HDF5 writer of results (arrays, file and group attributes, atomic)."""
import h5py
import numpy as np

from dgkinetic.output import write_arrays


def test_write_arrays(tmp_path):
    path = str(tmp_path / "r.h5")
    write_arrays(path, {"x": np.arange(3.0), "run/rho": np.ones(2), "note": "not an array", "n": 3},
                 {"gamma": 2.0, "run/knudsen": 0.1, "other/flag": 1})
    with h5py.File(path, "r") as h:
        assert sorted(h.keys()) == ["other", "run", "x"]
        assert np.array_equal(h["x"][()], np.arange(3.0)) and np.array_equal(h["run/rho"][()], np.ones(2))
        assert dict(h.attrs) == {"gamma": 2.0}
        assert h["run"].attrs["knudsen"] == 0.1 and h["other"].attrs["flag"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.h5"]
