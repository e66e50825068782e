/* An LD_PRELOAD library: clock_gettime fails with EINVAL when the multiprocessing_rs extension
 * calls it, and works for every other caller. Rust's Instant::now() treats that failure as a
 * bug and panics, so a call that reads the clock (Connection.poll with a timeout) raises a
 * Rust panic inside the extension, which must unwind to the binding's catch_unwind. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <string.h>
#include <time.h>

static int called_from_the_extension(void *return_address) {
    Dl_info info;
    return dladdr(return_address, &info) && info.dli_fname && strstr(info.dli_fname, "_native.abi3.so");
}

int clock_gettime(clockid_t clock, struct timespec *ts) {
    if (called_from_the_extension(__builtin_return_address(0))) {
        errno = EINVAL;
        return -1;
    }
    int (*real)(clockid_t, struct timespec *) = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
    return real(clock, ts);
}
