/*
 * A stand-in for Windows' bcryptprimitives.dll, which Wine 8 lacks: Rust's standard library
 * imports ProcessPrng from it (for HashMap seeds and getrandom), so without this file in the
 * Wine prefix's system32 every Rust binary fails to load (status c0000135).
 *
 * ProcessPrng(data, length) fills the buffer with random bytes and always returns TRUE, as
 * Microsoft documents it. Wine's RtlGenRandom (advapi32's SystemFunction036) does the work; it
 * takes a ULONG length, so longer buffers are filled in pieces. Test use only: built by
 * scripts/wine-test.sh into the prefix, never shipped.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG piece = length > 0x40000000 ? 0x40000000 : (ULONG)length;
        if (!SystemFunction036(data, piece))
            ExitProcess(0xC0000001); /* Windows' ProcessPrng cannot fail: neither may we. */
        data += piece;
        length -= piece;
    }
    return TRUE;
}
