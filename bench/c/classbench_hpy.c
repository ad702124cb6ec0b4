/*
 * classbench_hpy: the C reference of bench/class_bench.py, written against
 * HPy 0.9.0 and built for the universal ABI, so that the very same
 * classbench_hpy.hpy0.so loads on CPython (hpy.universal) and on PyPy.
 *
 * The types match bench/classbench-rs (the Rust side), classbench_capi.c and
 * bench/classbench-pyo3:
 *
 *   Point(x=0.0, y=0.0)  HPyType_HELPERS; tp_new (positional arguments parsed
 *                        by hand, keywords by HPyArg_ParseKeywords[Dict]);
 *                        x, y: HPyDef_MEMBER (HPyMember_DOUBLE); r:
 *                        HPyDef_GET (= norm()); norm(): HPyDef_METH NOARGS;
 *                        p + q: nb_add, NotImplemented unless both are Points
 *   Bag(n=100)           the ints 0..n in a malloc'ed array (tp_destroy frees
 *                        it); len(): sq_length; __iter__: a method returning a
 *                        BagIter
 *   BagIter              a copy of the items and an index; __next__ and
 *                        __iter__: methods
 *
 * HPy 0.9 has no tp_iter/tp_iternext slot, so iteration goes through methods
 * named __iter__ and __next__, as in the Rust SDK. PyPy finds them by name;
 * CPython fills a type's slots from methods only when the attribute is set
 * after the type exists, so on CPython the module's exec re-sets both on
 * their types (HPy_SetAttr_s with the function from the type's __dict__),
 * which makes CPython install its slot_tp_iter/slot_tp_iternext.
 *
 * The types are kept in HPyGlobals (for HPy_New and the type checks of
 * nb_add and __iter__), created once by the module's exec slot.
 *
 * Build (bench/class_bench.py does it):
 *   gcc -O3 -fPIC -shared -DHPY_ABI_UNIVERSAL -I$HPY_INCLUDE_DIR classbench_hpy.c \
 *       .../hpy/devel/src/runtime/argparse.c .../helpers.c -o classbench_hpy.hpy0.so
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "hpy.h"

static HPyGlobal g_Point;
static HPyGlobal g_BagIter;

/* ---------------------------------------------------------------- Point */

typedef struct {
    double x;
    double y;
} PointObject;

HPyType_HELPERS(PointObject)

HPyDef_MEMBER(Point_x, "x", HPyMember_DOUBLE, offsetof(PointObject, x))
HPyDef_MEMBER(Point_y, "y", HPyMember_DOUBLE, offsetof(PointObject, y))

/* A new Point of type `type` (a handle), or HPy_NULL. */
static HPy new_point(HPyContext *ctx, HPy type, double x, double y)
{
    PointObject *p;
    HPy h = HPy_New(ctx, type, &p);
    if (HPy_IsNull(h))
        return HPy_NULL;
    p->x = x;
    p->y = y;
    return h;
}

HPyDef_SLOT(Point_new, HPy_tp_new)
static HPy Point_new_impl(HPyContext *ctx, HPy type, const HPy *args,
                          HPy_ssize_t nargs, HPy kw)
{
    double x = 0.0, y = 0.0;
    if (HPy_IsNull(kw)) {
        /* The common case, positional arguments only: by hand. */
        if (nargs > 2) {
            HPyErr_SetString(ctx, ctx->h_TypeError, "Point() takes at most 2 arguments");
            return HPy_NULL;
        }
        if (nargs >= 1) {
            x = HPyFloat_AsDouble(ctx, args[0]);
            if (x == -1.0 && HPyErr_Occurred(ctx))
                return HPy_NULL;
        }
        if (nargs == 2) {
            y = HPyFloat_AsDouble(ctx, args[1]);
            if (y == -1.0 && HPyErr_Occurred(ctx))
                return HPy_NULL;
        }
    } else {
        static const char *kwlist[] = {"x", "y", NULL};
        int ok;
        /* hpy 0.9.0 on CPython passes a dict; PyPy 7.3 passes the names
           as a tuple, with the values after the positional arguments. */
        if (HPyDict_Check(ctx, kw))
            ok = HPyArg_ParseKeywordsDict(ctx, NULL, args, nargs, kw, "|dd", kwlist, &x, &y);
        else
            ok = HPyArg_ParseKeywords(ctx, NULL, args, (size_t)nargs, kw, "|dd", kwlist, &x, &y);
        if (!ok)
            return HPy_NULL;
    }
    return new_point(ctx, type, x, y);
}

