/* A C extension against HPy 0.9's headers (universal ABI), for
 * tests/python/test_runtime_c.py: a type with `HPy_tp_call` and a subtype
 * with a larger struct of its own and no `HPy_tp_call`.
 *
 * HPy keeps a type's call function in a hidden field right after its
 * struct. A subtype's struct starts with the base's struct at the same
 * offset, so the base's field lies inside the subtype's own fields: on HPy
 * 0.9's runtime, writing them overwrites the call function (calling the
 * instance then jumps to what was written). hpy-rs's runtime moves the
 * field after the subtype's struct.
 *
 * Built by the test with gcc -shared -fPIC -DHPY_ABI_UNIVERSAL
 * -I<hpy/devel/include>; no HPy helper sources are needed. */
#include "hpy.h"

typedef struct {
    long tag;
} BaseObject;
HPyType_HELPERS(BaseObject)

typedef struct {
    BaseObject base;
    long extra[4];
} SubObject;
HPyType_HELPERS(SubObject)

HPyDef_SLOT(Base_call, HPy_tp_call)
static HPy Base_call_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
{
    return HPyLong_FromLong(ctx, BaseObject_AsStruct(ctx, self)->tag);
}

HPyDef_SLOT(Base_new, HPy_tp_new)
static HPy Base_new_impl(HPyContext *ctx, HPy cls, const HPy *args, HPy_ssize_t nargs, HPy kw)
{
    BaseObject *b;
    HPy h = HPy_New(ctx, cls, &b);
    if (HPy_IsNull(h))
        return HPy_NULL;
    b->tag = 42;
    return h;
}

HPyDef_SLOT(Sub_new, HPy_tp_new)
static HPy Sub_new_impl(HPyContext *ctx, HPy cls, const HPy *args, HPy_ssize_t nargs, HPy kw)
{
    SubObject *s;
    HPy h = HPy_New(ctx, cls, &s);
    if (HPy_IsNull(h))
        return HPy_NULL;
    s->base.tag = 7;
    for (int i = 0; i < 4; i++)
        s->extra[i] = 1000 + i;
    return h;
}

HPyDef_METH(Sub_extra, "extra", HPyFunc_NOARGS)
static HPy Sub_extra_impl(HPyContext *ctx, HPy self)
{
    SubObject *s = SubObject_AsStruct(ctx, self);
    return HPyLong_FromLong(ctx, s->extra[0] + s->extra[1] + s->extra[2] + s->extra[3]);
}

static HPyDef *Base_defines[] = {&Base_call, &Base_new, NULL};
static HPyType_Spec Base_spec = {
    .name = "call_subtype.Base",
    .basicsize = sizeof(BaseObject),
    .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE,
    .defines = Base_defines,
};

static HPyDef *Sub_defines[] = {&Sub_new, &Sub_extra, NULL};
static HPyType_Spec Sub_spec = {
    .name = "call_subtype.Sub",
    .basicsize = sizeof(SubObject),
    .flags = HPy_TPFLAGS_DEFAULT,
    .defines = Sub_defines,
};

HPyDef_SLOT(mod_exec, HPy_mod_exec)
static int mod_exec_impl(HPyContext *ctx, HPy m)
{
    HPy base = HPyType_FromSpec(ctx, &Base_spec, NULL);
    if (HPy_IsNull(base))
        return -1;
    HPyType_SpecParam params[] = {{HPyType_SpecParam_Base, base}, {(HPyType_SpecParam_Kind)0}};
    HPy sub = HPyType_FromSpec(ctx, &Sub_spec, params);
    int result = -1;
    if (!HPy_IsNull(sub) && HPy_SetAttr_s(ctx, m, "Base", base) == 0 && HPy_SetAttr_s(ctx, m, "Sub", sub) == 0)
        result = 0;
    HPy_Close(ctx, base);
    if (!HPy_IsNull(sub))
        HPy_Close(ctx, sub);
    return result;
}

static HPyDef *module_defines[] = {&mod_exec, NULL};
static HPyModuleDef moduledef = {
    .doc = "A callable HPy type and a subtype with a larger struct (tests/python/test_runtime_c.py)",
    .defines = module_defines,
};

HPy_MODINIT(call_subtype, moduledef)
