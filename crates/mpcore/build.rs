//! Names the platform predicates of the crate once, by what they provide, so that the code says
//! `#[cfg(nowait_io)]` rather than repeating a list of systems (and check-cfg knows the names).

use cfg_aliases::cfg_aliases;

fn main() {
    cfg_aliases! {
        // `preadv2`/`pwritev2` with `RWF_NOWAIT`: reads and writes that take only what is ready,
        // without waiting or touching the descriptor's flags.
        nowait_io: { target_os = "linux" },
        // `fcntl(F_GETPIPE_SZ / F_SETPIPE_SZ)`: pipes whose kernel buffer can be resized.
        resizable_pipes: { target_os = "linux" },
        // `madvise(MADV_HUGEPAGE)`: huge pages for large anonymous buffers.
        huge_pages: { target_os = "linux" },
        // `pipe2` and `accept4` create descriptors close-on-exec in the same call; elsewhere
        // `fcntl(F_SETFD, FD_CLOEXEC)` follows.
        cloexec_at_creation: { any(target_os = "linux", target_os = "android", target_os = "freebsd") },
        // AF_UNIX sockets in the abstract namespace (names that start with a NUL byte).
        abstract_sockets: { any(target_os = "linux", target_os = "android") },
        // Futexes on a shared file mapping: the file-backed semaphores, for hosts where
        // `sem_open` cannot work (no usable `/dev/shm`), beside the POSIX ones.
        file_semaphores: { target_os = "linux" },
    }
}
