//! The C-API implementations of `hpy_sys::cpython`, called through the
//! generated wrappers (`HPyLong_FromInt64_t(ctx, ..)`, ...) with a context
//! that `cpython::fill` filled, in an interpreter embedded in this test
//! process: what each returns, what it raises, and that references balance.
//!
//! Run with the feature and the interpreter to embed:
//! `PYO3_PYTHON=<python> cargo test -p hpy-sys --features cpython --test cpython_impl`,
//! and again with `RUSTFLAGS='--cfg hpy_abi="cpython"'` (a CPython-ABI build,
//! whose wrappers call the implementations directly): `tools/test` does both.
#![cfg(any(feature = "cpython", hpy_abi = "cpython"))]
#![allow(unsafe_op_in_unsafe_fn)]

use std::ffi::CStr;
use std::sync::Once;

#[cfg(not(hpy_abi = "cpython"))]
use hpy_sys::cpython::fill;
#[cfg(hpy_abi = "cpython")]
use hpy_sys::cpython::fill_handles;
use hpy_sys::cpython::h2py;
use hpy_sys::*;
use pyo3_ffi as ffi;

/// Runs `f` with the GIL held and a context filled with the implementations.
fn with_context(f: impl FnOnce(*mut HPyContext)) {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        // SAFETY: initialises the embedded interpreter once, then releases the
        // GIL so that every test thread can take it.
        unsafe {
            ffi::Py_InitializeEx(0);
            ffi::PyEval_SaveThread();
        }
    });
    /// Gives the GIL back also when a check fails (a panic unwinds through
    /// it), so that the other tests do not wait for it forever.
    struct Gil(ffi::PyGILState_STATE);
    impl Drop for Gil {
        fn drop(&mut self) {
            // SAFETY: taken by this thread in `with_context`; any exception a
            // failed test left is cleared first.
            unsafe {
                ffi::PyErr_Clear();
                ffi::PyGILState_Release(self.0);
            }
        }
    }
    // SAFETY: the interpreter is initialised; the GIL is taken for `f` and
    // given back by the guard. An all-zero context is valid (no member set,
    // NULL name).
    unsafe {
        let _gil = Gil(ffi::PyGILState_Ensure());
        let mut ctx: Box<HPyContext> = Box::new(core::mem::zeroed());
        // Universal: the wrappers call through the context, which holds the
        // implementations. CPython ABI (`--cfg hpy_abi="cpython"`): they call
        // the implementations directly; the context holds only the handle
        // constants, so a call through it would fail.
        #[cfg(not(hpy_abi = "cpython"))]
        fill(&mut ctx);
        #[cfg(hpy_abi = "cpython")]
        fill_handles(&mut ctx);
        f(&mut *ctx);
        assert_eq!(
            HPyErr_Occurred(&mut *ctx),
            0,
            "a test left an exception set"
        );
    }
}

/// The exception set now is `exc` (and it is cleared).
unsafe fn take_error(ctx: *mut HPyContext, exc: HPy) {
    assert_eq!(HPyErr_Occurred(ctx), 1, "no exception set");
    assert_eq!(
        HPyErr_ExceptionMatches(ctx, exc),
        1,
        "another exception set"
    );
    HPyErr_Clear(ctx);
}

/// `str(obj)`, closing `obj`.
unsafe fn text(ctx: *mut HPyContext, obj: HPy) -> String {
    assert!(!obj.is_null(), "NULL where an object was expected");
    let s = HPy_Str(ctx, obj);
    let mut n = 0;
    let p = HPyUnicode_AsUTF8AndSize(ctx, s, &mut n);
    let out = std::str::from_utf8(std::slice::from_raw_parts(p.cast::<u8>(), n as usize))
        .unwrap()
        .to_owned();
    HPy_Close(ctx, s);
    HPy_Close(ctx, obj);
    out
}

unsafe fn refcnt(h: HPy) -> isize {
    ffi::Py_REFCNT(h2py(h))
}

#[test]
fn integers_round_trip_and_refuse_what_python_refuses() {
    // SAFETY: `with_context` gives a filled context with the GIL held; the
    // handles used are made here and open until closed.
    with_context(|ctx| unsafe {
        for v in [0, 1, -1, i64::MIN, i64::MAX] {
            let h = HPyLong_FromInt64_t(ctx, v);
            assert_eq!(HPyLong_AsInt64_t(ctx, h), v);
            assert_eq!(HPyErr_Occurred(ctx), 0);
            HPy_Close(ctx, h);
        }
        let big = HPyLong_FromUInt64_t(ctx, u64::MAX);
        assert_eq!(HPyLong_AsUInt64_t(ctx, big), u64::MAX);
        assert_eq!(HPyLong_AsInt64_t(ctx, big), -1);
        take_error(ctx, (*ctx).h_OverflowError);
        HPy_Close(ctx, big);
        // A float is no int, on every CPython (3.9 included).
        let f = HPyFloat_FromDouble(ctx, 1.5);
        assert_eq!(HPyLong_AsInt64_t(ctx, f), -1);
        take_error(ctx, (*ctx).h_TypeError);
        assert_eq!(HPyFloat_AsDouble(ctx, f), 1.5);
        HPy_Close(ctx, f);
        let s = HPyLong_FromSsize_t(ctx, -7);
        assert_eq!(HPyLong_AsSsize_t(ctx, s), -7);
        assert_eq!(HPyLong_AsDouble(ctx, s), -7.0);
        HPy_Close(ctx, s);
    });
}

