#!/usr/bin/env bash
# Runs a command, then fails if it left named semaphores behind: every POSIX named semaphore
# is a file /dev/shm/sem.NAME, and a test that forgets to unlink one leaks it until reboot.
# File-backed ones (and SharedMemory's fallback) are files in the user's private directory,
# $MPRS_SEMAPHORE_DIR or $TMPDIR/multiprocessing-rs-UID: what appears there counts too.
#
# Usage: scripts/no-leftover-semaphores.sh COMMAND [ARGS...]
# Exit status: the command's if it failed; otherwise 1 if semaphores were left, else 0.
# Semaphores that other programs create on the machine meanwhile are counted too: on a shared
# developer machine, read the names it prints.
set -uo pipefail

private_dir="${MPRS_SEMAPHORE_DIR:-${TMPDIR:-/tmp}/multiprocessing-rs-$(id -u)}"

semaphores() {
    {
        find /dev/shm -maxdepth 1 -name 'sem.*' -printf '/dev/shm/%f\n'
        find "$private_dir" -mindepth 1 -maxdepth 1 -printf '%p\n'
    } 2>/dev/null | sort
}

before="$(semaphores)"
"$@"
status=$?
left="$(comm -13 <(printf '%s\n' "$before") <(semaphores) | sed '/^$/d')"
if [ -n "$left" ]; then
    echo "no-leftover-semaphores: the run left $(printf '%s\n' "$left" | wc -l) named semaphore(s) or file(s):" >&2
    printf '  %s\n' $left >&2
    [ "$status" -ne 0 ] || status=1
else
    echo "no-leftover-semaphores: neither /dev/shm nor $private_dir holds a semaphore the run created"
fi
exit "$status"
