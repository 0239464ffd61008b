#!/usr/bin/env bash
# Build everything dgkinetic needs on a fresh Debian 12 machine, idempotently.
#
#   scripts/setup.sh            Debian packages, PETSc 3.26.0, .venv with Firedrake and dgkinetic
#
# The PETSc build is cached outside the clone (DGKINETIC_CACHE, default ~/.cache/dgkinetic) and keyed
# by version, so a second clone on the same machine only creates its .venv.  Every step is skipped when
# its result is already present; a half-finished step leaves no marker and is redone.
set -euo pipefail

PETSC_VERSION=3.26.0
# sha256 of PyPI's petsc-3.26.0.tar.gz (the PETSc source tree with ./configure)
PETSC_SHA256=f5230023e6e22ee607802a13c82bc25f3d81e71654ad386a5b9bdff17fed93df
FIREDRAKE_VERSION=2026.10.0
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${DGKINETIC_CACHE:-$HOME/.cache/dgkinetic}
petsc_dir=$cache/petsc-$PETSC_VERSION
petsc_arch=arch-firedrake-default
venv=$here/.venv
log=$cache/logs
mkdir -p "$cache" "$log"
# pip keeps its downloads and built wheels (petsc4py is compiled against this PETSc) beside the PETSc
# build, so an empty DGKINETIC_CACHE means a truly fresh set-up.
export PIP_CACHE_DIR=$cache/pip

say() { printf '[setup %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
run_logged() {  # run_logged NAME CMD... : quiet unless it fails, then show the log's tail
    local name=$1; shift
    if ! "$@" >"$log/$name.log" 2>&1; then
        tail -n 40 "$log/$name.log" >&2
        echo "setup: step '$name' failed; full log in $log/$name.log" >&2
        exit 1
    fi
}

# --- 1. Debian packages -------------------------------------------------------------------------
debs=(bison build-essential cmake flex gfortran git libopenblas-dev libopenmpi-dev openmpi-bin
      ninja-build pkg-config libfftw3-dev libfftw3-mpi-dev libhwloc-dev libhdf5-mpi-dev
      libhdf5-openmpi-dev libmumps-ptscotch-dev libmetis-dev libnetcdf-dev libpnetcdf-dev
      libptscotch-dev libscalapack-openmpi-dev libsuitesparse-dev libsuperlu-dev
      libsuperlu-dist-dev)
missing=()
for p in "${debs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
if ((${#missing[@]})); then
    say "installing ${#missing[@]} Debian packages"
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    run_logged apt-update $SUDO apt-get update
    run_logged apt-install env DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi

# --- 2. PETSc from its PyPI source archive ---------------------------------------------------------
inc="-I/usr/include/hdf5/openmpi -I/usr/include/scotch -I/usr/include/superlu -I/usr/include/superlu-dist"
lib="-L/usr/lib/x86_64-linux-gnu/hdf5/openmpi"
if [ ! -f "$petsc_dir/.dgkinetic-built" ]; then
    say "building PETSc $PETSC_VERSION in $petsc_dir (about 6 min)"
    rm -rf "$petsc_dir" "$cache/petsc-src"
    mkdir -p "$cache/petsc-src"
    # pip fetches the source archive through its supported interface (`pip download`, build isolation
    # on: without it pip fails while preparing metadata); the archive is then checked against the
    # sha256 pinned above, so a changed or corrupted archive stops here instead of building.
    run_logged petsc-download python3 -m pip download --no-deps --no-binary petsc \
        -d "$cache/petsc-src" "petsc==$PETSC_VERSION"
    archive=$cache/petsc-src/petsc-$PETSC_VERSION.tar.gz
    [ -f "$archive" ] || { echo "setup: pip did not save $archive" >&2; exit 1; }
    echo "$PETSC_SHA256  $archive" | sha256sum -c --quiet - \
        || { echo "setup: $archive does not match the pinned sha256 $PETSC_SHA256" >&2; exit 1; }
    tar -xzf "$archive" -C "$cache/petsc-src"
    mv "$cache/petsc-src/petsc-$PETSC_VERSION" "$petsc_dir"
    cd "$petsc_dir"
    run_logged petsc-configure ./configure PETSC_ARCH=$petsc_arch --with-c2html=0 --with-debugging=0 \
        --with-fortran-bindings=0 --with-shared-libraries=1 --with-strict-petscerrorcode \
        --COPTFLAGS="-O3 -march=x86-64-v2 $inc $lib" --CXXOPTFLAGS="-O3 -march=x86-64-v2 $inc $lib" \
        --FOPTFLAGS="-O3 $inc $lib" \
        --with-bison --with-fftw --with-hdf5 --with-hwloc --with-metis --with-mumps --with-netcdf \
        --with-pnetcdf --with-ptscotch --with-scalapack-lib=-lscalapack-openmpi --with-suitesparse \
        --with-superlu_dist --with-zlib
    run_logged petsc-make make PETSC_DIR="$petsc_dir" PETSC_ARCH=$petsc_arch all
    touch "$petsc_dir/.dgkinetic-built"
    rm -rf "$cache/petsc-src"
    cd "$here"
fi

# --- 3. Python environment -----------------------------------------------------------------------
export PETSC_DIR=$petsc_dir PETSC_ARCH=$petsc_arch CC=mpicc CXX=mpicxx HDF5_MPI=ON \
       HDF5_INCLUDEDIR=/usr/include/hdf5/openmpi HDF5_LIBDIR=/usr/lib/x86_64-linux-gnu/hdf5/openmpi
stamp=$venv/.dgkinetic-stack-$FIREDRAKE_VERSION-$PETSC_VERSION
if [ ! -f "$stamp" ]; then
    say "creating $venv with Firedrake $FIREDRAKE_VERSION (about 11 min on a fresh machine)"
    rm -rf "$venv"
    python3 -m venv "$venv"
    pip="$venv/bin/python -m pip"
    run_logged pip-base $pip install -U pip setuptools wheel
    run_logged pip-build-deps $pip install mpi4py numpy "Cython>=3.0" pkgconfig pybind11 petsctools "rtree>=1.2"
    # h5py against parallel HDF5, without build isolation (isolation compiles mpi4py from source).
    run_logged pip-h5py $pip install --no-build-isolation --no-binary h5py h5py
    run_logged pip-petsc4py $pip install --no-build-isolation "petsc4py==$PETSC_VERSION"
    run_logged pip-firedrake $pip install "firedrake[check]==$FIREDRAKE_VERSION"
    # The activate script carries the PETSc location and the MPI settings these machines need.
    cat >>"$venv/bin/activate" <<ACT
export PETSC_DIR=$petsc_dir PETSC_ARCH=$petsc_arch OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
ACT
    touch "$stamp"
fi

# --- 4. dgkinetic itself (editable, with its test tools) -------------------------------------------
say "installing dgkinetic (editable)"
run_logged pip-dgkinetic "$venv/bin/python" -m pip install -e "$here[test]"
say "ready: . .venv/bin/activate"
