/*
 * callgrind_ctl: lets a benchmark worker mark the parts of one process that
 * callgrind counts apart (bench/class_bench.py counts every column of a row
 * in one process). An HPy universal module, so that it loads on CPython and
 * on PyPy without cpyext:
 *
 *   zero()       CALLGRIND_ZERO_STATS: the counters start again from zero
 *   dump(name)   CALLGRIND_DUMP_STATS_AT(name): writes the counts since the
 *                last zero() or dump() to a new profile file, described by
 *                "Client Request: <name>", and zeroes the counters
 *
 * Outside valgrind both do nothing.
 *
 * Build (bench/class_bench.py does it; valgrind's package ships the header):
 *   gcc -O3 -fPIC -shared -DHPY_ABI_UNIVERSAL -I$HPY_INCLUDE_DIR callgrind_ctl.c \
 *       .../hpy/devel/src/runtime/argparse.c -o callgrind_ctl.hpy0.so
 */
#include <valgrind/callgrind.h>
#include "hpy.h"

HPyDef_METH(zero, "zero", HPyFunc_NOARGS, .doc = "zero(): CALLGRIND_ZERO_STATS")
static HPy zero_impl(HPyContext *ctx, HPy self)
{
    CALLGRIND_ZERO_STATS;
    return HPy_Dup(ctx, ctx->h_None);
}

HPyDef_METH(dump, "dump", HPyFunc_O, .doc = "dump(name): CALLGRIND_DUMP_STATS_AT(name)")
static HPy dump_impl(HPyContext *ctx, HPy self, HPy name)
{
    const char *s = HPyUnicode_AsUTF8AndSize(ctx, name, NULL);
    if (s == NULL)
        return HPy_NULL;
    CALLGRIND_DUMP_STATS_AT(s);
    return HPy_Dup(ctx, ctx->h_None);
}

static HPyDef *module_defines[] = {&zero, &dump, NULL};

static HPyModuleDef moduledef = {
    .doc = "Callgrind's client requests, for benchmark workers",
    .size = 0,
    .defines = module_defines,
};

HPy_MODINIT(callgrind_ctl, moduledef)
