/* OpenBLAS from Debian's libopenblas-dev: CBLAS plus the few LAPACK routines the core uses,
 * declared here with their Fortran calling convention so that no LAPACKE wrapper is needed. */
#ifndef RECOMMENDER_OPENBLAS_SHIM_H
#define RECOMMENDER_OPENBLAS_SHIM_H
#include <cblas.h>

void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info);
void dpotri_(const char *uplo, const int *n, double *a, const int *lda, int *info);
void dpotrs_(const char *uplo, const int *n, const int *nrhs, const double *a, const int *lda,
             double *b, const int *ldb, int *info);
void dtrtri_(const char *uplo, const char *diag, const int *n, double *a, const int *lda, int *info);
void dlauum_(const char *uplo, const int *n, double *a, const int *lda, int *info);
void dsyevr_(const char *jobz, const char *range, const char *uplo, const int *n, double *a,
             const int *lda, const double *vl, const double *vu, const int *il, const int *iu,
             const double *abstol, int *m, double *w, double *z, const int *ldz, int *isuppz,
             double *work, const int *lwork, int *iwork, const int *liwork, int *info);
#endif
