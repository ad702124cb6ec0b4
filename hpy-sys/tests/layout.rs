//! Layout verification of `hpy-sys` against the C headers of the pinned `hpy==0.9.0`.
//!
//! For every context member, every field of every ABI struct and every constant,
//! this test generates a C program that prints what gcc computes from the real
//! headers (`offsetof`, `sizeof`, `_Alignof`, enum and macro values) and whether
//! the C type of the field is *compatible* with the Rust type rendered back into
//! C (`__builtin_types_compatible_p`, so a function pointer with one wrong
//! parameter type fails). It compares them one by one with `offset_of!` /
//! `size_of` and names every member that differs.
//!
//! It also checks that the member list equals the header's, in order, and that
//! `hpy-sys/src/autogen.rs` is what `tools/gen_hpy_sys.py` generates today.
//!
//! The headers are found through `HPY_INCLUDE_DIR`, or through the project's
//! CPython (`HPY_CPYTHON`, else `$HOME/.cache/hpy-rs/cpython/bin/python`), as
//! prepared by `tools/setup-interpreters` (the README's test command runs it).

use core::ffi::c_void;
use hpy_sys::*;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::mem::{align_of, offset_of, size_of};
use std::path::{Path, PathBuf};
use std::process::Command;

// ---------------------------------------------------------------------------
// Rendering a Rust type as a C type name

/// A Rust type that mirrors a C type, rendered as a C type name.
trait CType {
    fn c() -> String;
}

/// A return type: `()` is C `void`.
trait CRet {
    fn c_ret() -> String;
}
impl CRet for () {
    fn c_ret() -> String {
        "void".into()
    }
}
impl<T: CType> CRet for T {
    fn c_ret() -> String {
        T::c()
    }
}

macro_rules! c_names {
    ($($t:ty => $c:expr),* $(,)?) => {$(
        impl CType for $t {
            fn c() -> String {
                $c.into()
            }
        }
    )*};
}

// Rust types that are aliases of each other can have one name only; each is
// rendered as the C type that the `int*_t` typedefs expand to on LP64 Linux, so
// `__builtin_types_compatible_p` accepts both spellings.
c_names! {
    c_void => "void",
    i8 => "char",
    i32 => "int",
    u32 => "unsigned int",
    i64 => "long",
    u64 => "unsigned long",
    isize => "intptr_t",
    usize => "size_t",
    f64 => "double",
    bool => "_Bool",
}

macro_rules! c_named_types {
    ($($t:ident),* $(,)?) => { c_names! { $($t => stringify!($t)),* } };
}

c_named_types! {
    HPy, HPyField, HPyGlobal, HPyListBuilder, HPyTupleBuilder, HPyTracker, HPyThreadState,
    HPyContext, HPyDef, HPyType_Spec, HPyType_SpecParam, HPy_buffer, HPyCallFunction,
    HPyCapsule_Destructor, HPyModuleDef, HPySlot, HPyMeth, HPyMember, HPyGetSet,
    cpy_PyObject, cpy_PyMethodDef, cpy_PyModuleDef, cpy_Py_buffer,
    HPyFunc_Signature, HPySlot_Slot, HPyMember_FieldType, HPyDef_Kind, HPyType_BuiltinShape,
    HPyType_SpecParam_Kind, HPy_RichCmpOp, HPy_SourceKind, _HPyCapsule_key,
}

fn is_plain_name(c: &str) -> bool {
    c.chars()
        .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == ' ')
}

impl<T: CType> CType for *mut T {
    fn c() -> String {
        let t = T::c();
        if is_plain_name(&t) {
            format!("{t} *")
        } else {
            format!("__typeof__({t}) *")
        }
    }
}
impl<T: CType> CType for *const T {
    fn c() -> String {
        let t = T::c();
        if is_plain_name(&t) {
            format!("{t} const *")
        } else {
            format!("__typeof__({t}) const *")
        }
    }
}
impl<T: CType> CType for Option<T> {
    fn c() -> String {
        T::c() // C function pointers are nullable; Rust spells that `Option<fn>`.
    }
}