#[test]
fn booleans_are_the_singletons() {
    // SAFETY: `with_context` gives a filled context with the GIL held; the
    // handles used are made here and open until closed.
    with_context(|ctx| unsafe {
        let t = HPyBool_FromBool(ctx, true);
        assert_eq!(HPy_Is(ctx, t, (*ctx).h_True), 1);
        assert_eq!(HPy_TypeCheck(ctx, t, (*ctx).h_LongType), 1);
        assert_eq!(HPy_TypeCheck(ctx, t, (*ctx).h_FloatType), 0);
        HPy_Close(ctx, t);
        let f = HPyBool_FromBool(ctx, false);
        assert_eq!(HPy_Is(ctx, f, (*ctx).h_False), 1);
        assert_eq!(HPy_IsTrue(ctx, f), 0);
        HPy_Close(ctx, f);
    });
}

#[test]
fn arithmetic_and_its_errors() {
    // SAFETY: `with_context` gives a filled context with the GIL held; the
    // handles used are made here and open until closed.
    with_context(|ctx| unsafe {
        let two = HPyLong_FromInt64_t(ctx, 2);
        let ten = HPyLong_FromInt64_t(ctx, 10);
        assert_eq!(text(ctx, HPy_Add(ctx, two, ten)), "12");
        assert_eq!(text(ctx, HPy_Subtract(ctx, two, ten)), "-8");
        assert_eq!(text(ctx, HPy_Multiply(ctx, two, ten)), "20");
        assert_eq!(text(ctx, HPy_TrueDivide(ctx, ten, two)), "5.0");
        assert_eq!(text(ctx, HPy_FloorDivide(ctx, ten, two)), "5");
        assert_eq!(text(ctx, HPy_Divmod(ctx, ten, two)), "(5, 0)");
        assert_eq!(text(ctx, HPy_Power(ctx, two, ten, (*ctx).h_None)), "1024");
        assert_eq!(text(ctx, HPy_Negative(ctx, two)), "-2");
        assert_eq!(text(ctx, HPy_Lshift(ctx, two, ten)), "2048");
        let zero = HPyLong_FromInt64_t(ctx, 0);
        assert!(HPy_TrueDivide(ctx, two, zero).is_null());
        take_error(ctx, (*ctx).h_ZeroDivisionError);
        let s = HPyUnicode_FromString(ctx, c"s".as_ptr());
        assert!(HPy_Add(ctx, two, s).is_null());
        take_error(ctx, (*ctx).h_TypeError);
        assert_eq!(HPyNumber_Check(ctx, two), 1);
        assert_eq!(HPyNumber_Check(ctx, s), 0);
        assert!(HPy_Index(ctx, s).is_null());
        take_error(ctx, (*ctx).h_TypeError);
        for h in [two, ten, zero, s] {
            HPy_Close(ctx, h);
        }
    });
}

#[test]
fn dup_and_close_balance() {
    // SAFETY: `with_context` gives a filled context with the GIL held; the
    // handles used are made here and open until closed.
    with_context(|ctx| unsafe {
        let obj = HPyList_New(ctx, 0);
        let before = refcnt(obj);
        let again = HPy_Dup(ctx, obj);
        assert_eq!(HPy_Is(ctx, obj, again), 1);
        assert_eq!(refcnt(obj), before + 1);
        HPy_Close(ctx, again);
        assert_eq!(refcnt(obj), before);
        HPy_Close(ctx, HPy_NULL); // allowed, as Py_XDECREF
        HPy_Close(ctx, obj);
    });
}

#[test]
fn strings_and_bytes() {
    // SAFETY: `with_context` gives a filled context with the GIL held; the
    // handles used are made here and open until closed.
    with_context(|ctx| unsafe {
        let s = HPyUnicode_FromString(ctx, c"h\xc3\xa9llo".as_ptr());
        assert_eq!(HPyUnicode_Check(ctx, s), 1);
        assert_eq!(HPy_Length(ctx, s), 5);
        let mut n = 0;
        let p = HPyUnicode_AsUTF8AndSize(ctx, s, &mut n);
        assert_eq!(n, 6);
        assert_eq!(CStr::from_ptr(p).to_bytes(), "héllo".as_bytes());
        let r = HPy_Repr(ctx, s);
        assert_eq!(text(ctx, r), "'héllo'");
        HPy_Close(ctx, s);
        let b = HPyBytes_FromStringAndSize(ctx, b"a\0b".as_ptr().cast(), 3);
        assert_eq!(HPyBytes_Check(ctx, b), 1);
        assert_eq!(HPyBytes_Size(ctx, b), 3);
        let p = HPyBytes_AsString(ctx, b);
        assert_eq!(std::slice::from_raw_parts(p.cast::<u8>(), 3), b"a\0b");
        assert_eq!(text(ctx, HPy_ASCII(ctx, b)), "b'a\\x00b'");
        HPy_Close(ctx, b);
    });
}