HPyDef_METH(Point_norm, "norm", HPyFunc_NOARGS, .doc = "The distance to the origin.")
static HPy Point_norm_impl(HPyContext *ctx, HPy self)
{
    PointObject *p = PointObject_AsStruct(ctx, self);
    return HPyFloat_FromDouble(ctx, hypot(p->x, p->y));
}

HPyDef_GET(Point_r, "r", .doc = "The radius (= norm()).")
static HPy Point_r_get(HPyContext *ctx, HPy self, void *closure)
{
    PointObject *p = PointObject_AsStruct(ctx, self);
    return HPyFloat_FromDouble(ctx, hypot(p->x, p->y));
}

HPyDef_SLOT(Point_add, HPy_nb_add)
static HPy Point_add_impl(HPyContext *ctx, HPy a, HPy b)
{
    HPy type = HPyGlobal_Load(ctx, g_Point);
    HPy result;
    if (!HPy_TypeCheck(ctx, a, type) || !HPy_TypeCheck(ctx, b, type)) {
        result = HPy_Dup(ctx, ctx->h_NotImplemented);
    } else {
        PointObject *p = PointObject_AsStruct(ctx, a);
        PointObject *q = PointObject_AsStruct(ctx, b);
        result = new_point(ctx, type, p->x + q->x, p->y + q->y);
    }
    HPy_Close(ctx, type);
    return result;
}

static HPyDef *Point_defines[] = {
    &Point_new, &Point_x, &Point_y, &Point_norm, &Point_r, &Point_add, NULL
};

static HPyType_Spec Point_spec = {
    .name = "classbench_hpy.Point",
    .basicsize = sizeof(PointObject),
    .flags = HPy_TPFLAGS_DEFAULT,
    .builtin_shape = SHAPE(PointObject),
    .defines = Point_defines,
    .doc = "A point in the plane.",
};

/* ------------------------------------------------------------ Bag, BagIter */

typedef struct {
    int64_t *items;
    HPy_ssize_t n;
} BagObject;

HPyType_HELPERS(BagObject)

typedef struct {
    int64_t *items;  /* a copy of the Bag's */
    HPy_ssize_t n;
    HPy_ssize_t next;
} BagIterObject;

HPyType_HELPERS(BagIterObject)

HPyDef_SLOT(Bag_new, HPy_tp_new)
static HPy Bag_new_impl(HPyContext *ctx, HPy type, const HPy *args,
                        HPy_ssize_t nargs, HPy kw)
{
    long n = 100;
    static const char *kwlist[] = {"n", NULL};
    int ok;
    if (HPy_IsNull(kw))
        ok = HPyArg_Parse(ctx, NULL, args, (size_t)nargs, "|l", &n);
    else if (HPyDict_Check(ctx, kw))
        ok = HPyArg_ParseKeywordsDict(ctx, NULL, args, nargs, kw, "|l", kwlist, &n);
    else
        ok = HPyArg_ParseKeywords(ctx, NULL, args, (size_t)nargs, kw, "|l", kwlist, &n);
    if (!ok)
        return HPy_NULL;
    if (n < 0) {
        HPyErr_SetString(ctx, ctx->h_ValueError, "Bag(n): n must be >= 0");
        return HPy_NULL;
    }
    BagObject *bag;
    HPy h = HPy_New(ctx, type, &bag);
    if (HPy_IsNull(h))
        return HPy_NULL;
    bag->items = malloc((n ? n : 1) * sizeof(int64_t));
    if (bag->items == NULL) {
        HPy_Close(ctx, h);
        return HPyErr_NoMemory(ctx);
    }
    for (long i = 0; i < n; i++)
        bag->items[i] = i;
    bag->n = n;
    return h;
}

HPyDef_SLOT(Bag_destroy, HPy_tp_destroy)
static void Bag_destroy_impl(void *obj)
{
    free(((BagObject *)obj)->items);
}

HPyDef_SLOT(Bag_len, HPy_sq_length)
static HPy_ssize_t Bag_len_impl(HPyContext *ctx, HPy self)
{
    return BagObject_AsStruct(ctx, self)->n;
}

HPyDef_METH(Bag_iter, "__iter__", HPyFunc_NOARGS, .doc = "Implement iter(self).")
static HPy Bag_iter_impl(HPyContext *ctx, HPy self)
{
    BagObject *bag = BagObject_AsStruct(ctx, self);
    HPy type = HPyGlobal_Load(ctx, g_BagIter);
    BagIterObject *it;
    HPy h = HPy_New(ctx, type, &it);
    HPy_Close(ctx, type);
    if (HPy_IsNull(h))
        return HPy_NULL;
    it->items = malloc((bag->n ? bag->n : 1) * sizeof(int64_t));
    if (it->items == NULL) {
        HPy_Close(ctx, h);
        return HPyErr_NoMemory(ctx);
    }
    memcpy(it->items, bag->items, bag->n * sizeof(int64_t));
    it->n = bag->n;
    it->next = 0;
    return h;
}

