/*
 * filter_check.c: recommender._check_filter(items oid, predicate text), the gate every named
 * filter passes when it is added (add_filter) and again every time it is used (recommend()).
 *
 * A filter predicate is written by a role that may write the catalog and runs as whichever role
 * calls recommend(), possibly a superuser. So it may only be a side-effect-free expression over
 * the items table's own columns:
 *   1. the raw parse tree (PostgreSQL's own parser) may hold only plain expression nodes: column
 *      references to the items table, constants, operators, function calls, casts, CASE,
 *      COALESCE, IS [NOT] NULL, boolean logic, arrays. No subqueries, parameters, aggregates,
 *      window functions, or names qualified with a schema other than pg_catalog. Column and cast
 *      types are checked before the expression is analysed (analysis runs type input functions
 *      on literals, so no type with user code may be involved: only pg_catalog types and enums);
 *   2. the analysed expression (PostgreSQL's own analyser, with search_path = pg_catalog) may call
 *      only functions and operators of pg_catalog that are not VOLATILE (set_config(), nextval(),
 *      pg_read_file() and the like are VOLATILE) and that do not run SQL text (the
 *      query_to_xml() family, which is STABLE, is refused by name); its Vars are the items
 *      table's columns; no domain coercions (their CHECK constraints may call user code).
 * Anything else is refused with SQLSTATE 42501 (insufficient_privilege) or 42804.
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "parser/parse_coerce.h"
#include "parser/parse_collate.h"
#include "parser/parse_expr.h"
#include "parser/parse_node.h"
#include "parser/parse_relation.h"
#include "parser/parse_type.h"
#include "parser/parser.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

PG_FUNCTION_INFO_V1(rec_check_filter);

typedef struct FilterCheck {
    Oid relid;
    const char *why;      /* set when refused */
} FilterCheck;

/* A type whose input, output and comparison functions are PostgreSQL's own. */
static bool
type_is_safe(Oid type)
{
    HeapTuple tup;
    Form_pg_type t;
    bool ok;

    tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(type));
    if (!HeapTupleIsValid(tup))
        return false;
    t = (Form_pg_type) GETSTRUCT(tup);
    if (t->typtype == TYPTYPE_ENUM)
        ok = true;
    else if (t->typtype == TYPTYPE_BASE && OidIsValid(t->typelem) && t->typlen == -1 && t->typelem != type)
        ok = type_is_safe(t->typelem);      /* an array: its element decides */
    else
        ok = t->typnamespace == PG_CATALOG_NAMESPACE && t->typtype != TYPTYPE_DOMAIN;
    ReleaseSysCache(tup);
    return ok;
}

static bool
name_is_catalog(List *names)
{
    /* unqualified, or qualified with pg_catalog */
    if (list_length(names) == 1)
        return true;
    if (list_length(names) == 2 && IsA(linitial(names), String) &&
        strcmp(strVal(linitial(names)), "pg_catalog") == 0)
        return true;
    return false;
}