#[test]
fn containers() {
    // SAFETY: `with_context` gives a filled context with the GIL held; the
    // handles used are made here and open until closed.
    with_context(|ctx| unsafe {
        let mut items = [
            HPyLong_FromInt64_t(ctx, 1),
            HPyUnicode_FromString(ctx, c"two".as_ptr()),
            (*ctx).h_None,
        ];
        let t = HPyTuple_FromArray(ctx, items.as_mut_ptr(), 3);
        assert_eq!(HPyTuple_Check(ctx, t), 1);
        assert_eq!(HPy_Length(ctx, t), 3);
        let second = HPy_GetItem_i(ctx, t, 1);
        assert_eq!(HPy_Is(ctx, second, items[1]), 1);
        HPy_Close(ctx, second);
        assert!(HPy_GetItem_i(ctx, t, 3).is_null());
        take_error(ctx, (*ctx).h_IndexError);
        assert_eq!(text(ctx, HPy_Dup(ctx, t)), "(1, 'two', None)");

        let list = HPyList_New(ctx, 0);
        assert_eq!(HPyList_Append(ctx, list, t), 0);
        assert_eq!(HPyList_Check(ctx, list), 1);
        assert_eq!(HPy_Contains(ctx, list, t), 1);

        let d = HPyDict_New(ctx);
        assert_eq!(HPy_SetItem(ctx, d, items[1], items[0]), 0);
        let got = HPy_GetItem(ctx, d, items[1]);
        assert_eq!(HPy_Is(ctx, got, items[0]), 1);
        HPy_Close(ctx, got);
        assert!(HPy_GetItem(ctx, d, items[0]).is_null());
        take_error(ctx, (*ctx).h_KeyError);
        assert_eq!(text(ctx, HPyDict_Keys(ctx, d)), "['two']");
        assert_eq!(HPy_SetItem(ctx, d, list, items[0]), -1); // a list is unhashable
        take_error(ctx, (*ctx).h_TypeError);
        assert_eq!(HPy_Hash(ctx, list), -1);
        take_error(ctx, (*ctx).h_TypeError);
        assert_ne!(HPy_Hash(ctx, t), -1);
        for h in [t, list, d, items[0], items[1]] {
            HPy_Close(ctx, h);
        }
    });
}

#[test]
fn attributes_calls_and_comparisons() {
    // SAFETY: `with_context` gives a filled context with the GIL held; the
    // handles used are made here and open until closed.
    with_context(|ctx| unsafe {
        let s = HPyUnicode_FromString(ctx, c"abc".as_ptr());
        let upper = HPy_GetAttr_s(ctx, s, c"upper".as_ptr());
        assert_eq!(
            text(ctx, HPy_CallTupleDict(ctx, upper, HPy_NULL, HPy_NULL)),
            "ABC"
        );
        assert!(HPy_CallTupleDict(ctx, upper, s, HPy_NULL).is_null()); // args must be a tuple
        take_error(ctx, (*ctx).h_TypeError);
        let name = HPyUnicode_FromString(ctx, c"nope".as_ptr());
        assert_eq!(HPy_HasAttr(ctx, s, name), 0);
        assert!(HPy_GetAttr(ctx, s, name).is_null());
        take_error(ctx, (*ctx).h_AttributeError);
        assert_eq!(HPy_SetAttr(ctx, s, name, s), -1);
        take_error(ctx, (*ctx).h_AttributeError);
        let other = HPyUnicode_FromString(ctx, c"abd".as_ptr());
        assert_eq!(HPy_RichCompareBool(ctx, s, other, HPy_LT.0), 1);
        assert_eq!(text(ctx, HPy_RichCompare(ctx, s, other, HPy_EQ.0)), "False");
        let ty = HPy_Type(ctx, s);
        assert_eq!(HPy_Is(ctx, ty, (*ctx).h_UnicodeType), 1);
        for h in [s, upper, name, other, ty] {
            HPy_Close(ctx, h);
        }
    });
}

#[test]
fn errors() {
    // SAFETY: `with_context` gives a filled context with the GIL held; the
    // handles used are made here and open until closed.
    with_context(|ctx| unsafe {
        HPyErr_SetString(ctx, (*ctx).h_ValueError, c"bad value".as_ptr());
        assert_eq!(HPyErr_ExceptionMatches(ctx, (*ctx).h_Exception), 1);
        take_error(ctx, (*ctx).h_ValueError);
        let v = HPyLong_FromInt64_t(ctx, 3);
        HPyErr_SetObject(ctx, (*ctx).h_KeyError, v);
        take_error(ctx, (*ctx).h_KeyError);
        HPy_Close(ctx, v);
        HPyErr_NoMemory(ctx);
        take_error(ctx, (*ctx).h_MemoryError);
    });
}

#[test]
fn narrow_integers_and_masks() {
    // SAFETY: `with_context` gives a filled context with the GIL held; the
    // handles used are made here and open until closed.
    with_context(|ctx| unsafe {
        let h = HPyLong_FromInt32_t(ctx, i32::MIN);
        assert_eq!(HPyLong_AsInt32_t(ctx, h), i32::MIN);
        HPy_Close(ctx, h);
        let h = HPyLong_FromInt64_t(ctx, i64::from(i32::MAX) + 1);
        assert_eq!(HPyLong_AsInt32_t(ctx, h), -1); // never a silent truncation
        take_error(ctx, (*ctx).h_OverflowError);
        assert_eq!(HPyLong_AsUInt32_tMask(ctx, h), 1 << 31);
        HPy_Close(ctx, h);
        let h = HPyLong_FromUInt32_t(ctx, u32::MAX);
        assert_eq!(HPyLong_AsUInt32_t(ctx, h), u32::MAX);
        assert_eq!(HPyErr_Occurred(ctx), 0);
        HPy_Close(ctx, h);
        let h = HPyLong_FromUInt64_t(ctx, u64::from(u32::MAX) + 1);
        assert_eq!(HPyLong_AsUInt32_t(ctx, h), u32::MAX);
        take_error(ctx, (*ctx).h_OverflowError);
        HPy_Close(ctx, h);
        let minus_one = HPyLong_FromInt64_t(ctx, -1);
        assert_eq!(HPyLong_AsUInt64_tMask(ctx, minus_one), u64::MAX);
        assert_eq!(HPyLong_AsUInt32_tMask(ctx, minus_one), u32::MAX);
        assert_eq!(HPyErr_Occurred(ctx), 0);
        assert_eq!(HPyLong_AsSize_t(ctx, minus_one), usize::MAX);
        take_error(ctx, (*ctx).h_OverflowError);
        HPy_Close(ctx, minus_one);
        let f = HPyFloat_FromDouble(ctx, 2.5);
        assert_eq!(HPyLong_AsUInt64_tMask(ctx, f), u64::MAX); // no __index__
        take_error(ctx, (*ctx).h_TypeError);
        HPy_Close(ctx, f);
        let h = HPyLong_FromSize_t(ctx, usize::MAX);
        assert_eq!(text(ctx, h), usize::MAX.to_string());
    });
}