macro_rules! c_fn_ptrs {
    ($( ($($a:ident),*) )*) => {$(
        impl<R: CRet, $($a: CType),*> CType for unsafe extern "C" fn($($a),*) -> R {
            fn c() -> String {
                let params: Vec<String> = vec![$($a::c()),*];
                let params = if params.is_empty() { "void".to_string() } else { params.join(", ") };
                format!("__typeof__({}) (*)({})", R::c_ret(), params)
            }
        }
    )*};
}
c_fn_ptrs! { () (A) (A, B) (A, B, C) (A, B, C, D) (A, B, C, D, E) (A, B, C, D, E, F) (A, B, C, D, E, F, G) }

// ---------------------------------------------------------------------------
// What the Rust side says

struct Field {
    c_struct: &'static str,
    c_field: &'static str,
    offset: usize,
    size: usize,
    c_type: String,
}

fn field<S, T: CType>(
    c_struct: &'static str,
    c_field: &'static str,
    offset: usize,
    _type_witness: fn(&S) -> &T,
) -> Field {
    Field {
        c_struct,
        c_field,
        offset,
        size: size_of::<T>(),
        c_type: T::c(),
    }
}

/// `fields!(out, Struct { c_name => rust.path, ... })`.
macro_rules! fields {
    ($out:ident, $s:ident { $($c:ident => $($r:ident).+),* $(,)? }) => {$(
        // The closure only names the field's type; it is never called. Union fields
        // need `unsafe` to be referenced at all.
        #[allow(unused_unsafe, clippy::undocumented_unsafe_blocks)]
        $out.push(field::<$s, _>(
            stringify!($s),
            stringify!($c),
            offset_of!($s, $($r).+),
            |x: &$s| unsafe { &x.$($r).+ },
        ));
    )*};
}

macro_rules! context_fields {
    ($($m:ident),* $(,)?) => {{
        let mut v = Vec::new();
        fields!(v, HPyContext { name => name, _private => _private, abi_version => abi_version, $($m => $m),* });
        v
    }};
}

