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
#ifdef POSTGRES_H
typedef struct RecCallState {
    MemoryContext error_cxt;
    char *hint;
} RecCallState;
void rec_begin_inner_call(RecCallState *state);
void rec_finish_inner_call(int rc, RecCallState *state);
#endif
void rec_finish_call(int rc);
void rec_forget_plans(void);
void rec_forget_stale_plans(void);
void rec_register_inval_callbacks(void);
#endif