#[test]
fn in_place_operators() {
    // SAFETY: as above.
    with_context(|ctx| unsafe {
        let one = HPyLong_FromInt64_t(ctx, 1);
        let two = HPyLong_FromInt64_t(ctx, 2);
        let three = HPyLong_FromInt64_t(ctx, 3);
        assert_eq!(text(ctx, HPy_InPlaceLshift(ctx, one, three)), "8");
        assert_eq!(text(ctx, HPy_InPlaceRshift(ctx, three, one)), "1");
        assert_eq!(text(ctx, HPy_InPlaceAnd(ctx, three, two)), "2");
        assert_eq!(text(ctx, HPy_InPlaceOr(ctx, one, two)), "3");
        assert_eq!(text(ctx, HPy_InPlaceXor(ctx, three, one)), "2");
        assert_eq!(
            text(ctx, HPy_InPlacePower(ctx, two, three, (*ctx).h_None)),
            "8"
        );
        assert!(HPy_InPlaceMatrixMultiply(ctx, two, three).is_null());
        take_error(ctx, (*ctx).h_TypeError);
        // A list grows in place: the same object comes back.
        let list = HPyList_New(ctx, 0);
        assert_eq!(HPyList_Append(ctx, list, one), 0);
        let same = HPy_InPlaceAdd(ctx, list, list);
        assert_eq!(HPy_Is(ctx, same, list), 1);
        assert_eq!(HPy_Length(ctx, list), 2);
        for h in [one, two, three, list, same] {
            HPy_Close(ctx, h);
        }
    });
}

#[test]
fn items_and_attributes_by_name_or_index() {
    // SAFETY: as above.
    with_context(|ctx| unsafe {
        let d = HPyDict_New(ctx);
        let v = HPyLong_FromInt64_t(ctx, 7);
        assert_eq!(HPy_SetItem_s(ctx, d, c"key".as_ptr(), v), 0);
        let got = HPy_GetItem_s(ctx, d, c"key".as_ptr());
        assert_eq!(HPy_Is(ctx, got, v), 1);
        HPy_Close(ctx, got);
        assert_eq!(HPy_DelItem_s(ctx, d, c"key".as_ptr()), 0);
        assert_eq!(HPy_DelItem_s(ctx, d, c"key".as_ptr()), -1);
        take_error(ctx, (*ctx).h_KeyError);
        assert_eq!(HPy_SetItem_i(ctx, d, 5, v), 0); // an int key in a mapping
        assert_eq!(text(ctx, HPy_Dup(ctx, d)), "{5: 7}");
        assert_eq!(HPy_DelItem_i(ctx, d, 5), 0);

        let list = HPyList_New(ctx, 0);
        assert_eq!(HPyList_Append(ctx, list, v), 0);
        assert_eq!(HPy_SetItem_i(ctx, list, 0, d), 0);
        assert_eq!(HPy_SetItem_i(ctx, list, 1, d), -1);
        take_error(ctx, (*ctx).h_IndexError);
        assert_eq!(HPy_DelItem(ctx, list, d), -1); // list indices must be integers
        take_error(ctx, (*ctx).h_TypeError);
        assert_eq!(HPy_DelItem_i(ctx, list, 0), 0);
        assert_eq!(HPy_Length(ctx, list), 0);

        let types = HPyImport_ImportModule(ctx, c"types".as_ptr());
        let ns_type = HPy_GetAttr_s(ctx, types, c"SimpleNamespace".as_ptr());
        let ns = HPy_CallTupleDict(ctx, ns_type, HPy_NULL, HPy_NULL);
        assert_eq!(HPy_HasAttr_s(ctx, ns, c"x".as_ptr()), 0);
        assert_eq!(HPy_SetAttr_s(ctx, ns, c"x".as_ptr(), v), 0);
        assert_eq!(HPy_HasAttr_s(ctx, ns, c"x".as_ptr()), 1);
        assert_eq!(text(ctx, HPy_Dup(ctx, ns)), "namespace(x=7)");
        assert!(HPyImport_ImportModule(ctx, c"no_such_module_hpy".as_ptr()).is_null());
        take_error(ctx, (*ctx).h_ModuleNotFoundError);
        for h in [d, v, list, types, ns_type, ns] {
            HPy_Close(ctx, h);
        }
    });
}