fn all_fields() -> (Vec<Field>, usize) {
    let mut v = hpy_sys::__hpy_for_each_context_member!(context_fields);
    let n_ctx = v.len();
    fields!(v, HPy { _i => _i });
    fields!(v, HPyField { _i => _i });
    fields!(v, HPyGlobal { _i => _i });
    fields!(v, HPyListBuilder { _lst => _lst });
    fields!(v, HPyTupleBuilder { _tup => _tup });
    fields!(v, HPyTracker { _i => _i });
    fields!(v, HPyThreadState { _i => _i });
    fields!(v, HPySlot { slot => slot, impl => impl_, cpy_trampoline => cpy_trampoline });
    fields!(v, HPyMeth {
        name => name, impl => impl_, cpy_trampoline => cpy_trampoline,
        signature => signature, doc => doc,
    });
    fields!(v, HPyMember { name => name, type => type_, offset => offset, readonly => readonly, doc => doc });
    fields!(v, HPyGetSet {
        name => name, getter_impl => getter_impl, setter_impl => setter_impl,
        getter_cpy_trampoline => getter_cpy_trampoline,
        setter_cpy_trampoline => setter_cpy_trampoline, doc => doc, closure => closure,
    });
    fields!(v, HPyDef { kind => kind, slot => u.slot, meth => u.meth, member => u.member, getset => u.getset });
    fields!(v, HPyCapsule_Destructor { cpy_trampoline => cpy_trampoline, impl => impl_ });
    fields!(v, HPyCallFunction { cpy_trampoline => cpy_trampoline, impl => impl_ });
    fields!(v, HPyType_Vectorcall { cpy_trampoline => cpy_trampoline, impl => impl_ });
    fields!(v, HPyType_Spec {
        name => name, basicsize => basicsize, itemsize => itemsize, flags => flags,
        builtin_shape => builtin_shape, legacy_slots => legacy_slots, defines => defines, doc => doc,
    });
    fields!(v, HPyType_SpecParam { kind => kind, object => object });
    fields!(v, HPyModuleDef {
        doc => doc, size => size, legacy_methods => legacy_methods, defines => defines, globals => globals,
    });
    fields!(v, HPy_buffer {
        buf => buf, obj => obj, len => len, itemsize => itemsize, readonly => readonly, ndim => ndim,
        format => format, shape => shape, strides => strides, suboffsets => suboffsets, internal => internal,
    });
    fields!(v, _HPyFunc_args_NOARGS { self => self_, result => result });
    fields!(v, _HPyFunc_args_O { self => self_, arg => arg, result => result });
    fields!(v, _HPyFunc_args_VARARGS { self => self_, args => args, nargs => nargs, result => result });
    fields!(v, _HPyFunc_args_KEYWORDS {
        self => self_, args => args, nargsf => nargsf, kwnames => kwnames, result => result,
    });
    fields!(v, _HPyFunc_args_UNARYFUNC { arg0 => arg0, result => result });
    fields!(v, _HPyFunc_args_BINARYFUNC { arg0 => arg0, arg1 => arg1, result => result });
    fields!(v, _HPyFunc_args_TERNARYFUNC { arg0 => arg0, arg1 => arg1, arg2 => arg2, result => result });
    fields!(v, _HPyFunc_args_INQUIRY { arg0 => arg0, result => result });
    fields!(v, _HPyFunc_args_LENFUNC { arg0 => arg0, result => result });
    fields!(v, _HPyFunc_args_SSIZEARGFUNC { arg0 => arg0, arg1 => arg1, result => result });
    fields!(v, _HPyFunc_args_SSIZESSIZEARGFUNC { arg0 => arg0, arg1 => arg1, arg2 => arg2, result => result });
    fields!(v, _HPyFunc_args_SSIZEOBJARGPROC { arg0 => arg0, arg1 => arg1, arg2 => arg2, result => result });
    fields!(v, _HPyFunc_args_SSIZESSIZEOBJARGPROC {
        arg0 => arg0, arg1 => arg1, arg2 => arg2, arg3 => arg3, result => result,
    });
    fields!(v, _HPyFunc_args_OBJOBJARGPROC { arg0 => arg0, arg1 => arg1, arg2 => arg2, result => result });
    fields!(v, _HPyFunc_args_FREEFUNC { arg0 => arg0 });
    fields!(v, _HPyFunc_args_GETATTRFUNC { arg0 => arg0, arg1 => arg1, result => result });
    fields!(v, _HPyFunc_args_GETATTROFUNC { arg0 => arg0, arg1 => arg1, result => result });
    fields!(v, _HPyFunc_args_SETATTRFUNC { arg0 => arg0, arg1 => arg1, arg2 => arg2, result => result });
    fields!(v, _HPyFunc_args_SETATTROFUNC { arg0 => arg0, arg1 => arg1, arg2 => arg2, result => result });
    fields!(v, _HPyFunc_args_REPRFUNC { arg0 => arg0, result => result });
    fields!(v, _HPyFunc_args_HASHFUNC { arg0 => arg0, result => result });
    fields!(v, _HPyFunc_args_GETITERFUNC { arg0 => arg0, result => result });
    fields!(v, _HPyFunc_args_ITERNEXTFUNC { arg0 => arg0, result => result });
    fields!(v, _HPyFunc_args_DESCRGETFUNC { arg0 => arg0, arg1 => arg1, arg2 => arg2, result => result });
    fields!(v, _HPyFunc_args_DESCRSETFUNC { arg0 => arg0, arg1 => arg1, arg2 => arg2, result => result });
    fields!(v, _HPyFunc_args_GETTER { arg0 => arg0, arg1 => arg1, result => result });
    fields!(v, _HPyFunc_args_SETTER { arg0 => arg0, arg1 => arg1, arg2 => arg2, result => result });
    fields!(v, _HPyFunc_args_OBJOBJPROC { arg0 => arg0, arg1 => arg1, result => result });
    fields!(v, _HPyFunc_args_DESTRUCTOR { arg0 => arg0 });
    fields!(v, _HPyFunc_args_INITPROC { self => self_, args => args, kw => kw, result => result });
    fields!(v, _HPyFunc_args_NEWFUNC { self => self_, args => args, kw => kw, result => result });
    fields!(v, _HPyFunc_args_RICHCMPFUNC { arg0 => arg0, arg1 => arg1, arg2 => arg2, result => result });
    fields!(v, _HPyFunc_args_GETBUFFERPROC { self => self_, view => view, flags => flags, result => result });
    fields!(v, _HPyFunc_args_RELEASEBUFFERPROC { self => self_, view => view });
    fields!(v, _HPyFunc_args_TRAVERSEPROC { self => self_, visit => visit, arg => arg, result => result });
    fields!(v, _HPyFunc_args_MOD_CREATE { spec => spec, result => result });
    (v, n_ctx)
}