static bool
raw_walker(Node *node, FilterCheck *fc)
{
    if (node == NULL)
        return false;
    switch (nodeTag(node))
    {
        case T_A_Const:
        case T_BoolExpr:
        case T_NullTest:
        case T_BooleanTest:
        case T_CaseExpr:
        case T_CaseWhen:
        case T_CoalesceExpr:
        case T_MinMaxExpr:
        case T_A_ArrayExpr:
        case T_A_Indirection:
        case T_A_Indices:
        case T_SQLValueFunction:
        case T_List:
            break;
        case T_ColumnRef:
            {
                ColumnRef *c = (ColumnRef *) node;
                AttrNumber att;
                Oid type;

                if (list_length(c->fields) != 1 || !IsA(linitial(c->fields), String))
                {
                    fc->why = "a filter may name only the items table's columns, unqualified";
                    return true;
                }
                att = get_attnum(fc->relid, strVal(linitial(c->fields)));
                if (att == InvalidAttrNumber)
                    break;          /* the analyser reports the unknown column */
                type = get_atttype(fc->relid, att);
                if (!type_is_safe(type))
                {
                    fc->why = "a filter may use only columns of PostgreSQL's built-in types or enums (no domains or user-defined types)";
                    return true;
                }
                return false;
            }
        case T_A_Expr:
            {
                A_Expr *a = (A_Expr *) node;

                if (a->name != NIL && !name_is_catalog(a->name))
                {
                    fc->why = "a filter may use only PostgreSQL's built-in operators (pg_catalog)";
                    return true;
                }
                break;
            }
        case T_FuncCall:
            {
                FuncCall *f = (FuncCall *) node;

                if (!name_is_catalog(f->funcname))
                {
                    fc->why = "a filter may call only PostgreSQL's built-in functions (pg_catalog)";
                    return true;
                }
                if (f->agg_order != NIL || f->agg_filter != NULL || f->over != NULL || f->agg_star || f->agg_distinct)
                {
                    fc->why = "a filter may not use aggregates or window functions";
                    return true;
                }
                break;
            }
        case T_TypeCast:
            {
                TypeCast *tc = (TypeCast *) node;
                Oid type;
                int32 typmod;

                if (tc->typeName->pct_type)
                {
                    fc->why = "a filter may not use %TYPE";
                    return true;
                }
                typenameTypeIdAndMod(NULL, tc->typeName, &type, &typmod);
                if (!type_is_safe(type))
                {
                    fc->why = "a filter may cast only to PostgreSQL's built-in types or enums";
                    return true;
                }
                /* walk the argument only: the type name was checked */
                return raw_walker(tc->arg, fc);
            }
        case T_CollateClause:
            return raw_walker(((CollateClause *) node)->arg, fc);
        default:
            fc->why = "a filter may not contain subqueries, parameters or other statements: only an expression over the items table's columns";
            return true;
    }
    return raw_expression_tree_walker(node, raw_walker, (void *) fc);
}

static bool
function_refused(Oid func, void *context)
{
    HeapTuple tup;
    Form_pg_proc p;
    bool refused;
    FilterCheck *fc = (FilterCheck *) context;

    tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(func));
    if (!HeapTupleIsValid(tup))
        return true;
    p = (Form_pg_proc) GETSTRUCT(tup);
    refused = p->pronamespace != PG_CATALOG_NAMESPACE || p->provolatile == PROVOLATILE_VOLATILE ||
        strstr(NameStr(p->proname), "to_xml") != NULL ||          /* table_to_xml() & co. read any relation */
        strcmp(NameStr(p->proname), "txid_current") == 0 ||       /* STABLE, but assign a transaction id */
        strcmp(NameStr(p->proname), "pg_current_xact_id") == 0;
    if (refused)
        fc->why = p->pronamespace != PG_CATALOG_NAMESPACE
            ? "a filter may call only PostgreSQL's built-in functions and operators (pg_catalog)"
            : "a filter may not call functions that change state or run queries (VOLATILE functions, query_to_xml and the like)";
    ReleaseSysCache(tup);
    return refused;
}

static bool
expr_walker(Node *node, FilterCheck *fc)
{
    if (node == NULL)
        return false;
    switch (nodeTag(node))
    {
        case T_Var:
            {
                Var *v = (Var *) node;

                if (v->varno != 1 || v->varlevelsup != 0 || v->varattno <= 0)
                {
                    fc->why = "a filter may use only the items table's columns";
                    return true;
                }
                break;
            }
        case T_Const:
            if (!type_is_safe(((Const *) node)->consttype))
            {
                fc->why = "a filter may use only constants of PostgreSQL's built-in types or enums";
                return true;
            }
            break;
        case T_FuncExpr:
        case T_OpExpr:
        case T_DistinctExpr:
        case T_NullIfExpr:
        case T_ScalarArrayOpExpr:
        case T_BoolExpr:
        case T_NullTest:
        case T_BooleanTest:
        case T_CaseExpr:
        case T_CaseWhen:
        case T_CaseTestExpr:
        case T_CoalesceExpr:
        case T_MinMaxExpr:
        case T_ArrayExpr:
        case T_RelabelType:
        case T_CoerceViaIO:
        case T_ArrayCoerceExpr:
        case T_CollateExpr:
        case T_SQLValueFunction:
        case T_SubscriptingRef:
        case T_List:
            break;
        default:
            fc->why = "a filter may not contain subqueries, parameters, aggregates or domain coercions: only an expression over the items table's columns";
            return true;
    }
    if (!IsA(node, List) && check_functions_in_node(node, function_refused, (void *) fc))
        return true;
    /* a List has no type: exprType() of one raises "unrecognized node type" (ARRAY[...] elements) */
    if (!IsA(node, List) && exprType(node) != InvalidOid && !type_is_safe(exprType(node)) &&
        exprType(node) != RECORDOID)
    {
        fc->why = "a filter may compute only values of PostgreSQL's built-in types or enums";
        return true;
    }
    return expression_tree_walker(node, expr_walker, (void *) fc);
}

