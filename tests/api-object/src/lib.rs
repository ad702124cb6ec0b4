//! Test fixture: exercises the object protocol, numbers, calls, import and eval from Python
//! (`tests/python/test_api_object.py`), on every interpreter and mode.

use hpy::hpy_module;

/// Exercises the object protocol, numbers, calls, import and eval.
#[hpy_module]
mod api_object {
    use hpy::{Code, CompareOp, Context, Handle, Result, Runtime, SourceKind, exc, hpy_method};

    // --- runtime -----------------------------------------------------------------------

    /// The runtime the SDK detected: "cpython", "pypy" or "other".
    #[hpy_method]
    fn runtime(ctx: &Context) -> &'static str {
        match ctx.runtime() {
            Runtime::CPython => "cpython",
            Runtime::PyPy => "pypy",
            _ => "other",
        }
    }

    /// ctx.builtins(): the dict of builtins.
    #[hpy_method]
    fn builtins<'py>(ctx: &'py Context) -> Handle<'py> {
        ctx.builtins().dup()
    }

    // --- attributes ----------------------------------------------------------------------

    /// getattr(obj, name) with a Rust string (HPy_GetAttr_s).
    #[hpy_method]
    fn getattr_s<'py>(obj: &Handle<'py>, name: &str) -> Result<Handle<'py>> {
        obj.get_attr(name)
    }

    /// getattr(obj, name) with a handle (HPy_GetAttr).
    #[hpy_method]
    fn getattr_h<'py>(obj: &Handle<'py>, name: &Handle<'py>) -> Result<Handle<'py>> {
        obj.get_attr(name)
    }

    /// hasattr(obj, name) with a Rust string (HPy_HasAttr_s).
    #[hpy_method]
    fn hasattr_s(obj: &Handle<'_>, name: &str) -> bool {
        obj.has_attr(name)
    }

    /// hasattr(obj, name) with a handle (HPy_HasAttr).
    #[hpy_method]
    fn hasattr_h(obj: &Handle<'_>, name: &Handle<'_>) -> bool {
        obj.has_attr(name)
    }

    /// setattr(obj, name, value) with a Rust string (HPy_SetAttr_s).
    #[hpy_method]
    fn setattr_s(obj: &Handle<'_>, name: &str, value: &Handle<'_>) -> Result<()> {
        obj.set_attr(name, value)
    }

    /// setattr(obj, name, value) with a handle (HPy_SetAttr).
    #[hpy_method]
    fn setattr_h<'py>(obj: &Handle<'py>, name: &Handle<'py>, value: &Handle<'py>) -> Result<()> {
        obj.set_attr(name, value)
    }

    /// delattr(obj, name) with a Rust string (HPy_DelAttr_s).
    #[hpy_method]
    fn delattr_s(obj: &Handle<'_>, name: &str) -> Result<()> {
        obj.del_attr(name)
    }

    /// delattr(obj, name) with a handle (HPy_DelAttr).
    #[hpy_method]
    fn delattr_h(obj: &Handle<'_>, name: &Handle<'_>) -> Result<()> {
        obj.del_attr(name)
    }

    // --- items ------------------------------------------------------------------------------

    /// obj[key] with a handle (HPy_GetItem).
    #[hpy_method]
    fn getitem_h<'py>(obj: &Handle<'py>, key: &Handle<'py>) -> Result<Handle<'py>> {
        obj.get_item(key)
    }

    /// obj[i] with a Rust i64 (HPy_GetItem_i).
    #[hpy_method]
    fn getitem_i<'py>(obj: &Handle<'py>, i: i64) -> Result<Handle<'py>> {
        obj.get_item(i)
    }

    /// obj[i] with a Rust u64 (HPy_GetItem_i, or HPy_GetItem beyond isize).
    #[hpy_method]
    fn getitem_u64<'py>(obj: &Handle<'py>, i: u64) -> Result<Handle<'py>> {
        obj.get_item(i)
    }

    /// obj[key] with a Rust string (HPy_GetItem_s).
    #[hpy_method]
    fn getitem_s<'py>(obj: &Handle<'py>, key: &str) -> Result<Handle<'py>> {
        obj.get_item(key)
    }

    /// obj[key] = value with a handle (HPy_SetItem).
    #[hpy_method]
    fn setitem_h<'py>(obj: &Handle<'py>, key: &Handle<'py>, value: &Handle<'py>) -> Result<()> {
        obj.set_item(key, value)
    }

    /// obj[i] = value with a Rust i64 (HPy_SetItem_i).
    #[hpy_method]
    fn setitem_i(obj: &Handle<'_>, i: i64, value: &Handle<'_>) -> Result<()> {
        obj.set_item(i, value)
    }

    /// obj[i] = value with a Rust u64 (HPy_SetItem_i, or HPy_SetItem beyond isize).
    #[hpy_method]
    fn setitem_u64(obj: &Handle<'_>, i: u64, value: &Handle<'_>) -> Result<()> {
        obj.set_item(i, value)
    }

    /// obj[key] = value with a Rust string (HPy_SetItem_s).
    #[hpy_method]
    fn setitem_s(obj: &Handle<'_>, key: &str, value: &Handle<'_>) -> Result<()> {
        obj.set_item(key, value)
    }

    /// del obj[key] with a handle (HPy_DelItem).
    #[hpy_method]
    fn delitem_h(obj: &Handle<'_>, key: &Handle<'_>) -> Result<()> {
        obj.del_item(key)
    }

    /// del obj[i] with a Rust i64 (HPy_DelItem_i).
    #[hpy_method]
    fn delitem_i(obj: &Handle<'_>, i: i64) -> Result<()> {
        obj.del_item(i)
    }

    /// del obj[i] with a Rust u64 (HPy_DelItem_i, or HPy_DelItem beyond isize).
    #[hpy_method]
    fn delitem_u64(obj: &Handle<'_>, i: u64) -> Result<()> {
        obj.del_item(i)
    }

    /// del obj[key] with a Rust string (HPy_DelItem_s).
    #[hpy_method]
    fn delitem_s(obj: &Handle<'_>, key: &str) -> Result<()> {
        obj.del_item(key)
    }

    /// obj[0] with an integer literal (the i32 impl), and obj["k"] = 1 with a literal.
    #[hpy_method]
    fn items_literals<'py>(seq: &Handle<'py>, d: &Handle<'py>) -> Result<Handle<'py>> {
        d.set_item("k", 1)?;
        seq.get_item(0)
    }

    /// value in obj (HPy_Contains).
    #[hpy_method]
    fn contains(obj: &Handle<'_>, value: &Handle<'_>) -> Result<bool> {
        obj.contains(value)
    }

    /// len(obj) (HPy_Length).
    #[hpy_method]
    fn length(obj: &Handle<'_>) -> Result<usize> {
        obj.len()
    }

    /// len(obj) == 0 (HPy_Length).
    #[hpy_method]
    fn is_empty(obj: &Handle<'_>) -> Result<bool> {
        obj.is_empty()
    }

    // --- string forms, hash --------------------------------------------------------------

    /// repr(obj) (HPy_Repr).
    #[hpy_method]
    fn repr<'py>(obj: &Handle<'py>) -> Result<Handle<'py>> {
        obj.repr()
    }

    /// str(obj) (HPy_Str).
    #[hpy_method]
    fn str_<'py>(obj: &Handle<'py>) -> Result<Handle<'py>> {
        obj.str()
    }

    /// ascii(obj) (HPy_ASCII).
    #[hpy_method]
    fn ascii<'py>(obj: &Handle<'py>) -> Result<Handle<'py>> {
        obj.ascii()
    }

    /// bytes(obj) (HPy_Bytes).
    #[hpy_method]
    fn bytes_<'py>(obj: &Handle<'py>) -> Result<Handle<'py>> {
        obj.bytes()
    }

    /// hash(obj) (HPy_Hash).
    #[hpy_method]
    fn hash(obj: &Handle<'_>) -> Result<isize> {
        obj.hash()
    }

    /// The Debug form of a handle (its repr, or the type name if repr fails).
    #[hpy_method]
    fn debug_fmt(obj: &Handle<'_>) -> String {
        format!("{obj:?}")
    }

    // --- comparisons -------------------------------------------------------------------

    fn op(name: &str) -> Result<CompareOp> {
        Ok(match name {
            "<" => CompareOp::Lt,
            "<=" => CompareOp::Le,
            "==" => CompareOp::Eq,
            "!=" => CompareOp::Ne,
            ">" => CompareOp::Gt,
            ">=" => CompareOp::Ge,
            _ => return Err(exc::ValueError::new_err(format!("bad op {name:?}"))),
        })
    }

    /// a <op> b as an object (HPy_RichCompare).
    #[hpy_method]
    fn rich_compare<'py>(a: &Handle<'py>, b: &Handle<'py>, op_name: &str) -> Result<Handle<'py>> {
        a.rich_compare(b, op(op_name)?)
    }

    /// bool(a <op> b) (HPy_RichCompareBool).
    #[hpy_method]
    fn compare(a: &Handle<'_>, b: &Handle<'_>, op_name: &str) -> Result<bool> {
        a.compare(b, op(op_name)?)
    }

    /// The six comparisons of a and b as a string of 0/1: == != < <= > >=.
    #[hpy_method]
    fn compare_all(a: &Handle<'_>, b: &Handle<'_>) -> Result<String> {
        let r = [a.eq(b)?, a.ne(b)?, a.lt(b)?, a.le(b)?, a.gt(b)?, a.ge(b)?];
        Ok(r.iter().map(|&x| if x { '1' } else { '0' }).collect())
    }

    /// a == 5 (comparing with a Rust value).
    #[hpy_method]
    fn eq_five(a: &Handle<'_>) -> Result<bool> {
        a.eq(5)
    }

    /// The CompareOp round trip through its C value, and its symbol.
    #[hpy_method]
    fn compare_op_roundtrip(raw: i32) -> Option<&'static str> {
        let op = CompareOp::from_raw(hpy::sys::HPy_RichCmpOp(raw))?;
        assert_eq!(op.to_raw().0, raw);
        Some(op.symbol())
    }

    // --- truth, identity, types ----------------------------------------------------------

    /// bool(obj) (HPy_IsTrue).
    #[hpy_method]
    fn is_true(obj: &Handle<'_>) -> Result<bool> {
        obj.is_true()
    }

    /// a is b (HPy_Is).
    #[hpy_method]
    fn is_(a: &Handle<'_>, b: &Handle<'_>) -> bool {
        a.is(b)
    }

    /// type(obj) (HPy_Type).
    #[hpy_method]
    fn type_<'py>(obj: &Handle<'py>) -> Handle<'py> {
        obj.get_type()
    }

    /// Whether obj is a type.
    #[hpy_method]
    fn is_type(obj: &Handle<'_>) -> bool {
        obj.is_type()
    }

    /// isinstance(obj, ty) (HPy_TypeCheck).
    #[hpy_method]
    fn is_instance(obj: &Handle<'_>, ty: &Handle<'_>) -> Result<bool> {
        obj.is_instance(ty)
    }

    /// issubclass(sub, ty) (HPyType_IsSubtype).
    #[hpy_method]
    fn is_subclass(sub: &Handle<'_>, ty: &Handle<'_>) -> Result<bool> {
        sub.is_subclass(ty)
    }

    /// ty.__name__ (HPyType_GetName on CPython).
    #[hpy_method]
    fn type_object_name(ty: &Handle<'_>) -> Result<String> {
        Ok(ty.type_object_name()?.into_owned())
    }

    /// The name of the type of obj (handle.rs).
    #[hpy_method]
    fn type_name(obj: &Handle<'_>) -> String {
        obj.type_name()
    }

    /// callable(obj) (HPyCallable_Check).
    #[hpy_method]
    fn is_callable(obj: &Handle<'_>) -> bool {
        obj.is_callable()
    }

    /// Whether obj is a number (HPyNumber_Check).
    #[hpy_method]
    fn is_number(obj: &Handle<'_>) -> bool {
        obj.is_number()
    }

    /// Dumps obj to stderr (_HPy_Dump).
    #[hpy_method]
    fn dump(obj: &Handle<'_>) {
        obj.dump()
    }

    // --- numbers -------------------------------------------------------------------------

    /// a <op> b for a binary operator named like the `operator` module.
    #[hpy_method]
    fn binop<'py>(op_name: &str, a: &Handle<'py>, b: &Handle<'py>) -> Result<Handle<'py>> {
        match op_name {
            "add" => a.add(b),
            "sub" => a.sub(b),
            "mul" => a.mul(b),
            "matmul" => a.matmul(b),
            "floordiv" => a.floordiv(b),
            "truediv" => a.truediv(b),
            "mod" => a.rem(b),
            "divmod" => a.divmod(b),
            "pow" => a.pow(b),
            "lshift" => a.lshift(b),
            "rshift" => a.rshift(b),
            "and_" => a.and(b),
            "xor" => a.xor(b),
            "or_" => a.or(b),
            "iadd" => a.iadd(b),
            "isub" => a.isub(b),
            "imul" => a.imul(b),
            "imatmul" => a.imatmul(b),
            "ifloordiv" => a.ifloordiv(b),
            "itruediv" => a.itruediv(b),
            "imod" => a.irem(b),
            "ipow" => a.ipow(b),
            "ilshift" => a.ilshift(b),
            "irshift" => a.irshift(b),
            "iand" => a.iand(b),
            "ixor" => a.ixor(b),
            "ior" => a.ior(b),
            _ => Err(exc::ValueError::new_err(format!("bad op {op_name:?}"))),
        }
    }

    /// <op> a for a unary operator or conversion.
    #[hpy_method]
    fn unop<'py>(op_name: &str, a: &Handle<'py>) -> Result<Handle<'py>> {
        match op_name {
            "neg" => a.neg(),
            "pos" => a.pos(),
            "abs" => a.abs(),
            "invert" => a.invert(),
            "index" => a.index(),
            "int" => a.int(),
            "float" => a.float(),
            _ => Err(exc::ValueError::new_err(format!("bad op {op_name:?}"))),
        }
    }

    /// pow(a, b, m) (HPy_Power).
    #[hpy_method]
    fn pow_mod<'py>(a: &Handle<'py>, b: &Handle<'py>, m: &Handle<'py>) -> Result<Handle<'py>> {
        a.pow_mod(b, m)
    }

    /// a + 1, with a Rust operand.
    #[hpy_method]
    fn add_one<'py>(a: &Handle<'py>) -> Result<Handle<'py>> {
        a.add(1)
    }

    /// int -> u64 modulo 2**64 (HPyLong_AsUInt64_tMask).
    #[hpy_method]
    fn to_u64_mask(obj: &Handle<'_>) -> Result<u64> {
        obj.to_u64_mask()
    }

    /// int -> u32 modulo 2**32 (HPyLong_AsUInt32_tMask).
    #[hpy_method]
    fn to_u32_mask(obj: &Handle<'_>) -> Result<u32> {
        obj.to_u32_mask()
    }

    /// int -> i32 (HPyLong_AsInt32_t on CPython).
    #[hpy_method]
    fn to_i32(obj: &Handle<'_>) -> Result<i32> {
        obj.to_i32()
    }

    /// int -> u32 (HPyLong_AsUInt32_t on CPython).
    #[hpy_method]
    fn to_u32(obj: &Handle<'_>) -> Result<u32> {
        obj.to_u32()
    }

    /// int -> pointer, returned as its address (HPyLong_AsVoidPtr).
    #[hpy_method]
    fn to_void_ptr(obj: &Handle<'_>) -> Result<usize> {
        Ok(obj.to_void_ptr()? as usize)
    }

    /// int -> f64 (HPyLong_AsDouble).
    #[hpy_method]
    fn int_to_f64(obj: &Handle<'_>) -> Result<f64> {
        obj.int_to_f64()
    }

    /// ctx.new_int for an i8 (HPyLong_FromInt32_t).
    #[hpy_method]
    fn new_int_i8(ctx: &Context, v: i8) -> Result<Handle<'_>> {
        ctx.new_int(v)
    }

    /// ctx.new_int for an i16 (HPyLong_FromInt32_t).
    #[hpy_method]
    fn new_int_i16(ctx: &Context, v: i16) -> Result<Handle<'_>> {
        ctx.new_int(v)
    }

    /// ctx.new_int for an i32 (HPyLong_FromInt32_t).
    #[hpy_method]
    fn new_int_i32(ctx: &Context, v: i32) -> Result<Handle<'_>> {
        ctx.new_int(v)
    }

    /// ctx.new_int for an i64 (HPyLong_FromInt64_t).
    #[hpy_method]
    fn new_int_i64(ctx: &Context, v: i64) -> Result<Handle<'_>> {
        ctx.new_int(v)
    }

    /// ctx.new_int for an isize (HPyLong_FromSsize_t).
    #[hpy_method]
    fn new_int_isize(ctx: &Context, v: isize) -> Result<Handle<'_>> {
        ctx.new_int(v)
    }

    /// ctx.new_int for a u8 (HPyLong_FromUInt32_t).
    #[hpy_method]
    fn new_int_u8(ctx: &Context, v: u8) -> Result<Handle<'_>> {
        ctx.new_int(v)
    }

    /// ctx.new_int for a u16 (HPyLong_FromUInt32_t).
    #[hpy_method]
    fn new_int_u16(ctx: &Context, v: u16) -> Result<Handle<'_>> {
        ctx.new_int(v)
    }

    /// ctx.new_int for a u32 (HPyLong_FromUInt32_t).
    #[hpy_method]
    fn new_int_u32(ctx: &Context, v: u32) -> Result<Handle<'_>> {
        ctx.new_int(v)
    }

    /// ctx.new_int for a u64 (HPyLong_FromUInt64_t).
    #[hpy_method]
    fn new_int_u64(ctx: &Context, v: u64) -> Result<Handle<'_>> {
        ctx.new_int(v)
    }

    /// ctx.new_int for a usize (HPyLong_FromSize_t).
    #[hpy_method]
    fn new_int_usize(ctx: &Context, v: usize) -> Result<Handle<'_>> {
        ctx.new_int(v)
    }

    // --- calls -------------------------------------------------------------------------

    /// f().
    #[hpy_method]
    fn call0<'py>(f: &Handle<'py>) -> Result<Handle<'py>> {
        f.call0()
    }

    /// f(a).
    #[hpy_method]
    fn call1<'py>(f: &Handle<'py>, a: &Handle<'py>) -> Result<Handle<'py>> {
        f.call1(a)
    }

    /// f(a, b) with a slice of handles.
    #[hpy_method]
    fn call2<'py>(f: &Handle<'py>, a: &Handle<'py>, b: &Handle<'py>) -> Result<Handle<'py>> {
        f.call(&[a, b])
    }

    /// f(1, "two", a, None) with a tuple of Rust values.
    #[hpy_method]
    fn call_mixed<'py>(ctx: &'py Context, f: &Handle<'py>, a: &Handle<'py>) -> Result<Handle<'py>> {
        f.call((1, "two", a, ctx.none()))
    }

    /// f(0, 1, ..., n - 1): beyond the inline buffer for large n.
    #[hpy_method]
    fn call_n<'py>(ctx: &'py Context, f: &Handle<'py>, n: usize) -> Result<Handle<'py>> {
        let mut args = Vec::new();
        args.try_reserve_exact(n)?;
        for i in 0..n {
            args.push(ctx.new_int(i)?);
        }
        f.call(args.as_slice())
    }

    /// f(0, ..., n - 1, k0=0, ..., k{m-1}=m-1): positional and keyword
    /// arguments beyond the inline buffer for large n + m.
    #[hpy_method]
    fn call_n_kw<'py>(
        ctx: &'py Context,
        f: &Handle<'py>,
        n: usize,
        m: usize,
    ) -> Result<Handle<'py>> {
        let mut args = Vec::new();
        args.try_reserve_exact(n)?;
        for i in 0..n {
            args.push(ctx.new_int(i)?);
        }
        let mut names: Vec<String> = Vec::new();
        names.try_reserve_exact(m)?;
        names.extend((0..m).map(|i| format!("k{i}")));
        let mut values = Vec::new();
        values.try_reserve_exact(m)?;
        for i in 0..m {
            values.push(ctx.new_int(i)?);
        }
        let mut kwargs: Vec<(&str, &Handle<'py>)> = Vec::new();
        kwargs.try_reserve_exact(m)?;
        kwargs.extend(names.iter().map(String::as_str).zip(values.iter()));
        f.call_kw(args.as_slice(), kwargs.as_slice())
    }

    /// f(a, <name>=value) with a tuple of (name, value) pairs.
    #[hpy_method]
    fn call_kw<'py>(
        f: &Handle<'py>,
        a: &Handle<'py>,
        name: &str,
        value: &Handle<'py>,
    ) -> Result<Handle<'py>> {
        f.call_kw((a,), ((name, value),))
    }

    /// f(<name>=value, z=3) with no positional arguments and an array of pairs.
    #[hpy_method]
    fn call_kw_only<'py>(
        ctx: &'py Context,
        f: &Handle<'py>,
        name: &str,
        value: &Handle<'py>,
    ) -> Result<Handle<'py>> {
        let three = ctx.new_int(3)?;
        f.call_kw((), &[(name, value), ("z", &three)])
    }

    /// obj.<name>().
    #[hpy_method]
    fn call_method0<'py>(obj: &Handle<'py>, name: &str) -> Result<Handle<'py>> {
        obj.call_method0(name)
    }

    /// obj.<name>(a).
    #[hpy_method]
    fn call_method1<'py>(obj: &Handle<'py>, name: &str, a: &Handle<'py>) -> Result<Handle<'py>> {
        obj.call_method1(name, a)
    }

    /// obj.<name>(a, b) with the name as a handle.
    #[hpy_method]
    fn call_method_h<'py>(
        obj: &Handle<'py>,
        name: &Handle<'py>,
        a: &Handle<'py>,
        b: &Handle<'py>,
    ) -> Result<Handle<'py>> {
        obj.call_method(name, &[a, b])
    }

    /// obj.<name>() and getattr(obj, name) with an owned handle as the name,
    /// and obj[name] with an owned handle as the key.
    #[hpy_method]
    fn owned_names<'py>(obj: &Handle<'py>, name: Handle<'py>) -> Result<Handle<'py>> {
        let attr = obj.get_attr(name.clone())?;
        let item = obj.get_item(name.clone());
        obj.ctx().err_clear();
        assert!(item.is_err());
        let r = obj.call_method0(name)?;
        assert!(r.is(&attr.call0()?));
        Ok(r)
    }

    /// obj.<name>(a, <kname>=kvalue).
    #[hpy_method]
    fn call_method_kw<'py>(
        obj: &Handle<'py>,
        name: &str,
        a: &Handle<'py>,
        kname: &str,
        kvalue: &Handle<'py>,
    ) -> Result<Handle<'py>> {
        obj.call_method_kw(name, (a,), &[(kname, kvalue)])
    }

    /// f(*args, **kw) (HPy_CallTupleDict).
    #[hpy_method]
    fn call_tuple_dict<'py>(
        f: &Handle<'py>,
        args: &Handle<'py>,
        kw: Option<&Handle<'py>>,
    ) -> Result<Handle<'py>> {
        f.call_tuple_dict(args, kw)
    }

    // --- import, compile, eval ---------------------------------------------------------

    /// import name (HPyImport_ImportModule).
    #[hpy_method]
    fn import_module<'py>(ctx: &'py Context, name: &str) -> Result<Handle<'py>> {
        ctx.import_module(name)
    }

    fn kind(name: &str) -> Result<SourceKind> {
        Ok(match name {
            "eval" => SourceKind::Expr,
            "exec" => SourceKind::File,
            "single" => SourceKind::Single,
            _ => return Err(exc::ValueError::new_err(format!("bad kind {name:?}"))),
        })
    }

    /// compile(source, filename, mode) (HPy_Compile_s).
    #[hpy_method]
    fn compile<'py>(
        ctx: &'py Context,
        source: &str,
        filename: &str,
        mode: &str,
    ) -> Result<Handle<'py>> {
        Ok(ctx.compile(source, filename, kind(mode)?)?.into_handle())
    }

    /// exec/eval of a code object (HPy_EvalCode), checked by Code::new.
    #[hpy_method]
    fn eval_code<'py>(
        ctx: &'py Context,
        code: Handle<'py>,
        globals: &Handle<'py>,
        locals: &Handle<'py>,
    ) -> Result<Handle<'py>> {
        let code = Code::new(code)?;
        ctx.eval_code(&code, globals, locals)
    }

    /// compile + eval in one go.
    #[hpy_method]
    fn run<'py>(
        ctx: &'py Context,
        source: &str,
        mode: &str,
        globals: &Handle<'py>,
    ) -> Result<Handle<'py>> {
        let code = ctx.compile(source, "<run>", kind(mode)?)?;
        ctx.eval_code(&code, globals, globals)
    }

    /// Aborts the process (HPy_FatalError).
    #[hpy_method]
    fn fatal_error(ctx: &Context, msg: &str) {
        ctx.fatal_error(msg)
    }
}
