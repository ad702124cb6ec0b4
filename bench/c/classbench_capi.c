/*
 * classbench_capi: the plain C-API reference of bench/class_bench.py. It is
 * compiled twice: against CPython's headers (a normal CPython extension) and
 * against PyPy's headers (an extension for PyPy's cpyext layer). The types
 * match classbench_hpy.c, each written with the C API's own means (static
 * type objects):
 *
 *   Point(x=0.0, y=0.0)  tp_new (positional arguments parsed by hand, keywords
 *                        by PyArg_ParseTupleAndKeywords); x, y: tp_members
 *                        (T_DOUBLE); r: tp_getset (= norm()); norm():
 *                        METH_NOARGS; p + q: nb_add, NotImplemented unless
 *                        both are Points
 *   Bag(n=100)           the ints 0..n in a malloc'ed array; len(): sq_length;
 *                        iter(): tp_iter, returning a BagIter
 *   BagIter              a copy of the items and an index; tp_iternext
 *
 * Build (bench/class_bench.py does it):
 *   gcc -O3 -fPIC -shared -I<the interpreter's include dir> classbench_capi.c \
 *       -o classbench_capi<the interpreter's EXT_SUFFIX> -lm
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- Point */

typedef struct {
    PyObject_HEAD
    double x;
    double y;
} PointObject;

static PyTypeObject Point_Type;

static PyObject *new_point(PyTypeObject *type, double x, double y)
{
    PointObject *p = (PointObject *)type->tp_alloc(type, 0);
    if (p == NULL)
        return NULL;
    p->x = x;
    p->y = y;
    return (PyObject *)p;
}

static PyObject *Point_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    double x = 0.0, y = 0.0;
    if (kwds == NULL || PyDict_Size(kwds) == 0) {
        /* The common case, positional arguments only: by hand. */
        Py_ssize_t nargs = PyTuple_GET_SIZE(args);
        if (nargs > 2) {
            PyErr_SetString(PyExc_TypeError, "Point() takes at most 2 arguments");
            return NULL;
        }
        if (nargs >= 1) {
            x = PyFloat_AsDouble(PyTuple_GET_ITEM(args, 0));
            if (x == -1.0 && PyErr_Occurred())
                return NULL;
        }
        if (nargs == 2) {
            y = PyFloat_AsDouble(PyTuple_GET_ITEM(args, 1));
            if (y == -1.0 && PyErr_Occurred())
                return NULL;
        }
    } else {
        static char *kwlist[] = {"x", "y", NULL};
        if (!PyArg_ParseTupleAndKeywords(args, kwds, "|dd", kwlist, &x, &y))
            return NULL;
    }
    return new_point(type, x, y);
}

static PyObject *Point_norm(PyObject *self, PyObject *unused)
{
    PointObject *p = (PointObject *)self;
    return PyFloat_FromDouble(hypot(p->x, p->y));
}

static PyObject *Point_get_r(PyObject *self, void *closure)
{
    PointObject *p = (PointObject *)self;
    return PyFloat_FromDouble(hypot(p->x, p->y));
}

static PyObject *Point_add(PyObject *a, PyObject *b)
{
    if (!PyObject_TypeCheck(a, &Point_Type) || !PyObject_TypeCheck(b, &Point_Type))
        Py_RETURN_NOTIMPLEMENTED;
    PointObject *p = (PointObject *)a, *q = (PointObject *)b;
    return new_point(&Point_Type, p->x + q->x, p->y + q->y);
}

static PyMemberDef Point_members[] = {
    {"x", T_DOUBLE, offsetof(PointObject, x), 0, NULL},
    {"y", T_DOUBLE, offsetof(PointObject, y), 0, NULL},
    {NULL}
};

static PyGetSetDef Point_getset[] = {
    {"r", Point_get_r, NULL, "The radius (= norm()).", NULL},
    {NULL}
};

static PyMethodDef Point_methods[] = {
    {"norm", Point_norm, METH_NOARGS, "The distance to the origin."},
    {NULL}
};

static PyNumberMethods Point_as_number = {
    .nb_add = Point_add,
};