/* Report positions in the predicate, not in the query that called _check_filter. */
static void
filter_error_callback(void *arg)
{
    const char *query = (const char *) arg;
    int pos = geterrposition();

    if (pos > 0)
    {
        errposition(0);
        internalerrposition(pos);
        internalerrquery(query);
    }
    errcontext("filter predicate");
}

/*
 * recommender._check_filter(items oid, predicate text) RETURNS void: raises unless the predicate
 * is a side-effect-free boolean expression over the items relation's columns (see above).
 */
Datum
rec_check_filter(PG_FUNCTION_ARGS)
{
    Oid relid = PG_GETARG_OID(0);
    char *pred = text_to_cstring(PG_GETARG_TEXT_PP(1));
    char *sql = psprintf("SELECT %s", pred);
    List *stmts;
    RawStmt *raw;
    SelectStmt *sel;
    ResTarget *rt;
    FilterCheck fc = {relid, NULL};
    Relation rel;
    ParseState *pstate;
    ParseNamespaceItem *nsitem;
    Node *expr;
    ErrorContextCallback cb;

    /* only for relations the caller may read: no lock on, or probing of, anything else */
    if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
        ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                        errmsg("permission denied for the items relation with OID %u", relid)));
    cb.callback = filter_error_callback;
    cb.arg = (void *) sql;
    cb.previous = error_context_stack;
    error_context_stack = &cb;
    stmts = raw_parser(sql, RAW_PARSE_DEFAULT);
    if (list_length(stmts) != 1)
        ereport(ERROR, (errcode(ERRCODE_SYNTAX_ERROR),
                        errmsg("a filter predicate must be one expression")));
    raw = linitial_node(RawStmt, stmts);
    sel = (SelectStmt *) raw->stmt;
    if (!IsA(sel, SelectStmt) || sel->op != SETOP_NONE || sel->fromClause != NIL || sel->whereClause != NULL ||
        sel->groupClause != NIL || sel->havingClause != NULL || sel->windowClause != NIL ||
        sel->valuesLists != NIL || sel->sortClause != NIL || sel->limitCount != NULL ||
        sel->limitOffset != NULL || sel->lockingClause != NIL || sel->withClause != NULL ||
        sel->intoClause != NULL || sel->distinctClause != NIL || list_length(sel->targetList) != 1)
        ereport(ERROR, (errcode(ERRCODE_SYNTAX_ERROR),
                        errmsg("a filter predicate must be one expression over the items table's columns"),
                        errdetail("Got: %s", pred)));
    rt = linitial_node(ResTarget, sel->targetList);
    if (rt->name != NULL || rt->indirection != NIL || rt->val == NULL)
        ereport(ERROR, (errcode(ERRCODE_SYNTAX_ERROR),
                        errmsg("a filter predicate must be one expression over the items table's columns")));

    if (raw_walker(rt->val, &fc))
        ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                        errmsg("filter predicate refused: %s", fc.why),
                        errdetail("Predicate: %s", pred),
                        errhint("Filters run as the role calling recommend(); write them with the items table's columns, constants and PostgreSQL's built-in operators and functions.")));

    rel = table_open(relid, AccessShareLock);
    pstate = make_parsestate(NULL);
    pstate->p_sourcetext = sql;
    nsitem = addRangeTableEntryForRelation(pstate, rel, AccessShareLock, NULL, false, false);
    addNSItemToQuery(pstate, nsitem, false, true, true);
    expr = transformExpr(pstate, rt->val, EXPR_KIND_WHERE);
    expr = coerce_to_boolean(pstate, expr, "a filter predicate");
    assign_expr_collations(pstate, expr);
    if (expr_walker(expr, &fc))
        ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                        errmsg("filter predicate refused: %s", fc.why),
                        errdetail("Predicate: %s", pred),
                        errhint("Filters run as the role calling recommend(); write them with the items table's columns, constants and PostgreSQL's built-in operators and functions.")));
    free_parsestate(pstate);
    table_close(rel, AccessShareLock);
    error_context_stack = cb.previous;
    PG_RETURN_VOID();
}
