/* CHOLMOD (SuiteSparse 5.12) from Debian's libsuitesparse-dev: the sparse LDL' factorisation of
 * the sparse model (Sources/RecommenderCore/SANSA.swift). Only the core's CholmodHandle uses it. */
#ifndef RECOMMENDER_CHOLMOD_SHIM_H
#define RECOMMENDER_CHOLMOD_SHIM_H
#include <suitesparse/cholmod.h>
#endif
