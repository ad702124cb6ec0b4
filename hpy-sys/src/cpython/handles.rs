//! The handle constants (`h_None`, `h_TypeError`, ...) of a CPython-ABI
//! build: each is the address of CPython's object (a handle is the object
//! pointer), read from CPython's statics where the generated wrapper
//! (`hpy_sys::h_None(ctx)`) is called, so that it costs what `Py_None` costs
//! in C. [`fill_handles`](super::fill_handles) stores the same values in a
//! context.

use pyo3_ffi as ffi;

use super::py2h;
use crate::HPy;

macro_rules! handles {
    ($($name:ident => $object:expr;)*) => {
        $(
            #[doc = concat!("`", stringify!($name), "`: `", stringify!($object), "`.")]
            #[inline(always)]
            // Taking a static type's address needs no `unsafe`; reading an
            // exception's pointer does.
            #[allow(unused_unsafe)]
            pub fn $name() -> HPy {
                // SAFETY: only the address (or the value, set once at start-up)
                // of CPython's static object is read.
                py2h(unsafe { $object })
            }
        )*

        /// Stores every handle constant in `ctx`.
        pub(super) fn fill(ctx: &mut crate::HPyContext) {
            $( ctx.$name = $name(); )*
        }
    };
}

handles! {
    h_None => ffi::Py_None();
    h_True => ffi::Py_True();
    h_False => ffi::Py_False();
    h_NotImplemented => ffi::Py_NotImplemented();
    h_Ellipsis => ffi::Py_Ellipsis();
    h_BaseException => ffi::PyExc_BaseException;
    h_Exception => ffi::PyExc_Exception;
    h_TypeError => ffi::PyExc_TypeError;
    h_ValueError => ffi::PyExc_ValueError;
    h_OverflowError => ffi::PyExc_OverflowError;
    h_ZeroDivisionError => ffi::PyExc_ZeroDivisionError;
    h_KeyError => ffi::PyExc_KeyError;
    h_IndexError => ffi::PyExc_IndexError;
    h_AttributeError => ffi::PyExc_AttributeError;
    h_MemoryError => ffi::PyExc_MemoryError;
    h_LookupError => ffi::PyExc_LookupError;
    h_UnicodeEncodeError => ffi::PyExc_UnicodeEncodeError;
    h_UnicodeDecodeError => ffi::PyExc_UnicodeDecodeError;
    h_ModuleNotFoundError => ffi::PyExc_ModuleNotFoundError;
    h_UserWarning => ffi::PyExc_UserWarning;
    h_SyntaxError => ffi::PyExc_SyntaxError;
    h_SystemError => ffi::PyExc_SystemError;
    h_OSError => ffi::PyExc_OSError;
    h_FileNotFoundError => ffi::PyExc_FileNotFoundError;
    h_LongType => core::ptr::addr_of_mut!(ffi::PyLong_Type).cast();
    h_FloatType => core::ptr::addr_of_mut!(ffi::PyFloat_Type).cast();
    h_UnicodeType => core::ptr::addr_of_mut!(ffi::PyUnicode_Type).cast();
    h_ListType => core::ptr::addr_of_mut!(ffi::PyList_Type).cast();
    h_TupleType => core::ptr::addr_of_mut!(ffi::PyTuple_Type).cast();
    h_BaseObjectType => core::ptr::addr_of_mut!(ffi::PyBaseObject_Type).cast();
    h_TypeType => core::ptr::addr_of_mut!(ffi::PyType_Type).cast();
    h_BoolType => core::ptr::addr_of_mut!(ffi::PyBool_Type).cast();
    h_BytesType => core::ptr::addr_of_mut!(ffi::PyBytes_Type).cast();
    h_StopAsyncIteration => ffi::PyExc_StopAsyncIteration;
    h_StopIteration => ffi::PyExc_StopIteration;
    h_GeneratorExit => ffi::PyExc_GeneratorExit;
    h_ArithmeticError => ffi::PyExc_ArithmeticError;
    h_AssertionError => ffi::PyExc_AssertionError;
    h_BufferError => ffi::PyExc_BufferError;
    h_EOFError => ffi::PyExc_EOFError;
    h_FloatingPointError => ffi::PyExc_FloatingPointError;
    h_ImportError => ffi::PyExc_ImportError;
    h_KeyboardInterrupt => ffi::PyExc_KeyboardInterrupt;
    h_NameError => ffi::PyExc_NameError;
    h_RuntimeError => ffi::PyExc_RuntimeError;
    h_RecursionError => ffi::PyExc_RecursionError;
    h_NotImplementedError => ffi::PyExc_NotImplementedError;
    h_IndentationError => ffi::PyExc_IndentationError;
    h_TabError => ffi::PyExc_TabError;
    h_ReferenceError => ffi::PyExc_ReferenceError;
    h_SystemExit => ffi::PyExc_SystemExit;
    h_UnboundLocalError => ffi::PyExc_UnboundLocalError;
    h_UnicodeError => ffi::PyExc_UnicodeError;
    h_UnicodeTranslateError => ffi::PyExc_UnicodeTranslateError;
    h_BlockingIOError => ffi::PyExc_BlockingIOError;
    h_BrokenPipeError => ffi::PyExc_BrokenPipeError;
    h_ChildProcessError => ffi::PyExc_ChildProcessError;
    h_ConnectionError => ffi::PyExc_ConnectionError;
    h_ConnectionAbortedError => ffi::PyExc_ConnectionAbortedError;
    h_ConnectionRefusedError => ffi::PyExc_ConnectionRefusedError;
    h_ConnectionResetError => ffi::PyExc_ConnectionResetError;
    h_FileExistsError => ffi::PyExc_FileExistsError;
    h_InterruptedError => ffi::PyExc_InterruptedError;
    h_IsADirectoryError => ffi::PyExc_IsADirectoryError;
    h_NotADirectoryError => ffi::PyExc_NotADirectoryError;
    h_PermissionError => ffi::PyExc_PermissionError;
    h_ProcessLookupError => ffi::PyExc_ProcessLookupError;
    h_TimeoutError => ffi::PyExc_TimeoutError;
    h_Warning => ffi::PyExc_Warning;
    h_DeprecationWarning => ffi::PyExc_DeprecationWarning;
    h_PendingDeprecationWarning => ffi::PyExc_PendingDeprecationWarning;
    h_SyntaxWarning => ffi::PyExc_SyntaxWarning;
    h_RuntimeWarning => ffi::PyExc_RuntimeWarning;
    h_FutureWarning => ffi::PyExc_FutureWarning;
    h_ImportWarning => ffi::PyExc_ImportWarning;
    h_UnicodeWarning => ffi::PyExc_UnicodeWarning;
    h_BytesWarning => ffi::PyExc_BytesWarning;
    h_ResourceWarning => ffi::PyExc_ResourceWarning;
    h_ComplexType => core::ptr::addr_of_mut!(ffi::PyComplex_Type).cast();
    h_MemoryViewType => core::ptr::addr_of_mut!(ffi::PyMemoryView_Type).cast();
    h_CapsuleType => core::ptr::addr_of_mut!(ffi::PyCapsule_Type).cast();
    h_SliceType => core::ptr::addr_of_mut!(ffi::PySlice_Type).cast();
    // The builtins of the running frame (a dict), as in HPy's runtimes.
    h_Builtins => ffi::PyEval_GetBuiltins();
}