static PyTypeObject Point_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "classbench_capi.Point",
    .tp_basicsize = sizeof(PointObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A point in the plane.",
    .tp_new = Point_new,
    .tp_members = Point_members,
    .tp_getset = Point_getset,
    .tp_methods = Point_methods,
    .tp_as_number = &Point_as_number,
};

/* ------------------------------------------------------------ Bag, BagIter */

typedef struct {
    PyObject_HEAD
    int64_t *items;
    Py_ssize_t n;
} BagObject;

typedef struct {
    PyObject_HEAD
    int64_t *items;  /* a copy of the Bag's */
    Py_ssize_t n;
    Py_ssize_t next;
} BagIterObject;

static PyTypeObject BagIter_Type;

static PyObject *Bag_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"n", NULL};
    long n = 100;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|l", kwlist, &n))
        return NULL;
    if (n < 0) {
        PyErr_SetString(PyExc_ValueError, "Bag(n): n must be >= 0");
        return NULL;
    }
    BagObject *bag = (BagObject *)type->tp_alloc(type, 0);
    if (bag == NULL)
        return NULL;
    bag->items = malloc((n ? n : 1) * sizeof(int64_t));
    if (bag->items == NULL) {
        Py_DECREF(bag);
        return PyErr_NoMemory();
    }
    for (long i = 0; i < n; i++)
        bag->items[i] = i;
    bag->n = n;
    return (PyObject *)bag;
}

static void Bag_dealloc(PyObject *self)
{
    free(((BagObject *)self)->items);
    Py_TYPE(self)->tp_free(self);
}

static Py_ssize_t Bag_len(PyObject *self)
{
    return ((BagObject *)self)->n;
}

static PyObject *Bag_iter(PyObject *self)
{
    BagObject *bag = (BagObject *)self;
    BagIterObject *it = PyObject_New(BagIterObject, &BagIter_Type);
    if (it == NULL)
        return NULL;
    it->items = malloc((bag->n ? bag->n : 1) * sizeof(int64_t));
    if (it->items == NULL) {
        Py_DECREF(it);
        return PyErr_NoMemory();
    }
    memcpy(it->items, bag->items, bag->n * sizeof(int64_t));
    it->n = bag->n;
    it->next = 0;
    return (PyObject *)it;
}

static PySequenceMethods Bag_as_sequence = {
    .sq_length = Bag_len,
};

static PyTypeObject Bag_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "classbench_capi.Bag",
    .tp_basicsize = sizeof(BagObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The integers 0..n.",
    .tp_new = Bag_new,
    .tp_dealloc = Bag_dealloc,
    .tp_as_sequence = &Bag_as_sequence,
    .tp_iter = Bag_iter,
};

static void BagIter_dealloc(PyObject *self)
{
    free(((BagIterObject *)self)->items);
    PyObject_Free(self);
}

static PyObject *BagIter_next(PyObject *self)
{
    BagIterObject *it = (BagIterObject *)self;
    if (it->next >= it->n)
        return NULL;  /* the end: no exception set */
    return PyLong_FromLongLong(it->items[it->next++]);
}

static PyTypeObject BagIter_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "classbench_capi.BagIter",
    .tp_basicsize = sizeof(BagIterObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The iterator of a Bag.",
    .tp_dealloc = BagIter_dealloc,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = BagIter_next,
};

/* ---------------------------------------------------------------- module */

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT,
    .m_name = "classbench_capi",
    .m_doc = "Class benchmark types, plain C API",
    .m_size = -1,
};

PyMODINIT_FUNC PyInit_classbench_capi(void)
{
    PyTypeObject *types[] = {&Point_Type, &Bag_Type, &BagIter_Type};
    const char *names[] = {"Point", "Bag", "BagIter"};
    for (int i = 0; i < 3; i++) {
        if (PyType_Ready(types[i]) < 0)
            return NULL;
    }
    PyObject *m = PyModule_Create(&moduledef);
    if (m == NULL)
        return NULL;
    for (int i = 0; i < 3; i++) {
        Py_INCREF(types[i]);
        if (PyModule_AddObject(m, names[i], (PyObject *)types[i]) < 0) {
            Py_DECREF(types[i]);
            Py_DECREF(m);
            return NULL;
        }
    }
    return m;
}
