"""Runs a command on a simulated host without a usable ``/dev/shm``, the way AWS Lambda and
locked-down containers are shaped, in a private mount namespace (root only; the host is untouched).

Shapes:

* ``ro-shm``: a read-only tmpfs over ``/dev/shm``: ``sem_open`` and ``shm_open`` fail with
  ``EROFS``;
* ``no-shm``: a fresh tmpfs over ``/dev`` with only ``null``, ``zero``, ``urandom``, ``random``,
  ``tty``, ``ptmx``, ``pts`` (and the ``fd``/``stdin``/``stdout``/``stderr`` links) brought back,
  and no ``shm`` directory: they fail with ``ENOENT``.

And one that is not a problem host but an isolated one, for tests that must see every semaphore
and remove some (the ``semaphores`` tool's): ``own-shm``, a fresh, empty, writable tmpfs over
``/dev/shm``, which POSIX semaphores work in and no other process on the machine sees.

With ``install=(python, package_dir)``, the namespace also sees multiprocessing-rs (the copy in
``package_dir``, as ``build/pkg``) installed into that interpreter, so that it reaches the
interpreters that ``PYTHONPATH`` does not: a ``.pth`` file in site-packages puts the override
first on ``sys.path`` when ``-E`` or ``-I`` made the interpreter ignore ``PYTHONPATH``, and
``_multiprocessing.py`` and ``_posixshmem.py`` in the standard library directory (ahead of
``lib-dynload``) load ours even with ``-S``. CPython's suite starts such interpreters, which on a
host like these cannot work with stock's modules. Nothing is written to the real installation:
it is an overlay, gone with the namespace.

    python tests/hostshape.py SHAPE [--install PYTHON PACKAGE_DIR] -- COMMAND [ARGS...]
"""

import argparse
import os
import subprocess
import sys

SHAPES = {
    "ro-shm": "read-only /dev/shm",
    "no-shm": "no /dev/shm",
    "own-shm": "an empty /dev/shm of its own",
}

#: The shapes where stock multiprocessing cannot work.
PROBLEM_SHAPES = ("ro-shm", "no-shm")

# Each script runs as root in its own mount namespace, sets the shape up, then execs "$@".
_RO_SHM = """
mount -t tmpfs -o ro,mode=1777 tmpfs /dev/shm
"""

_OWN_SHM = """
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
"""

_NO_SHM = """
old=$(mktemp -d /tmp/hostshape-dev.XXXXXX)
mount --rbind /dev "$old"
mount -t tmpfs -o mode=755,nosuid tmpfs /dev
for node in null zero urandom random tty ptmx; do
    touch "/dev/$node"
    mount --bind "$old/$node" "/dev/$node"
done
mkdir /dev/pts
mount --rbind "$old/pts" /dev/pts
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout
ln -s /proc/self/fd/2 /dev/stderr
umount -l "$old"
rmdir "$old"
"""

# An overlay on the standard library directory (site-packages inside it), whose upper layer is a
# tmpfs that lives as long as the overlay.
_INSTALL = """
layer=$(mktemp -d /tmp/hostshape-install.XXXXXX)
mount -t tmpfs -o mode=700 tmpfs "$layer"
mkdir -p "$layer/upper/$HOSTSHAPE_SITE_SUBDIR" "$layer/work"
printf '%s\\n' "$HOSTSHAPE_PTH" > "$layer/upper/$HOSTSHAPE_SITE_SUBDIR/multiprocessing_rs_installed.pth"
printf '%s\\n' "$HOSTSHAPE_SHIM_MULTIPROCESSING" > "$layer/upper/_multiprocessing.py"
printf '%s\\n' "$HOSTSHAPE_SHIM_POSIXSHMEM" > "$layer/upper/_posixshmem.py"
mount -t overlay overlay -o "lowerdir=$HOSTSHAPE_STDLIB,upperdir=$layer/upper,workdir=$layer/work" \\
    "$HOSTSHAPE_STDLIB"
umount -l "$layer"
rmdir "$layer"
"""

