/* Internal to the C target: shared between shim.c and entry.c (not used by Swift). */
#ifndef REC_INTERNAL_H
#define REC_INTERNAL_H
#ifdef POSTGRES_H
typedef struct RecSinkData {
    Tuplestorestate *store;
    TupleDesc desc;
    MemoryContext cxt;
} RecSinkData;
#endif
void rec_begin_call(void);
void rec_finish_call(int rc);
void rec_forget_plans(void);
void rec_forget_stale_plans(void);
void rec_register_inval_callbacks(void);
#endif
