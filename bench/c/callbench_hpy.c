/*
 * callbench_hpy: the C reference of bench/call_overhead.py, written against
 * HPy 0.9.0 and built for the universal ABI, so that the very same
 * callbench_hpy.hpy0.so loads on CPython (hpy.universal) and on PyPy.
 *
 * Each function does the least its call shape allows, so a call costs little
 * more than HPy's calling convention:
 *
 *   noop()                   NOARGS, returns None
 *   identity(x)              O, returns x (a new handle: HPy_Dup)
 *   add_ints(a, b)           VARARGS, parsed by hand with HPyLong_AsInt64_t
 *   add_ints_argparse(a, b)  VARARGS, parsed with HPyArg_Parse("ll"), the helper
 *                            compiled into the module from hpy's argparse.c
 *
 * Build (bench/call_overhead.py does it):
 *   gcc -O3 -fPIC -shared -DHPY_ABI_UNIVERSAL -I$HPY_INCLUDE_DIR \
 *       callbench_hpy.c .../hpy/devel/src/runtime/argparse.c -o callbench_hpy.hpy0.so
 */
#include "hpy.h"

HPyDef_METH(noop, "noop", HPyFunc_NOARGS,
            .doc = "noop(): return None")
static HPy noop_impl(HPyContext *ctx, HPy self)
{
    return HPy_Dup(ctx, ctx->h_None);
}

HPyDef_METH(identity, "identity", HPyFunc_O,
            .doc = "identity(x): return x")
static HPy identity_impl(HPyContext *ctx, HPy self, HPy arg)
{
    return HPy_Dup(ctx, arg);
}

/* The sum of a and b as a Python int, or OverflowError. */
static HPy sum_to_long(HPyContext *ctx, int64_t a, int64_t b)
{
    int64_t sum;
    if (__builtin_add_overflow(a, b, &sum)) {
        HPyErr_SetString(ctx, ctx->h_OverflowError, "add_ints: the sum does not fit in 64 bits");
        return HPy_NULL;
    }
    return HPyLong_FromInt64_t(ctx, sum);
}

HPyDef_METH(add_ints, "add_ints", HPyFunc_VARARGS,
            .doc = "add_ints(a, b): return a + b (64-bit ints, parsed by hand)")
static HPy add_ints_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    if (nargs != 2) {
        HPyErr_SetString(ctx, ctx->h_TypeError, "add_ints() takes exactly 2 arguments");
        return HPy_NULL;
    }
    int64_t a = HPyLong_AsInt64_t(ctx, args[0]);
    if (a == -1 && HPyErr_Occurred(ctx))
        return HPy_NULL;
    int64_t b = HPyLong_AsInt64_t(ctx, args[1]);
    if (b == -1 && HPyErr_Occurred(ctx))
        return HPy_NULL;
    return sum_to_long(ctx, a, b);
}

HPyDef_METH(add_ints_argparse, "add_ints_argparse", HPyFunc_VARARGS,
            .doc = "add_ints_argparse(a, b): return a + b (C longs, parsed by HPyArg_Parse)")
static HPy add_ints_argparse_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    long a, b;
    if (!HPyArg_Parse(ctx, NULL, args, nargs, "ll", &a, &b))
        return HPy_NULL;
    return sum_to_long(ctx, a, b);
}

static HPyDef *module_defines[] = {
    &noop,
    &identity,
    &add_ints,
    &add_ints_argparse,
    NULL
};

static HPyModuleDef moduledef = {
    .doc = "Call-overhead benchmark functions, C against HPy (universal ABI)",
    .size = 0,
    .defines = module_defines,
};

HPy_MODINIT(callbench_hpy, moduledef)