#[test]
fn encodings_and_substrings() {
    // SAFETY: as above.
    with_context(|ctx| unsafe {
        let s = HPyUnicode_FromString(ctx, c"caf\xc3\xa9".as_ptr());
        assert!(HPyUnicode_AsASCIIString(ctx, s).is_null());
        take_error(ctx, (*ctx).h_UnicodeEncodeError);
        let latin1 = HPyUnicode_AsLatin1String(ctx, s);
        assert_eq!(HPyBytes_GET_SIZE(ctx, latin1), 4);
        assert_eq!(*HPyBytes_AS_STRING(ctx, latin1).add(3) as u8, 0xe9);
        let back =
            HPyUnicode_DecodeLatin1(ctx, HPyBytes_AS_STRING(ctx, latin1), 4, core::ptr::null());
        assert_eq!(HPy_RichCompareBool(ctx, back, s, HPy_EQ.0), 1);
        let utf8 = HPyUnicode_AsUTF8String(ctx, s);
        assert_eq!(HPyBytes_Size(ctx, utf8), 5);
        assert_eq!(HPyUnicode_ReadChar(ctx, s, 3), 0xe9);
        assert_eq!(HPyUnicode_ReadChar(ctx, s, 4), u32::MAX);
        take_error(ctx, (*ctx).h_IndexError);
        assert!(HPyUnicode_DecodeASCII(ctx, c"\xff".as_ptr(), 1, core::ptr::null()).is_null());
        take_error(ctx, (*ctx).h_UnicodeDecodeError);
        let ok = HPyUnicode_DecodeASCII(ctx, c"\xffab".as_ptr(), 3, c"ignore".as_ptr());
        assert_eq!(text(ctx, ok), "ab");
        assert_eq!(text(ctx, HPyUnicode_Substring(ctx, s, 1, 3)), "af");
        let path = HPyUnicode_DecodeFSDefault(ctx, c"/tmp/x".as_ptr());
        let encoded = HPyUnicode_EncodeFSDefault(ctx, path);
        assert_eq!(
            CStr::from_ptr(HPyBytes_AsString(ctx, encoded)).to_bytes(),
            b"/tmp/x"
        );
        assert_eq!(
            text(
                ctx,
                HPyUnicode_DecodeFSDefaultAndSize(ctx, c"/tmp/x".as_ptr(), 4)
            ),
            "/tmp"
        );
        let b = HPyBytes_FromString(ctx, c"xyz".as_ptr());
        assert_eq!(HPyBytes_Size(ctx, b), 3);
        for h in [s, latin1, back, utf8, path, encoded, b] {
            HPy_Close(ctx, h);
        }
    });
}

#[test]
fn slices_and_warnings() {
    // SAFETY: as above.
    with_context(|ctx| unsafe {
        let builtins = HPyImport_ImportModule(ctx, c"builtins".as_ptr());
        let slice_type = HPy_GetAttr_s(ctx, builtins, c"slice".as_ptr());
        let mut bounds = [
            HPyLong_FromInt64_t(ctx, 1),
            HPyLong_FromInt64_t(ctx, 10),
            HPyLong_FromInt64_t(ctx, 3),
        ];
        let args = HPyTuple_FromArray(ctx, bounds.as_mut_ptr(), 3);
        let slice = HPy_CallTupleDict(ctx, slice_type, args, HPy_NULL);
        let (mut start, mut stop, mut step) = (0, 0, 0);
        assert_eq!(
            HPySlice_Unpack(ctx, slice, &mut start, &mut stop, &mut step),
            0
        );
        assert_eq!((start, stop, step), (1, 10, 3));

        let warnings = HPyImport_ImportModule(ctx, c"warnings".as_ptr());
        let simplefilter = HPy_GetAttr_s(ctx, warnings, c"simplefilter".as_ptr());
        let mut error = [HPyUnicode_FromString(ctx, c"error".as_ptr())];
        let filter_args = HPyTuple_FromArray(ctx, error.as_mut_ptr(), 1);
        HPy_Close(
            ctx,
            HPy_CallTupleDict(ctx, simplefilter, filter_args, HPy_NULL),
        );
        assert_eq!(
            HPyErr_WarnEx(ctx, (*ctx).h_UserWarning, c"careful".as_ptr(), 1),
            -1
        );
        take_error(ctx, (*ctx).h_UserWarning);
        let reset = HPy_GetAttr_s(ctx, warnings, c"resetwarnings".as_ptr());
        HPy_Close(ctx, HPy_CallTupleDict(ctx, reset, HPy_NULL, HPy_NULL));
        for h in bounds.into_iter().chain(error) {
            HPy_Close(ctx, h);
        }
        for h in [
            builtins,
            slice_type,
            args,
            slice,
            warnings,
            simplefilter,
            filter_args,
            reset,
        ] {
            HPy_Close(ctx, h);
        }
    });
}

#[test]
fn builders_and_trackers() {
    // SAFETY: as above.
    with_context(|ctx| unsafe {
        // A float: small ints are immortal on 3.12+ (their count never moves).
        let one = HPyFloat_FromDouble(ctx, 1.5);
        let before = refcnt(one);
        let lb = HPyListBuilder_New(ctx, 2);
        HPyListBuilder_Set(ctx, lb, 0, one);
        HPyListBuilder_Set(ctx, lb, 1, one);
        assert_eq!(refcnt(one), before + 2); // the list holds its own references
        assert_eq!(text(ctx, HPyListBuilder_Build(ctx, lb)), "[1.5, 1.5]");
        assert_eq!(refcnt(one), before);
        let tb = HPyTupleBuilder_New(ctx, 1);
        HPyTupleBuilder_Set(ctx, tb, 0, one);
        HPyTupleBuilder_Cancel(ctx, tb);
        assert_eq!(refcnt(one), before);
        let tb = HPyTupleBuilder_New(ctx, 1);
        HPyTupleBuilder_Set(ctx, tb, 0, one);
        assert_eq!(text(ctx, HPyTupleBuilder_Build(ctx, tb)), "(1.5,)");
        // A builder that could not be made (the exception is New's): Set
        // does nothing, Build gives HPy_NULL.
        let lb = HPyListBuilder_New(ctx, -1);
        assert!(lb.is_null());
        take_error(ctx, (*ctx).h_SystemError);
        HPyListBuilder_Set(ctx, lb, 0, one);
        assert!(HPyListBuilder_Build(ctx, lb).is_null());

        let ht = HPyTracker_New(ctx, 0);
        for _ in 0..3 {
            assert_eq!(HPyTracker_Add(ctx, ht, HPy_Dup(ctx, one)), 0);
        }
        assert_eq!(refcnt(one), before + 3);
        HPyTracker_Close(ctx, ht); // closes what it tracks
        assert_eq!(refcnt(one), before);
        let ht = HPyTracker_New(ctx, 1);
        let kept = HPy_Dup(ctx, one);
        assert_eq!(HPyTracker_Add(ctx, ht, kept), 0);
        HPyTracker_ForgetAll(ctx, ht);
        HPyTracker_Close(ctx, ht);
        assert_eq!(refcnt(one), before + 1); // forgotten: still ours
        HPy_Close(ctx, kept);
        assert!(HPyTracker_New(ctx, isize::MAX).is_null());
        take_error(ctx, (*ctx).h_MemoryError);
        HPy_Close(ctx, one);
    });
}