c_named_types! {
    HPyType_Vectorcall,
    _HPyFunc_args_NOARGS, _HPyFunc_args_O, _HPyFunc_args_VARARGS, _HPyFunc_args_KEYWORDS,
}

/// Picks the slot constants out of all generated enum constants.
trait ToSlot: Sized {
    fn to_slot(self) -> Option<HPySlot_Slot> {
        None
    }
}
impl ToSlot for HPySlot_Slot {
    fn to_slot(self) -> Option<HPySlot_Slot> {
        Some(self)
    }
}
impl ToSlot for HPyFunc_Signature {}
impl ToSlot for HPyMember_FieldType {}
impl ToSlot for HPyDef_Kind {}
impl ToSlot for HPyType_BuiltinShape {}
impl ToSlot for HPyType_SpecParam_Kind {}
impl ToSlot for HPy_RichCmpOp {}
impl ToSlot for HPy_SourceKind {}
impl ToSlot for _HPyCapsule_key {}

struct StructLayout {
    name: &'static str,
    size: usize,
    align: usize,
}

macro_rules! structs {
    ($($s:ident),* $(,)?) => {
        vec![$(StructLayout { name: stringify!($s), size: size_of::<$s>(), align: align_of::<$s>() }),*]
    };
}

fn all_structs() -> Vec<StructLayout> {
    structs![
        HPyContext,
        HPy,
        HPyField,
        HPyGlobal,
        HPyListBuilder,
        HPyTupleBuilder,
        HPyTracker,
        HPyThreadState,
        HPySlot,
        HPyMeth,
        HPyMember,
        HPyGetSet,
        HPyDef,
        HPyCapsule_Destructor,
        HPyCallFunction,
        HPyType_Vectorcall,
        HPyType_Spec,
        HPyType_SpecParam,
        HPyModuleDef,
        HPy_buffer,
        HPyFunc_Signature,
        HPySlot_Slot,
        HPyMember_FieldType,
        HPyDef_Kind,
        HPyType_BuiltinShape,
        HPyType_SpecParam_Kind,
        HPy_RichCmpOp,
        HPy_SourceKind,
        _HPyCapsule_key,
        HPy_ssize_t,
        HPy_hash_t,
        HPy_UCS4,
        wchar_t,
        HPyCFunction,
        _HPyFunc_args_NOARGS,
        _HPyFunc_args_O,
        _HPyFunc_args_VARARGS,
        _HPyFunc_args_KEYWORDS,
        _HPyFunc_args_UNARYFUNC,
        _HPyFunc_args_BINARYFUNC,
        _HPyFunc_args_TERNARYFUNC,
        _HPyFunc_args_INQUIRY,
        _HPyFunc_args_LENFUNC,
        _HPyFunc_args_SSIZEARGFUNC,
        _HPyFunc_args_SSIZESSIZEARGFUNC,
        _HPyFunc_args_SSIZEOBJARGPROC,
        _HPyFunc_args_SSIZESSIZEOBJARGPROC,
        _HPyFunc_args_OBJOBJARGPROC,
        _HPyFunc_args_FREEFUNC,
        _HPyFunc_args_GETATTRFUNC,
        _HPyFunc_args_GETATTROFUNC,
        _HPyFunc_args_SETATTRFUNC,
        _HPyFunc_args_SETATTROFUNC,
        _HPyFunc_args_REPRFUNC,
        _HPyFunc_args_HASHFUNC,
        _HPyFunc_args_GETITERFUNC,
        _HPyFunc_args_ITERNEXTFUNC,
        _HPyFunc_args_DESCRGETFUNC,
        _HPyFunc_args_DESCRSETFUNC,
        _HPyFunc_args_GETTER,
        _HPyFunc_args_SETTER,
        _HPyFunc_args_OBJOBJPROC,
        _HPyFunc_args_DESTRUCTOR,
        _HPyFunc_args_INITPROC,
        _HPyFunc_args_NEWFUNC,
        _HPyFunc_args_RICHCMPFUNC,
        _HPyFunc_args_GETBUFFERPROC,
        _HPyFunc_args_RELEASEBUFFERPROC,
        _HPyFunc_args_TRAVERSEPROC,
        _HPyFunc_args_MOD_CREATE,
    ]
}

