"""``python -m multiprocessing_rs run``: start a program with the override on."""

import os
import subprocess
import sys

from ._install import environ_with_override

# Flags that would make the new interpreter ignore PYTHONPATH, and with it the override.
_FLAGS_THAT_DISABLE_THE_OVERRIDE = {"-E", "-I"}


def interpreter_command(target):
    """The command line that runs ``target`` (``[SCRIPT, ARGS...]`` or ``['-m', MODULE, ...]``)
    in a new interpreter with this interpreter's flags."""
    flags = [flag for flag in subprocess._args_from_interpreter_flags() if flag not in _FLAGS_THAT_DISABLE_THE_OVERRIDE]
    return [sys.executable, *flags, *target]


def run_program(target):
    """Replaces this process with ``target`` running under the override (POSIX ``execve``, so
    signals, exit status and the terminal go straight to the program)."""
    command = interpreter_command(target)
    env = environ_with_override()
    if os.name == "posix":
        os.execve(sys.executable, command, env)
    return subprocess.call(command, env=env)