#[test]
fn fields_globals_and_the_hybrid_abi() {
    // SAFETY: as above.
    with_context(|ctx| unsafe {
        let obj = HPyList_New(ctx, 0);
        let before = refcnt(obj);
        let mut field = HPyField::NULL;
        HPyField_Store(ctx, HPy_NULL, &mut field, obj);
        assert_eq!(refcnt(obj), before + 1);
        let loaded = HPyField_Load(ctx, HPy_NULL, field);
        assert_eq!(HPy_Is(ctx, loaded, obj), 1);
        HPy_Close(ctx, loaded);
        HPyField_Store(ctx, HPy_NULL, &mut field, HPy_NULL);
        assert_eq!(refcnt(obj), before);
        assert!(field.is_null());
        let mut global = HPyGlobal::NULL;
        HPyGlobal_Store(ctx, &mut global, obj);
        HPyGlobal_Store(ctx, &mut global, obj); // replacing drops the old reference
        assert_eq!(refcnt(obj), before + 1);
        let loaded = HPyGlobal_Load(ctx, global);
        assert_eq!(HPy_Is(ctx, loaded, obj), 1);
        HPy_Close(ctx, loaded);
        HPyGlobal_Store(ctx, &mut global, HPy_NULL);
        assert_eq!(refcnt(obj), before);
        let py = HPy_AsPyObject(ctx, obj);
        let back = HPy_FromPyObject(ctx, py);
        assert_eq!(HPy_Is(ctx, back, obj), 1);
        assert_eq!(refcnt(obj), before + 2);
        HPy_Close(ctx, back);
        ffi::Py_DECREF(py.cast());
        assert_eq!(HPyCallable_Check(ctx, obj), 0);
        let append = HPy_GetAttr_s(ctx, obj, c"append".as_ptr());
        assert_eq!(HPyCallable_Check(ctx, append), 1);
        // Leaving and re-entering Python execution gives the GIL back.
        // (`PyGILState_Check` is not in the limited API of an abi3 build.)
        let state = HPy_LeavePythonExecution(ctx);
        #[cfg(not(Py_LIMITED_API))]
        assert_eq!(ffi::PyGILState_Check(), 0);
        HPy_ReenterPythonExecution(ctx, state);
        #[cfg(not(Py_LIMITED_API))]
        assert_eq!(ffi::PyGILState_Check(), 1);
        HPy_Close(ctx, append);
        HPy_Close(ctx, obj);
    });
}

#[test]
fn code_context_variables_types_and_calls() {
    // SAFETY: as above.
    with_context(|ctx| unsafe {
        let code = HPy_Compile_s(ctx, c"6 * 7".as_ptr(), c"<t>".as_ptr(), HPy_SourceKind_Expr);
        let globals = HPyDict_New(ctx);
        assert_eq!(text(ctx, HPy_EvalCode(ctx, code, globals, globals)), "42");
        assert!(
            HPy_Compile_s(ctx, c"6 *".as_ptr(), c"<t>".as_ptr(), HPy_SourceKind_Expr).is_null()
        );
        take_error(ctx, (*ctx).h_SyntaxError);
        assert!(HPy_Compile_s(ctx, c"1".as_ptr(), c"<t>".as_ptr(), HPy_SourceKind(7)).is_null());
        take_error(ctx, (*ctx).h_SystemError);

        let var = HPyContextVar_New(ctx, c"v".as_ptr(), HPy_NULL);
        let mut got = HPy_NULL;
        assert_eq!(HPyContextVar_Get(ctx, var, HPy_NULL, &mut got), 0);
        assert!(got.is_null()); // no value, no default
        let five = HPyLong_FromInt64_t(ctx, 5);
        let token = HPyContextVar_Set(ctx, var, five);
        assert!(!token.is_null());
        assert_eq!(HPyContextVar_Get(ctx, var, HPy_NULL, &mut got), 0);
        assert_eq!(HPy_Is(ctx, got, five), 1);
        HPy_Close(ctx, got);

        let bool_type = HPy_Type(ctx, (*ctx).h_True);
        assert_eq!(HPyType_IsSubtype(ctx, bool_type, (*ctx).h_LongType), 1);
        assert_eq!(HPyType_IsSubtype(ctx, (*ctx).h_LongType, bool_type), 0);
        assert_eq!(
            CStr::from_ptr(HPyType_GetName(ctx, bool_type)).to_bytes(),
            b"bool"
        );
        let types = HPyImport_ImportModule(ctx, c"collections".as_ptr());
        let od = HPy_GetAttr_s(ctx, types, c"OrderedDict".as_ptr());
        assert_eq!(
            CStr::from_ptr(HPyType_GetName(ctx, od)).to_bytes(),
            b"OrderedDict"
        );

        // int("ff", base=16), through a vectorcall with a keyword.
        let int_type = (*ctx).h_LongType;
        let mut kwnames_items = [HPyUnicode_FromString(ctx, c"base".as_ptr())];
        let kwnames = HPyTuple_FromArray(ctx, kwnames_items.as_mut_ptr(), 1);
        let args = [
            HPyUnicode_FromString(ctx, c"ff".as_ptr()),
            HPyLong_FromInt64_t(ctx, 16),
        ];
        assert_eq!(
            text(ctx, HPy_Call(ctx, int_type, args.as_ptr(), 1, kwnames)),
            "255"
        );
        // "ff".upper(), through CallMethod (args[0] is the receiver).
        let upper = HPyUnicode_FromString(ctx, c"upper".as_ptr());
        assert_eq!(
            text(ctx, HPy_CallMethod(ctx, upper, args.as_ptr(), 1, HPy_NULL)),
            "FF"
        );

        let exc = HPyErr_NewExceptionWithDoc(
            ctx,
            c"mod.MyError".as_ptr(),
            c"Mine.".as_ptr(),
            (*ctx).h_ValueError,
            HPy_NULL,
        );
        assert_eq!(HPyType_IsSubtype(ctx, exc, (*ctx).h_ValueError), 1);
        assert_eq!(
            CStr::from_ptr(HPyType_GetName(ctx, exc)).to_bytes(),
            b"MyError"
        );
        assert_eq!(
            text(ctx, HPy_GetAttr_s(ctx, exc, c"__module__".as_ptr())),
            "mod"
        );
        // errno from a failed open(2) (ENOENT), read right after it.
        assert!(std::fs::File::open("/nonexistent-hpy-rs/x").is_err());
        assert!(
            HPyErr_SetFromErrnoWithFilename(ctx, (*ctx).h_OSError, c"/nope".as_ptr()).is_null()
        );
        take_error(ctx, (*ctx).h_FileNotFoundError);
        let wide: Vec<wchar_t> = "wé".chars().map(|c| c as wchar_t).collect();
        assert_eq!(
            text(ctx, HPyUnicode_FromWideChar(ctx, wide.as_ptr(), 2)),
            "wé"
        );
        let bytes = HPyBytes_FromString(ctx, c"abc".as_ptr());
        assert_eq!(
            text(
                ctx,
                HPyUnicode_FromEncodedObject(ctx, bytes, c"ascii".as_ptr(), core::ptr::null())
            ),
            "abc"
        );
        for h in [
            code, globals, var, five, token, bool_type, types, od, kwnames, upper, exc, bytes,
        ] {
            HPy_Close(ctx, h);
        }
        for h in kwnames_items.into_iter().chain(args) {
            HPy_Close(ctx, h);
        }
    });
}