fn all_constants() -> Vec<(&'static str, i128)> {
    macro_rules! enum_consts {
        ($($n:ident),* $(,)?) => { vec![$((stringify!($n), i128::from(hpy_sys::$n.0))),*] };
    }
    let mut v = hpy_sys::__hpy_for_each_enum_constant!(enum_consts);
    macro_rules! consts {
        ($($n:ident),* $(,)?) => { $(v.push((stringify!($n), hpy_sys::$n as i128));)* };
    }
    consts!(
        HPY_ABI_VERSION,
        HPY_ABI_VERSION_MINOR,
        HPy_TPFLAGS_DEFAULT,
        HPy_TPFLAGS_HAVE_VECTORCALL,
        HPy_TPFLAGS_BASETYPE,
        HPy_TPFLAGS_HAVE_GC,
        _Py_TPFLAGS_HEAPTYPE,
        _Py_TPFLAGS_HAVE_VERSION_TAG,
        HPY_SSIZE_T_MAX,
        HPY_SSIZE_T_MIN,
    );
    // `HPySlot_SIG(slot)` for every slot: the C side expands `HPySlot_SIG(HPy_xxx)`.
    macro_rules! slot_sigs {
        ($($n:ident),* $(,)?) => {$(
            if let Some(slot) = hpy_sys::$n.to_slot() {
                let sig = HPySlot_SIG(slot).map_or(-1, |s| i128::from(s.0));
                v.push((concat!("HPySlot_SIG(", stringify!($n), ")"), sig));
            }
        )*};
    }
    hpy_sys::__hpy_for_each_enum_constant!(slot_sigs);
    v
}

// ---------------------------------------------------------------------------
// What gcc says

fn include_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("HPY_INCLUDE_DIR") {
        return PathBuf::from(dir);
    }
    let python = std::env::var_os("HPY_CPYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/hpy-rs/cpython/bin/python")
        });
    let out = Command::new(&python)
        .args(["-c", "import hpy.devel, os; print(os.path.join(os.path.dirname(hpy.devel.__file__), 'include'))"])
        .output();
    match out {
        Ok(o) if o.status.success() => PathBuf::from(String::from_utf8(o.stdout).unwrap().trim()),
        _ => panic!(
            "cannot find the headers of hpy==0.9.0 (tried HPY_INCLUDE_DIR, then {}).\n\
             Run `tools/setup-interpreters` first (the README's test command does), or set HPY_INCLUDE_DIR.",
            python.display()
        ),
    }
}

