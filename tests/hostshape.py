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

With ``site_wide=(python, directories)``, the namespace also sees a ``.pth`` file in that
interpreter's site-packages that puts ``directories`` first on ``sys.path`` in interpreters
started with ``-E`` or ``-I`` (which ignore ``PYTHONPATH``): how CPython's suite, whose helpers
start such interpreters, reaches the override in them. Nothing is written to the real
site-packages (an overlay, gone with the namespace).

    python tests/hostshape.py SHAPE [--site-wide PYTHON DIR...] -- COMMAND [ARGS...]
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

# An overlay on site-packages whose upper layer is a tmpfs that lives as long as the overlay.
_SITE_WIDE = """
layer=$(mktemp -d /tmp/hostshape-site.XXXXXX)
mount -t tmpfs -o mode=700 tmpfs "$layer"
mkdir "$layer/upper" "$layer/work"
printf '%s\\n' "$HOSTSHAPE_PTH" > "$layer/upper/multiprocessing_rs_site_wide.pth"
mount -t overlay overlay -o "lowerdir=$HOSTSHAPE_SITE,upperdir=$layer/upper,workdir=$layer/work" \\
    "$HOSTSHAPE_SITE"
umount -l "$layer"
rmdir "$layer"
"""


def available():
    """``None`` if shapes can be made here, else why not."""
    if os.geteuid() != 0:
        return "simulated hosts need root (a private mount namespace with new mounts)"
    if subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode != 0:
        return "unshare -m does not work here"
    return None


def _site_packages(python):
    out = subprocess.run(
        [python, "-E", "-S", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def _pth_line(directories):
    """One ``import`` line (what a .pth file runs): the directories go first on ``sys.path``
    when the interpreter ignored ``PYTHONPATH``."""
    dirs = [str(d) for d in directories]
    return (
        "import sys; sys.flags.ignore_environment and "
        f"sys.path.__setitem__(slice(0, 0), [d for d in {dirs!r} if d not in sys.path])"
    )


def command(shape, argv, site_wide=None):
    """``(argv, extra_env)``: the command line that runs ``argv`` in ``shape``, and what to add to
    its environment."""
    if shape not in SHAPES:
        raise ValueError(f"unknown host shape {shape!r}: one of {', '.join(SHAPES)}")
    script = "set -eu\n" + {"ro-shm": _RO_SHM, "no-shm": _NO_SHM, "own-shm": _OWN_SHM}[shape]
    env = {}
    if site_wide is not None:
        python, directories = site_wide
        script += _SITE_WIDE
        env["HOSTSHAPE_SITE"] = _site_packages(python)
        env["HOSTSHAPE_PTH"] = _pth_line(directories)
    script += 'exec "$@"\n'
    return ["unshare", "-m", "--propagation", "private", "sh", "-c", script, f"hostshape-{shape}", *argv], env


def popen(shape, argv, site_wide=None, env=None, **kwargs):
    """``subprocess.Popen`` of ``argv`` in ``shape``."""
    full, extra = command(shape, argv, site_wide)
    environ = dict(os.environ if env is None else env, **extra)
    return subprocess.Popen(full, env=environ, **kwargs)


def run(shape, argv, site_wide=None, env=None, **kwargs):
    """``subprocess.run`` of ``argv`` in ``shape``."""
    full, extra = command(shape, argv, site_wide)
    environ = dict(os.environ if env is None else env, **extra)
    return subprocess.run(full, env=environ, **kwargs)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("shape", choices=sorted(SHAPES))
    parser.add_argument("--site-wide", nargs="+", metavar=("PYTHON", "DIR"), help=argparse.SUPPRESS)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    cmd = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not cmd:
        parser.error("no command given")
    why_not = available()
    if why_not:
        sys.exit(f"hostshape: {why_not}")
    site_wide = (args.site_wide[0], args.site_wide[1:]) if args.site_wide else None
    return run(args.shape, cmd, site_wide).returncode


if __name__ == "__main__":
    sys.exit(main())