static CAPSULE_DESTROYED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A capsule destructor's CPython side (what an HPy trampoline would be).
unsafe extern "C" fn count_capsule_death(_capsule: *mut cpy_PyObject) {
    CAPSULE_DESTROYED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

/// Never called: an HPy capsule destructor needs both functions.
unsafe extern "C" fn capsule_impl(
    _: *const core::ffi::c_char,
    _: *mut core::ffi::c_void,
    _: *mut core::ffi::c_void,
) {
}

#[test]
fn capsules() {
    // SAFETY: as above; the capsule's pointer and context are addresses of
    // statics that outlive it.
    with_context(|ctx| unsafe {
        static mut PAYLOAD: u64 = 7;
        static mut CONTEXT: u64 = 9;
        let payload = (&raw mut PAYLOAD).cast();
        let mut destructor = HPyCapsule_Destructor {
            cpy_trampoline: Some(count_capsule_death),
            impl_: Some(capsule_impl),
        };
        let cap = HPyCapsule_New(ctx, payload, c"hpy.test".as_ptr(), &mut destructor);
        assert_eq!(HPyCapsule_IsValid(ctx, cap, c"hpy.test".as_ptr()), 1);
        assert_eq!(HPyCapsule_IsValid(ctx, cap, c"other".as_ptr()), 0);
        assert_eq!(
            HPyCapsule_GetPointer(ctx, cap, c"hpy.test".as_ptr()),
            payload
        );
        assert!(HPyCapsule_GetPointer(ctx, cap, c"other".as_ptr()).is_null());
        take_error(ctx, (*ctx).h_ValueError);
        assert_eq!(
            CStr::from_ptr(HPyCapsule_GetName(ctx, cap)).to_bytes(),
            b"hpy.test"
        );
        assert_eq!(
            HPyCapsule_SetContext(ctx, cap, (&raw mut CONTEXT).cast()),
            0
        );
        assert_eq!(HPyCapsule_GetContext(ctx, cap), (&raw mut CONTEXT).cast());
        assert!(HPyCapsule_Get(ctx, cap, HPyCapsule_key_Destructor, core::ptr::null()).is_null());
        take_error(ctx, (*ctx).h_ValueError);
        let mut half = HPyCapsule_Destructor {
            cpy_trampoline: Some(count_capsule_death),
            impl_: None,
        };
        assert_eq!(HPyCapsule_SetDestructor(ctx, cap, &mut half), -1);
        take_error(ctx, (*ctx).h_ValueError);
        let before = CAPSULE_DESTROYED.load(std::sync::atomic::Ordering::Relaxed);
        HPy_Close(ctx, cap);
        assert_eq!(
            CAPSULE_DESTROYED.load(std::sync::atomic::Ordering::Relaxed),
            before + 1
        );
        assert!(HPyCapsule_New(ctx, payload, c"x".as_ptr(), &mut half).is_null());
        take_error(ctx, (*ctx).h_ValueError);
    });
}

/// How many times `count_destroy` ran, and the payloads' sum it saw.
static DESTROYED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
static DESTROYED_SUM: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// `HPy_tp_destroy` of the test types: counts, and adds the payload's first word.
unsafe extern "C" fn count_destroy(payload: *mut core::ffi::c_void) {
    use std::sync::atomic::Ordering;
    DESTROYED.fetch_add(1, Ordering::Relaxed);
    DESTROYED_SUM.fetch_add(*payload.cast::<usize>(), Ordering::Relaxed);
}

/// A new type `name` of `shape` (its base: `base`), with a 16-byte struct
/// and `count_destroy`; its definitions are leaked (a type keeps them).
unsafe fn new_type(
    ctx: *mut HPyContext,
    name: &str,
    shape: HPyType_BuiltinShape,
    base: HPy,
) -> HPy {
    let destroy: HPyFunc_destroyfunc = Some(count_destroy);
    let def = Box::leak(Box::new(HPyDef {
        kind: HPyDef_Kind_Slot,
        u: HPyDef_u {
            slot: HPySlot {
                slot: HPy_tp_destroy,
                impl_: core::mem::transmute::<HPyFunc_destroyfunc, HPyCFunction>(destroy),
                cpy_trampoline: None,
            },
        },
    }));
    let defines = Box::leak(Box::new([def as *mut HPyDef, core::ptr::null_mut()]));
    let name = Box::leak(std::ffi::CString::new(name).unwrap().into_boxed_c_str());
    let mut spec = HPyType_Spec {
        name: name.as_ptr(),
        basicsize: 16,
        itemsize: 0,
        flags: HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE,
        builtin_shape: shape,
        legacy_slots: core::ptr::null_mut(),
        defines: defines.as_mut_ptr(),
        doc: core::ptr::null(),
    };
    let mut params = [
        HPyType_SpecParam {
            kind: HPyType_SpecParam_Base,
            object: base,
        },
        HPyType_SpecParam {
            kind: HPyType_SpecParam_Kind(0),
            object: HPy_NULL,
        },
    ];
    HPyType_FromSpec(ctx, &mut spec, params.as_mut_ptr())
}

#[test]
fn types_from_specs_and_their_instances() {
    use std::sync::atomic::Ordering;
    // SAFETY: as above; payloads are written within their 16 bytes.
    with_context(|ctx| unsafe {
        let object = (*ctx).h_BaseObjectType;
        // Enough types for the registry to grow twice (it starts at 64 slots,
        // half full at most): each is still found afterwards.
        let types: Vec<HPy> = (0..150)
            .map(|i| new_type(ctx, &format!("t.T{i}"), HPyType_BuiltinShape_Object, object))
            .collect();
        assert!(types.iter().all(|t| !t.is_null()));
        let destroyed = DESTROYED.load(Ordering::Relaxed);
        let sum = DESTROYED_SUM.load(Ordering::Relaxed);
        for (i, &ty) in types.iter().enumerate() {
            assert_eq!(
                _HPyType_GetBuiltinShape(ctx, ty),
                HPyType_BuiltinShape_Object
            );
            let mut data = core::ptr::null_mut();
            let obj = _HPy_New(ctx, ty, &mut data);
            assert!(!obj.is_null());
            // The payload follows the object's header, zeroed.
            assert_eq!(data as usize, h2py(obj) as usize + 16);
            assert_eq!(*data.cast::<[usize; 2]>(), [0, 0]);
            assert_eq!(_HPy_AsStruct_Object(ctx, obj), data);
            *data.cast::<usize>() = i + 1;
            HPy_Close(ctx, obj); // the last reference: tp_destroy runs
        }
        assert_eq!(DESTROYED.load(Ordering::Relaxed) - destroyed, 150);
        assert_eq!(DESTROYED_SUM.load(Ordering::Relaxed) - sum, 150 * 151 / 2);

        // A type of no shape (CPython's own) is legacy; a non-type is refused.
        assert_eq!(
            _HPyType_GetBuiltinShape(ctx, (*ctx).h_LongType),
            HPyType_BuiltinShape_Legacy
        );
        assert_eq!(
            _HPyType_GetBuiltinShape(ctx, (*ctx).h_None),
            HPyType_BuiltinShape(-2)
        );
        take_error(ctx, (*ctx).h_TypeError);
        let mut data = core::ptr::null_mut();
        assert!(_HPy_New(ctx, (*ctx).h_None, &mut data).is_null());
        take_error(ctx, (*ctx).h_TypeError);

        // A Python subclass is no HPy type: legacy, its "struct" the object;
        // its instances still get the base's tp_destroy.
        let bases = HPyTuple_FromArray(ctx, [types[0]].as_ptr().cast_mut(), 1);
        let ns = HPyDict_New(ctx);
        let args = [HPyUnicode_FromString(ctx, c"Sub".as_ptr()), bases, ns];
        let sub = HPy_Call(ctx, (*ctx).h_TypeType, args.as_ptr(), 3, HPy_NULL);
        assert!(!sub.is_null());
        assert_eq!(
            _HPyType_GetBuiltinShape(ctx, sub),
            HPyType_BuiltinShape_Legacy
        );
        let destroyed = DESTROYED.load(Ordering::Relaxed);
        let obj = _HPy_New(ctx, sub, &mut data);
        assert_eq!(data, h2py(obj).cast());
        HPy_Close(ctx, obj);
        assert_eq!(DESTROYED.load(Ordering::Relaxed) - destroyed, 1);

        // The float shape: the payload follows the float's own struct.
        let fl = new_type(ctx, "t.F", HPyType_BuiltinShape_Float, (*ctx).h_FloatType);
        assert_eq!(
            _HPyType_GetBuiltinShape(ctx, fl),
            HPyType_BuiltinShape_Float
        );
        let obj = _HPy_New(ctx, fl, &mut data);
        assert_eq!(_HPy_AsStruct_Float(ctx, obj), data);
        assert!(data as usize >= h2py(obj) as usize + 24); // after ob_fval
        assert_eq!(HPyFloat_AsDouble(ctx, obj), 0.0);
        HPy_Close(ctx, obj);

        for h in args.into_iter().chain([sub, fl]).chain(types) {
            HPy_Close(ctx, h);
        }
    });
}