fn c_program(
    fields: &[Field],
    structs: &[StructLayout],
    consts: &[(&'static str, i128)],
) -> String {
    let mut c = String::from(
        "#define HPY_ABI_UNIVERSAL\n#include <hpy.h>\n#include <stddef.h>\n#include <stdio.h>\n\
         #define FIELD(S, F, T) printf(\"field %s.%s %zu %zu %d\\n\", #S, #F, offsetof(S, F), \
         sizeof(((S *)0)->F), __builtin_types_compatible_p(__typeof__(((S *)0)->F), T));\n\
         #define STRUCT(S) printf(\"struct %s %zu %zu\\n\", #S, sizeof(S), _Alignof(S));\n\
         #define CONST(N) printf(\"const %s %lld\\n\", #N, (long long)(N));\n\
         #define SLOT_SIG(N) printf(\"const HPySlot_SIG(%s) %lld\\n\", #N, (long long)HPySlot_SIG(N));\n\
         int main(void) {\n",
    );
    for f in fields {
        writeln!(c, "FIELD({}, {}, {})", f.c_struct, f.c_field, f.c_type).unwrap();
    }
    for s in structs {
        writeln!(c, "STRUCT({})", s.name).unwrap();
    }
    for (name, _) in consts {
        match name.strip_prefix("HPySlot_SIG(") {
            Some(slot) => writeln!(c, "SLOT_SIG({})", slot.trim_end_matches(')')).unwrap(),
            None => writeln!(c, "CONST({name})").unwrap(),
        }
    }
    c.push_str("printf(\"tag %s\\n\", HPY_ABI_TAG);\nreturn 0;\n}\n");
    c
}

fn run_c(dir: &Path, include: &Path, src: &str) -> String {
    std::fs::create_dir_all(dir).unwrap();
    let c_file = dir.join("layout.c");
    let exe = dir.join("layout");
    std::fs::write(&c_file, src).unwrap();
    let gcc = Command::new("gcc")
        .arg("-std=gnu11")
        .arg("-Wall")
        .arg("-Werror")
        .arg("-I")
        .arg(include)
        .arg(&c_file)
        .arg("-o")
        .arg(&exe)
        .output()
        .expect("gcc is needed for the layout test");
    assert!(
        gcc.status.success(),
        "gcc could not compile the layout program {}:\n{}",
        c_file.display(),
        String::from_utf8_lossy(&gcc.stderr)
    );
    let out = Command::new(&exe).output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

fn header_member_names(include: &Path) -> Vec<String> {
    let src = std::fs::read_to_string(include.join("hpy/universal/autogen_ctx.h")).unwrap();
    let body = src
        .split("struct _HPyContext_s {")
        .nth(1)
        .unwrap()
        .split("};")
        .next()
        .unwrap();
    let mut names = Vec::new();
    for line in body.lines() {
        let line = line.split("//").next().unwrap().trim();
        if let Some(rest) = line.split("(*").nth(1) {
            names.push(rest.split(')').next().unwrap().to_string());
        } else if let Some(decl) = line.strip_suffix(';') {
            names.push(decl.rsplit([' ', '*']).next().unwrap().to_string());
        }
    }
    names
}

// ---------------------------------------------------------------------------
// The tests

#[test]
fn layout_matches_c_headers() {
    let include = include_dir();
    let (fields, n_ctx) = all_fields();
    let structs = all_structs();
    let consts = all_constants();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("hpy-sys-layout");
    let out = run_c(&dir, &include, &c_program(&fields, &structs, &consts));

    let mut c_fields = BTreeMap::new();
    let mut c_structs = BTreeMap::new();
    let mut c_consts = BTreeMap::new();
    let mut c_tag = String::new();
    for line in out.lines() {
        let parts: Vec<&str> = line.split(' ').collect();
        match parts[0] {
            "field" => {
                let nums: Vec<usize> = parts[2..].iter().map(|p| p.parse().unwrap()).collect();
                c_fields.insert(parts[1].to_string(), (nums[0], nums[1], nums[2] == 1));
            }
            "struct" => {
                c_structs.insert(
                    parts[1].to_string(),
                    (
                        parts[2].parse::<usize>().unwrap(),
                        parts[3].parse::<usize>().unwrap(),
                    ),
                );
            }
            "const" => {
                c_consts.insert(parts[1].to_string(), parts[2].parse::<i128>().unwrap());
            }
            "tag" => c_tag = parts[1].to_string(),
            _ => panic!("unexpected line from the C program: {line}"),
        }
    }

    let mut errors = Vec::new();
    for f in &fields {
        let key = format!("{}.{}", f.c_struct, f.c_field);
        let (off, size, compatible) = c_fields[&key];
        if off != f.offset {
            errors.push(format!(
                "{key}: offset is {} in Rust but {off} in C",
                f.offset
            ));
        }
        if size != f.size {
            errors.push(format!("{key}: size is {} in Rust but {size} in C", f.size));
        }
        if !compatible {
            errors.push(format!(
                "{key}: the Rust type (as C: `{}`) is not compatible with the C type",
                f.c_type
            ));
        }
    }
    for s in &structs {
        let (size, align) = c_structs[s.name];
        if (size, align) != (s.size, s.align) {
            errors.push(format!(
                "{}: size/align is {}/{} in Rust but {size}/{align} in C",
                s.name, s.size, s.align
            ));
        }
    }
    for (name, value) in &consts {
        let c = c_consts[*name];
        if c != *value {
            errors.push(format!("{name}: {value} in Rust but {c} in C"));
        }
    }
    if c_tag != HPY_ABI_TAG.to_str().unwrap() {
        errors.push(format!(
            "HPY_ABI_TAG: {HPY_ABI_TAG:?} in Rust but {c_tag:?} in C"
        ));
    }

    println!(
        "compared with gcc: {n_ctx} context fields (3 header + {} members: offset, size, type), \
         {} fields of {} other structs, {} struct sizes, {} constants",
        n_ctx - 3,
        fields.len() - n_ctx,
        structs.len() - 1,
        structs.len(),
        consts.len() + 1,
    );
    assert!(
        errors.is_empty(),
        "{} layout mismatches:\n  {}",
        errors.len(),
        errors.join("\n  ")
    );

    // Reference points from the ABI brief, so that a wrong header would be noticed too.
    assert_eq!(size_of::<HPyContext>(), 2128);
    assert_eq!(offset_of!(HPyContext, ctx_Dup), 640);
    assert_eq!(
        offset_of!(HPyContext, ctx_CallRealFunctionFromTrampoline),
        1688
    );
    assert_eq!(size_of::<HPyDef>(), 64);
    assert_eq!(size_of::<HPyModuleDef>(), 40);
    assert_eq!(size_of::<HPyType_Spec>(), 56);
}

#[test]
fn context_members_match_header_in_id_order() {
    let include = include_dir();
    let header = header_member_names(&include);
    let rust: Vec<&str> = ["name", "_private", "abi_version"]
        .into_iter()
        .chain(HPY_CONTEXT_MEMBER_NAMES)
        .collect();
    for (i, (h, r)) in header.iter().zip(&rust).enumerate() {
        assert_eq!(
            h,
            r,
            "context field {i} (HPy_ID {}) is {h} in the header but {r} in hpy-sys",
            i as isize - 3
        );
    }
    assert_eq!(
        header.len(),
        rust.len(),
        "the header has {} context fields, hpy-sys {}; missing: {:?}",
        header.len(),
        rust.len(),
        header
            .iter()
            .filter(|h| !rust.contains(&h.as_str()))
            .collect::<Vec<_>>()
    );
    let handles = HPY_CONTEXT_MEMBER_NAMES
        .iter()
        .filter(|n| n.starts_with("h_"))
        .count();
    assert_eq!((HPY_CONTEXT_MEMBERS, handles), (263, 83));
    println!(
        "context members: {} (83 handles, 180 functions), same names and order as the header",
        HPY_CONTEXT_MEMBERS
    );
}

#[test]
fn generated_file_is_up_to_date() {
    let include = include_dir();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let out = Command::new("python3")
        .arg(root.join("tools/gen_hpy_sys.py"))
        .arg("--check")
        .arg("--include")
        .arg(&include)
        .output()
        .expect("python3 is needed to run tools/gen_hpy_sys.py");
    assert!(
        out.status.success(),
        "hpy-sys/src/autogen.rs differs from what tools/gen_hpy_sys.py generates:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn slice_adjust_indices_matches_c() {
    // The C helper's semantics, as Python's slice.indices() shows them.
    let case = |len, mut start, mut stop, step| {
        let n = HPySlice_AdjustIndices(len, &mut start, &mut stop, step);
        (start, stop, n)
    };
    assert_eq!(case(10, 2, 8, 2), (2, 8, 3));
    assert_eq!(case(10, -3, 100, 1), (7, 10, 3));
    assert_eq!(case(10, 100, -100, -1), (9, -1, 10));
    assert_eq!(case(10, -100, 5, -1), (-1, 5, 0));
    assert_eq!(case(5, 0, 5, 0), (0, 5, 0));
}
