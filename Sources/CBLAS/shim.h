#include <cblas.h>
/* OpenBLAS extension: Winnow parallelises over molecules itself, so BLAS runs single-threaded. */
void openblas_set_num_threads(int num_threads);
