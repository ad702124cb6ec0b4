/*
 * callbench_capi: the plain C-API reference of bench/call_overhead.py. It is
 * compiled twice: against CPython's headers (a normal CPython extension) and
 * against PyPy's headers (an extension for PyPy's cpyext layer). The functions
 * match those of callbench_hpy.c, each in the C API's cheapest calling
 * convention:
 *
 *   noop()                   METH_NOARGS, returns None
 *   identity(x)              METH_O, returns x (a new reference)
 *   add_ints(a, b)           METH_FASTCALL, parsed by hand with PyLong_AsLong
 *   add_ints_argparse(a, b)  METH_VARARGS, parsed with PyArg_ParseTuple("ll")
 *
 * Build (bench/call_overhead.py does it):
 *   gcc -O3 -fPIC -shared -I<the interpreter's include dir> callbench_capi.c \
 *       -o callbench_capi<the interpreter's EXT_SUFFIX>
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *noop(PyObject *self, PyObject *unused)
{
    Py_RETURN_NONE;
}

static PyObject *identity(PyObject *self, PyObject *arg)
{
    Py_INCREF(arg);
    return arg;
}

/* The sum of a and b as a Python int, or OverflowError. */
static PyObject *sum_to_long(long a, long b)
{
    long sum;
    if (__builtin_add_overflow(a, b, &sum)) {
        PyErr_SetString(PyExc_OverflowError, "add_ints: the sum does not fit in a C long");
        return NULL;
    }
    return PyLong_FromLong(sum);
}

static PyObject *add_ints(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "add_ints() takes exactly 2 arguments");
        return NULL;
    }
    long a = PyLong_AsLong(args[0]);
    if (a == -1 && PyErr_Occurred())
        return NULL;
    long b = PyLong_AsLong(args[1]);
    if (b == -1 && PyErr_Occurred())
        return NULL;
    return sum_to_long(a, b);
}

static PyObject *add_ints_argparse(PyObject *self, PyObject *args)
{
    long a, b;
    if (!PyArg_ParseTuple(args, "ll", &a, &b))
        return NULL;
    return sum_to_long(a, b);
}

static PyMethodDef methods[] = {
    {"noop", noop, METH_NOARGS, "noop(): return None"},
    {"identity", identity, METH_O, "identity(x): return x"},
    {"add_ints", (PyCFunction)(void (*)(void))add_ints, METH_FASTCALL,
     "add_ints(a, b): return a + b (C longs, parsed by hand)"},
    {"add_ints_argparse", add_ints_argparse, METH_VARARGS,
     "add_ints_argparse(a, b): return a + b (C longs, parsed by PyArg_ParseTuple)"},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT,
    .m_name = "callbench_capi",
    .m_doc = "Call-overhead benchmark functions, plain C API",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit_callbench_capi(void)
{
    return PyModule_Create(&moduledef);
}
