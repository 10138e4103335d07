// OpenBLAS's CBLAS interface (Debian libopenblas-dev: /usr/include/x86_64-linux-gnu/cblas.h),
// which also declares openblas_set_num_threads.
#include <cblas.h>