static HPyDef *Bag_defines[] = {&Bag_new, &Bag_destroy, &Bag_len, &Bag_iter, NULL};

static HPyType_Spec Bag_spec = {
    .name = "classbench_hpy.Bag",
    .basicsize = sizeof(BagObject),
    .flags = HPy_TPFLAGS_DEFAULT,
    .builtin_shape = SHAPE(BagObject),
    .defines = Bag_defines,
    .doc = "The integers 0..n.",
};

HPyDef_SLOT(BagIter_destroy, HPy_tp_destroy)
static void BagIter_destroy_impl(void *obj)
{
    free(((BagIterObject *)obj)->items);
}

HPyDef_METH(BagIter_iter, "__iter__", HPyFunc_NOARGS, .doc = "Implement iter(self).")
static HPy BagIter_iter_impl(HPyContext *ctx, HPy self)
{
    return HPy_Dup(ctx, self);
}

HPyDef_METH(BagIter_next, "__next__", HPyFunc_NOARGS, .doc = "Implement next(self).")
static HPy BagIter_next_impl(HPyContext *ctx, HPy self)
{
    BagIterObject *it = BagIterObject_AsStruct(ctx, self);
    if (it->next >= it->n) {
        HPyErr_SetObject(ctx, ctx->h_StopIteration, ctx->h_None);
        return HPy_NULL;
    }
    return HPyLong_FromInt64_t(ctx, it->items[it->next++]);
}

static HPyDef *BagIter_defines[] = {&BagIter_destroy, &BagIter_iter, &BagIter_next, NULL};

static HPyType_Spec BagIter_spec = {
    .name = "classbench_hpy.BagIter",
    .basicsize = sizeof(BagIterObject),
    .flags = HPy_TPFLAGS_DEFAULT,
    .builtin_shape = SHAPE(BagIterObject),
    .defines = BagIter_defines,
    .doc = "The iterator of a Bag.",
};

/* ---------------------------------------------------------------- module */

/* On CPython: set `name` again on `type`, to the function already in the
   type's __dict__, so that CPython installs the matching slot. */
static int rebind(HPyContext *ctx, HPy type, const char *name)
{
    HPy dict = HPy_GetAttr_s(ctx, type, "__dict__");
    if (HPy_IsNull(dict))
        return -1;
    HPy f = HPy_GetItem_s(ctx, dict, name);
    HPy_Close(ctx, dict);
    if (HPy_IsNull(f))
        return -1;
    int r = HPy_SetAttr_s(ctx, type, name, f);
    HPy_Close(ctx, f);
    return r;
}

/* Creates the type of `spec`, adds it to `module` as `name`, and stores it in
   `global` (if not NULL); rebinds `__iter__`/`__next__` when `dunders`. */
static int add_type(HPyContext *ctx, HPy module, const char *name, HPyType_Spec *spec,
                    HPyGlobal *global, const char *const *dunders)
{
    HPy type = HPyType_FromSpec(ctx, spec, NULL);
    if (HPy_IsNull(type))
        return -1;
    int cpython = strstr(ctx->name, "PyPy") == NULL;
    for (; cpython && dunders && *dunders; dunders++) {
        if (rebind(ctx, type, *dunders) < 0)
            goto fail;
    }
    if (HPy_SetAttr_s(ctx, module, name, type) < 0)
        goto fail;
    if (global)
        HPyGlobal_Store(ctx, global, type);
    HPy_Close(ctx, type);
    return 0;
fail:
    HPy_Close(ctx, type);
    return -1;
}

HPyDef_SLOT(module_exec, HPy_mod_exec)
static int module_exec_impl(HPyContext *ctx, HPy module)
{
    static const char *const iter[] = {"__iter__", NULL};
    static const char *const iter_next[] = {"__iter__", "__next__", NULL};
    if (add_type(ctx, module, "Point", &Point_spec, &g_Point, NULL) < 0)
        return -1;
    if (add_type(ctx, module, "Bag", &Bag_spec, NULL, iter) < 0)
        return -1;
    if (add_type(ctx, module, "BagIter", &BagIter_spec, &g_BagIter, iter_next) < 0)
        return -1;
    return 0;
}

static HPyDef *module_defines[] = {&module_exec, NULL};
static HPyGlobal *module_globals[] = {&g_Point, &g_BagIter, NULL};

static HPyModuleDef moduledef = {
    .doc = "Class benchmark types, C against HPy (universal ABI)",
    .size = 0,
    .defines = module_defines,
    .globals = module_globals,
};

HPy_MODINIT(classbench_hpy, moduledef)