#: A module of the standard library directory that runs the override's module of the same name.
_SHIM = """\
\"\"\"multiprocessing-rs, installed into this interpreter by tests/hostshape.py (in a namespace).\"\"\"
import sys
if {package!r} not in sys.path:
    sys.path.append({package!r})
with open({module!r}) as _source:
    exec(compile(_source.read(), {module!r}, "exec"))
"""


def available():
    """``None`` if shapes can be made here, else why not."""
    if os.geteuid() != 0:
        return "simulated hosts need root (a private mount namespace with new mounts)"
    if subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode != 0:
        return "unshare -m does not work here"
    return None


def _paths(python):
    """The standard library directory of ``python``, and its site-packages inside it."""
    out = subprocess.run(
        [
            python,
            "-E",
            "-S",
            "-c",
            "import sysconfig; p = sysconfig.get_paths(); print(p['stdlib']); print(p['purelib'])",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    stdlib, purelib = out.stdout.split("\n")[:2]
    if os.path.dirname(purelib) != stdlib:
        raise ValueError(f"{python}: site-packages {purelib} is not inside {stdlib}")
    return stdlib, os.path.basename(purelib)


def _install_env(python, package_dir):
    """What ``_INSTALL`` writes, for the copy of the package in ``package_dir``."""
    package_dir = str(package_dir)
    override = os.path.join(package_dir, "multiprocessing_rs", "_override")
    stdlib, site_subdir = _paths(python)
    # One `import` line (what a .pth file runs): the override first on sys.path, as PYTHONPATH
    # would put it, when the interpreter ignored PYTHONPATH.
    pth = (
        "import sys; sys.flags.ignore_environment and "
        f"sys.path.__setitem__(slice(0, 0), [d for d in {[override, package_dir]!r} if d not in sys.path])"
    )
    shims = {
        name: _SHIM.format(package=package_dir, module=os.path.join(override, f"{name}.py"))
        for name in ("_multiprocessing", "_posixshmem")
    }
    return {
        "HOSTSHAPE_STDLIB": stdlib,
        "HOSTSHAPE_SITE_SUBDIR": site_subdir,
        "HOSTSHAPE_PTH": pth,
        "HOSTSHAPE_SHIM_MULTIPROCESSING": shims["_multiprocessing"],
        "HOSTSHAPE_SHIM_POSIXSHMEM": shims["_posixshmem"],
    }


def command(shape, argv, install=None):
    """``(argv, extra_env)``: the command line that runs ``argv`` in ``shape``, and what to add to
    its environment."""
    if shape not in SHAPES:
        raise ValueError(f"unknown host shape {shape!r}: one of {', '.join(SHAPES)}")
    script = "set -eu\n" + {"ro-shm": _RO_SHM, "no-shm": _NO_SHM, "own-shm": _OWN_SHM}[shape]
    env = {}
    if install is not None:
        script += _INSTALL
        env.update(_install_env(*install))
    script += 'exec "$@"\n'
    return ["unshare", "-m", "--propagation", "private", "sh", "-c", script, f"hostshape-{shape}", *argv], env


def popen(shape, argv, install=None, env=None, **kwargs):
    """``subprocess.Popen`` of ``argv`` in ``shape``."""
    full, extra = command(shape, argv, install)
    environ = dict(os.environ if env is None else env, **extra)
    return subprocess.Popen(full, env=environ, **kwargs)


def run(shape, argv, install=None, env=None, **kwargs):
    """``subprocess.run`` of ``argv`` in ``shape``."""
    full, extra = command(shape, argv, install)
    environ = dict(os.environ if env is None else env, **extra)
    return subprocess.run(full, env=environ, **kwargs)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("shape", choices=sorted(SHAPES))
    parser.add_argument("--install", nargs=2, metavar=("PYTHON", "PACKAGE_DIR"), help="install ours into PYTHON there")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    cmd = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not cmd:
        parser.error("no command given")
    why_not = available()
    if why_not:
        sys.exit(f"hostshape: {why_not}")
    return run(args.shape, cmd, args.install).returncode


if __name__ == "__main__":
    sys.exit(main())
