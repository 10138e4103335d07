/* Heap-allocation counter for `Benchmarks/runtime/allocations.py` and the allocation test:
 * loaded with LD_PRELOAD, it counts every malloc, calloc, realloc and aligned allocation of
 * the process (through glibc's own entry points, so no dlsym is needed) and, separately, those
 * called from OpenBLAS (its packing buffers). `runtime-tool bench` reads both before and after
 * its timed runs (`gs_alloc_total`, `gs_alloc_openblas`) and reports allocations per run; any
 * other program gets them printed on exit:
 *     GS_ALLOCS total=N openblas=M
 * Build: cc -shared -fPIC -O2 -o alloc_count.so alloc_count.c -ldl */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <stddef.h>
#include <stdint.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

static atomic_long total = 0, openblas = 0;
/* OpenBLAS's loaded segments, found once when the counter loads (the tool links OpenBLAS, so
 * it is mapped by then): an address compare per allocation instead of a dladdr. */
static uintptr_t blas_lo[8], blas_hi[8];
static int blas_ranges = 0;

static int find_openblas(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size; (void)data;
    if (!info->dlpi_name || !strstr(info->dlpi_name, "openblas")) return 0;
    for (int i = 0; i < info->dlpi_phnum && blas_ranges < 8; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD) continue;
        blas_lo[blas_ranges] = info->dlpi_addr + ph->p_vaddr;
        blas_hi[blas_ranges] = blas_lo[blas_ranges] + ph->p_memsz;
        blas_ranges++;
    }
    return 0;
}

__attribute__((constructor)) static void setup(void) { dl_iterate_phdr(find_openblas, NULL); }

static void count(void *caller) {
    atomic_fetch_add_explicit(&total, 1, memory_order_relaxed);
    uintptr_t a = (uintptr_t)caller;
    for (int i = 0; i < blas_ranges; i++)
        if (a >= blas_lo[i] && a < blas_hi[i]) { atomic_fetch_add_explicit(&openblas, 1, memory_order_relaxed); return; }
}

void *malloc(size_t n) { count(__builtin_return_address(0)); return __libc_malloc(n); }
void *calloc(size_t k, size_t n) { count(__builtin_return_address(0)); return __libc_calloc(k, n); }
void *realloc(void *p, size_t n) { count(__builtin_return_address(0)); return __libc_realloc(p, n); }
void *memalign(size_t a, size_t n) { count(__builtin_return_address(0)); return __libc_memalign(a, n); }
void *aligned_alloc(size_t a, size_t n) { count(__builtin_return_address(0)); return __libc_memalign(a, n); }
int posix_memalign(void **out, size_t a, size_t n) {
    count(__builtin_return_address(0));
    void *p = __libc_memalign(a, n);
    if (!p) return 12; /* ENOMEM */
    *out = p;
    return 0;
}

/* Read by `runtime-tool bench`, which reports allocations per timed run when these exist. */
long gs_alloc_total(void) { return atomic_load(&total); }
long gs_alloc_openblas(void) { return atomic_load(&openblas); }

__attribute__((destructor)) static void report(void) {
    fprintf(stderr, "GS_ALLOCS total=%ld openblas=%ld\n", (long)total, (long)openblas);
}
