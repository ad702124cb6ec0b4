#!/usr/bin/env python3
"""Generate `hpy-sys/src/autogen.rs` from the C headers of the pinned `hpy==0.9.0`.

The HPy universal ABI is defined by headers that HPy itself generates from
`public_api.h` (ordered by `HPy_ID`). This script reads the installed copies of
those headers and writes the Rust mirror of:

* `struct _HPyContext_s` (3 header fields + 263 members, in ID order), from
  `hpy/universal/autogen_ctx.h`;
* one `#[inline(always)]` function per context function, named like the C API
  (`HPy_Dup`, `HPyLong_FromInt64_t`, ...), from
  `hpy/universal/autogen_trampolines.h` and `misc_trampolines.h`;
* one accessor per handle constant (`h_None(ctx)`, ...);
* every `typedef enum` of the public headers, as `#[repr(transparent)]` `i32`
  newtypes with one constant per enumerator;
* the `HPyFunc_*` impl-function typedefs, from `autogen_hpyfunc_declare.h`;
* the `_HPyFunc_args_*` trampoline argument structs, from
  `hpy/universal/{autogen_,}hpyfunc_trampolines.h`;
* the slot -> signature table (`HPySlot_SIG`), from `autogen_hpyslot.h`.

Usage (the include directory defaults to `$HPY_INCLUDE_DIR`, else to the one
of the `hpy` package importable by this interpreter):

    python3 tools/gen_hpy_sys.py [--include DIR] [--check]

`--check` regenerates in memory and fails if the checked-in file differs; the
layout test runs it. The output is passed through `rustfmt`.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "hpy-sys" / "src" / "autogen.rs"
HPY_VERSION = "0.9.0"
NUM_MEMBERS = 263  # HPy_ID 0..262 in hpy 0.9.0; 263+ exist only on newer runtimes
# PyPy >= 7.3.18 (HPy 0.9.1.dev) inserts `h_DictType` at ID 244, so every member
# from here on sits one slot later there: the wrappers of these members read
# their slot through `crate::late_member` (see hpy-sys/src/layout.rs).
FIRST_LATE_ID = 244

# Context functions that may be called while an exception is set: the error
# functions themselves, closing and duplicating handles (as `Py_DECREF`, which
# CPython allows anywhere), cancelling builders, pure type and identity tests,
# loading stored references, and re-taking the GIL. Every other wrapper checks, in builds with
# debug assertions, that no exception is pending (see
# `crate::check_no_pending_error`): calling into the runtime with one set is a
# bug that CPython reports as `SystemError: ... returned a result with an
# exception set`, or not at all.
MAY_RUN_WITH_ERROR = {
    "HPy_Dup", "HPy_Close", "HPy_Is", "HPy_Type", "HPy_TypeCheck", "HPyType_IsSubtype",
    "HPyErr_Occurred", "HPyErr_ExceptionMatches", "HPyErr_Clear", "HPyErr_SetString",
    "HPyErr_SetObject", "HPyErr_SetFromErrnoWithFilename",
    "HPyErr_SetFromErrnoWithFilenameObjects", "HPyErr_NoMemory", "HPyErr_WriteUnraisable",
    "HPyTracker_Close", "HPyTracker_ForgetAll", "HPyListBuilder_Cancel",
    "HPyTupleBuilder_Cancel", "HPyField_Load", "HPyGlobal_Load", "_HPy_Dump",
    "_HPy_CallRealFunctionFromTrampoline",
    # Called without the GIL, when no exception state can be read.
    "HPy_ReenterPythonExecution",
    "HPyBool_FromBool", "HPyNumber_Check", "HPyCallable_Check", "HPyBytes_Check",
    "HPyUnicode_Check", "HPyList_Check", "HPyDict_Check", "HPyTuple_Check",
    "_HPy_AsStruct_Object", "_HPy_AsStruct_Legacy", "_HPy_AsStruct_Type",
    "_HPy_AsStruct_Long", "_HPy_AsStruct_Float", "_HPy_AsStruct_Unicode",
    "_HPy_AsStruct_Tuple", "_HPy_AsStruct_List", "_HPyType_GetBuiltinShape",
}

RUST_KEYWORDS = {
    "type", "self", "ref", "fn", "mod", "in", "where", "loop", "match", "move",
    "impl", "trait", "struct", "enum", "use", "let", "static", "const", "box",
    "gen", "async", "await", "dyn", "crate", "super", "final", "override",
}

# C base types -> Rust. Everything not listed is an HPy type of the same name.
BASE_TYPES = {
    "void": "c_void",
    "char": "c_char",
    "int": "c_int",
    "unsigned int": "c_uint",
    "long": "c_long",
    "unsigned long": "c_ulong",
    "long long": "c_longlong",
    "unsigned long long": "c_ulonglong",
    "int32_t": "i32",
    "uint32_t": "u32",
    "int64_t": "i64",
    "uint64_t": "u64",
    "size_t": "usize",
    "double": "f64",
    "bool": "bool",
    "wchar_t": "wchar_t",
}


class GenError(Exception):
    pass


def strip_comments(src: str) -> str:
    src = re.sub(r"/\*.*?\*/", " ", src, flags=re.S)
    return re.sub(r"//[^\n]*", " ", src)


def rust_type(ctype: str) -> str:
    """Translate a C type (no declarator name) into a Rust type."""
    ctype = ctype.strip()
    array = ctype.endswith("[]")
    if array:
        ctype = ctype[:-2].strip() + " *"
    tokens = re.findall(r"\w+|\*", ctype)
    base_tokens: list[str] = []
    base_const = False
    i = 0
    while i < len(tokens) and tokens[i] != "*":
        if tokens[i] == "const":
            base_const = True
        else:
            base_tokens.append(tokens[i])
        i += 1
    base = " ".join(base_tokens)
    if not base:
        raise GenError(f"cannot parse C type {ctype!r}")
    rust = BASE_TYPES.get(base, base)
    # Build from the inside out: each `*` points at what was built so far;
    # the pointer is `*const` when what it points at is const.
    pointee_const = base_const
    while i < len(tokens):
        if tokens[i] == "*":
            rust = f"*{'const' if pointee_const else 'mut'} {rust}"
            pointee_const = False
        elif tokens[i] == "const":
            pointee_const = True  # the pointer just built is itself const
        else:
            raise GenError(f"unexpected token {tokens[i]!r} in C type {ctype!r}")
        i += 1
    if rust == "c_void":
        raise GenError("bare void is not a value type")
    return rust


def split_decl(decl: str) -> tuple[str, str]:
    """Split `const HPy *args` into (`const HPy *`, `args`); `HPy` alone -> (`HPy`, ``)."""
    decl = decl.strip()
    if decl.endswith("*"):
        return decl, ""  # an unnamed pointer parameter
    m = re.match(r"^(.*?)(\w+)\s*(\[\])?$", decl)
    if not m:
        raise GenError(f"cannot parse declaration {decl!r}")
    ctype, name, array = m.group(1).strip(), m.group(2), m.group(3)
    if not ctype or ctype in ("const", "unsigned", "signed"):
        # no name: the whole thing is a type (e.g. unnamed `HPy` parameter)
        return decl, ""
    if array:
        ctype += " []"
    return ctype, name


def rust_ident(name: str) -> str:
    return name + "_" if name in RUST_KEYWORDS else name


@dataclass
class Param:
    ctype: str
    name: str

    @property
    def rust(self) -> str:
        return rust_type(self.ctype)


@dataclass
class FuncType:
    ret: str  # C return type ("void" for none)
    params: list[Param]

    def rust_ret(self) -> str:
        return "" if self.ret.strip() == "void" else f" -> {rust_type(self.ret)}"

    def rust_params(self, named: bool = True) -> str:
        out = []
        for i, p in enumerate(self.params):
            name = rust_ident(p.name) if p.name else f"arg{i}"
            out.append(f"{name}: {p.rust}" if named else p.rust)
        return ", ".join(out)

    def rust_fn_ptr(self) -> str:
        return f'Option<unsafe extern "C" fn({self.rust_params()}){self.rust_ret()}>'

    def c_proto(self, name: str) -> str:
        ps = ", ".join(f"{p.ctype} {p.name}".replace("* ", "*").strip() for p in self.params)
        ret = self.ret.strip()
        sep = "" if ret.endswith("*") else " "
        return f"{ret}{sep}(*{name})({ps})"


def parse_params(params: str) -> list[Param]:
    params = params.strip()
    if params in ("", "void"):
        return []
    out = []
    for p in params.split(","):
        ctype, name = split_decl(p)
        out.append(Param(ctype, name))
    return out


@dataclass
class Member:
    id: int
    name: str
    is_handle: bool
    func: FuncType | None = None
    c_api_name: str = ""
    returns_null: bool = False  # C wrapper returns HPy_NULL after a void call


def parse_context(inc: Path) -> list[Member]:
    src = strip_comments((inc / "hpy/universal/autogen_ctx.h").read_text())
    m = re.search(r"struct _HPyContext_s\s*\{(.*?)\};", src, re.S)
    if not m:
        raise GenError("struct _HPyContext_s not found in autogen_ctx.h")
    decls = [d.strip() for d in m.group(1).split(";") if d.strip()]
    header = [" ".join(d.split()) for d in decls[:3]]
    if header != ["const char *name", "void *_private", "int abi_version"]:
        raise GenError(f"unexpected context header fields: {header}")
    members = []
    for idx, d in enumerate(decls[3:]):
        d = " ".join(d.split())
        fm = re.match(r"^(.+?)\(\*(ctx_\w+)\)\((.*)\)$", d)
        if fm:
            ret, name, params = fm.groups()
            members.append(Member(idx, name, False, FuncType(ret.strip(), parse_params(params))))
            continue
        hm = re.match(r"^HPy (h_\w+)$", d)
        if not hm:
            raise GenError(f"cannot parse context member {d!r}")
        members.append(Member(idx, hm.group(1), True))
    if len(members) != NUM_MEMBERS:
        raise GenError(f"expected {NUM_MEMBERS} context members, found {len(members)}")
    return members


def attach_c_names(inc: Path, members: list[Member]) -> None:
    src = strip_comments((inc / "hpy/universal/autogen_trampolines.h").read_text())
    found: dict[str, tuple[str, bool]] = {}
    pat = re.compile(
        r"HPyAPI_FUNC\s+(.+?)\b(\w+)\s*\(([^)]*)\)\s*\{\s*(return\s+)?ctx->(ctx_\w+)\s*\((.*?)\)\s*;\s*(return\s+HPy_NULL\s*;)?\s*\}",
        re.S,
    )
    for fm in pat.finditer(src):
        c_name, ctx_name, ret_null = fm.group(2), fm.group(5), fm.group(7)
        found[ctx_name] = (c_name, bool(ret_null))
    # Hand-written in misc_trampolines.h (checked below to really exist there).
    misc = (inc / "hpy/universal/misc_trampolines.h").read_text()
    for ctx_name, c_name in (("ctx_New", "_HPy_New"), ("ctx_FatalError", "HPy_FatalError")):
        if not re.search(rf"\b{c_name}\s*\(HPyContext \*ctx", misc) or f"ctx->{ctx_name}(" not in misc:
            raise GenError(f"{c_name} wrapping {ctx_name} not found in misc_trampolines.h")
        found.setdefault(ctx_name, (c_name, False))
    for mem in members:
        if mem.is_handle:
            continue
        if mem.name not in found:
            raise GenError(f"no C API name found for {mem.name}")
        mem.c_api_name, mem.returns_null = found[mem.name]


@dataclass
class Enum:
    name: str
    header: str
    values: list[tuple[str, int]] = field(default_factory=list)


ENUM_HEADERS = [
    "hpy.h",
    "hpy/macros.h",
    "hpy/hpyfunc.h",
    "hpy/autogen_hpyslot.h",
    "hpy/hpydef.h",
    "hpy/hpytype.h",
]


def parse_enums(inc: Path) -> list[Enum]:
    enums = []
    for h in ENUM_HEADERS:
        src = strip_comments((inc / h).read_text())
        for em in re.finditer(r"typedef\s+enum\s*\{(.*?)\}\s*(\w+)\s*;", src, re.S):
            body, name = em.groups()
            e = Enum(name, h)
            nxt = 0
            for item in body.split(","):
                item = item.strip()
                if not item:
                    continue
                im = re.match(r"^(\w+)\s*(?:=\s*(-?\d+))?$", item)
                if not im:
                    raise GenError(f"cannot parse enumerator {item!r} of {name}")
                val = int(im.group(2)) if im.group(2) is not None else nxt
                e.values.append((im.group(1), val))
                nxt = val + 1
            enums.append(e)
    return enums


def parse_slot_signatures(inc: Path) -> list[tuple[str, str]]:
    src = (inc / "hpy/autogen_hpyslot.h").read_text()
    return re.findall(r"#define _HPySlot_SIG__(HPy_\w+) (HPyFunc_\w+)", src)


def parse_func_typedefs(inc: Path) -> list[tuple[str, FuncType]]:
    src = strip_comments((inc / "hpy/autogen_hpyfunc_declare.h").read_text())
    out = []
    for fm in re.finditer(r"typedef\s+(.+?)\(\*(HPyFunc_\w+)\)\((.*?)\);", src, re.S):
        ret, name, params = fm.groups()
        out.append((name, FuncType(" ".join(ret.split()), parse_params(" ".join(params.split())))))
    if not out:
        raise GenError("no HPyFunc_* typedefs found")
    return out


def parse_args_structs(inc: Path) -> list[tuple[str, list[Param], str]]:
    out = []
    seen = set()
    for h in ("hpy/universal/autogen_hpyfunc_trampolines.h", "hpy/universal/hpyfunc_trampolines.h"):
        src = strip_comments((inc / h).read_text())
        for sm in re.finditer(r"typedef\s+struct\s*\{([^{}]*)\}\s*(_HPyFunc_args_\w+)\s*;", src, re.S):
            body, name = sm.groups()
            if name in seen:
                raise GenError(f"{name} defined twice")
            seen.add(name)
            fields = []
            for d in body.split(";"):
                d = " ".join(d.split())
                if d:
                    ctype, fname = split_decl(d)
                    fields.append(Param(ctype, fname))
            out.append((name, fields, h))
    return out


def hpy_version(inc: Path) -> str:
    src = (inc / "hpy/version.h").read_text()
    m = re.search(r'#define HPY_VERSION "([^"]+)"', src)
    if not m:
        raise GenError("HPY_VERSION not found in hpy/version.h")
    return m.group(1)


def generate(inc: Path) -> str:
    version = hpy_version(inc)
    if version != HPY_VERSION:
        raise GenError(f"headers are hpy {version}, expected the pinned {HPY_VERSION}")
    members = parse_context(inc)
    attach_c_names(inc, members)
    enums = parse_enums(inc)
    slot_sigs = parse_slot_signatures(inc)
    functypes = parse_func_typedefs(inc)
    args_structs = parse_args_structs(inc)
    n_handles = sum(m.is_handle for m in members)
    n_funcs = len(members) - n_handles

    o: list[str] = []
    w = o.append
    w("// @generated by tools/gen_hpy_sys.py from the C headers of hpy " + version + ". DO NOT EDIT.")
    w("// Regenerate (after `tools/setup-interpreters`): python3 tools/gen_hpy_sys.py")
    w("// The layout test (`hpy-sys/tests/layout.rs`) fails when this file is stale.")
    w("")
    w("use crate::*;")
    w("use core::ffi::{c_char, c_int, c_void};")
    w("")
    w(f"/// Number of `HPy_ID`-numbered members of the HPy {version} context ({n_handles} handles, {n_funcs} functions).")
    w(f"pub const HPY_CONTEXT_MEMBERS: usize = {len(members)};")
    w("")
    # --- enums
    for e in enums:
        w(f"/// The C enum `{e.name}` (`{e.header}`): an `i32` newtype, never a Rust enum, so")
        w("/// that any value coming from C is valid.")
        w("#[repr(transparent)]")
        w("#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]")
        w(f"pub struct {e.name}(pub i32);")
        w("")
        for vname, val in e.values:
            w(f"/// `{vname}` = {val} (`{e.name}`).")
            w(f"pub const {vname}: {e.name} = {e.name}({val});")
        w("")
    # --- slot signature table
    w("/// The impl signature that HPy requires for a slot (`HPySlot_SIG` in `autogen_hpyslot.h`);")
    w("/// `None` for a value that is not a slot of this ABI version.")
    w("pub const fn HPySlot_SIG(slot: HPySlot_Slot) -> Option<HPyFunc_Signature> {")
    w("    match slot.0 {")
    slot_vals = {n: v for e in enums if e.name == "HPySlot_Slot" for n, v in e.values}
    for sname, sig in slot_sigs:
        w(f"        {slot_vals[sname]} => Some({sig}),")
    w("        _ => None,")
    w("    }")
    w("}")
    w("")
    # --- HPyFunc typedefs
    for name, ft in functypes:
        w(f"/// Impl function type `{name}` (`autogen_hpyfunc_declare.h`): `{ft.c_proto(name)}`.")
        w(f"pub type {name} = {ft.rust_fn_ptr()};")
        w("")
    # --- trampoline argument structs
    for name, fields, h in args_structs:
        w(f"/// Arguments that a CPython trampoline packs for `ctx_CallRealFunctionFromTrampoline`")
        w(f"/// (`{name}` in `{h}`). The runtime writes `result` (if any).")
        w("#[repr(C)]")
        w("#[derive(Copy, Clone, Debug)]")
        w(f"pub struct {name} {{")
        for f in fields:
            w(f"    /// C: `{f.ctype} {f.name}`.")
            w(f"    pub {rust_ident(f.name)}: {f.rust},")
        w("}")
        w("")
    # --- the context
    w(f"/// `struct _HPyContext_s` of the HPy {version} universal ABI: three header fields, then")
    w(f"/// the {len(members)} members `HPy_ID` 0..{len(members) - 1} in ID order, {n_handles} handle")
    w(f"/// constants and {n_funcs} function pointers (`hpy/universal/autogen_ctx.h`).")
    w("///")
    w("/// Always used through `*mut HPyContext`; the runtime owns it. Members that exist only")
    w("/// on newer runtimes (IDs 263 and up) are deliberately not declared: the minor ABI")
    w("/// version was never bumped for them, so nothing would catch their absence at load time.")
    w("#[repr(C)]")
    w("pub struct HPyContext {")
    w("    /// Name of the context (for debugging).")
    w("    pub name: *const c_char,")
    w("    /// Used by implementations to store private data.")
    w("    pub _private: *mut c_void,")
    w("    /// `HPY_ABI_VERSION` of the runtime.")
    w("    pub abi_version: c_int,")
    for mem in members:
        if mem.is_handle:
            w(f"    /// Handle constant, `HPy_ID({mem.id})`.")
            w(f"    pub {mem.name}: HPy,")
        else:
            assert mem.func is not None
            w(f"    /// `HPy_ID({mem.id})`, called by [`{mem.c_api_name}`]: `{mem.func.c_proto(mem.name)}`.")
            w(f"    pub {mem.name}: {mem.func.rust_fn_ptr()},")
    w("}")
    w("")
    w("impl core::fmt::Debug for HPyContext {")
    w("    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {")
    w('        f.debug_struct("HPyContext").field("name", &self.name).field("abi_version", &self.abi_version).finish_non_exhaustive()')
    w("    }")
    w("}")
    w("")
    w("/// Names of the context members in `HPy_ID` order (index = ID).")
    w(f"pub const HPY_CONTEXT_MEMBER_NAMES: [&str; {len(members)}] = [")
    for mem in members:
        w(f'    "{mem.name}",')
    w("];")
    w("")
    w("/// The context's function members in `HPy_ID` order, as (member, C API function), e.g.")
    w("/// `(\"ctx_Dup\", \"HPy_Dup\")`: the C API function is the `#[inline]` wrapper of this crate.")
    w(f"pub const HPY_CONTEXT_FUNCTIONS: [(&str, &str); {n_funcs}] = [")
    for mem in members:
        if not mem.is_handle:
            w(f'    ("{mem.name}", "{mem.c_api_name}"),')
    w("];")
    w("")
    w("/// Calls `$callback! {{ member, ... }}` with every context member in `HPy_ID` order")
    w("/// (used by the layout test and the coverage check).")
    w("#[doc(hidden)]")
    w("#[macro_export]")
    w("macro_rules! __hpy_for_each_context_member {")
    w("    ($callback:ident) => {")
    w("        $callback! {")
    for mem in members:
        w(f"            {mem.name},")
    w("        }")
    w("    };")
    w("}")
    w("")
    w("/// Calls `$callback! {{ (member, (param: Type, ...), Return); ... }}` with every context")
    w("/// function in `HPy_ID` order: its parameters after the context, and its return type")
    w("/// (`()` for none). For runtimes that wrap every function (hpy-rs's trace mode).")
    w("#[doc(hidden)]")
    w("#[macro_export]")
    w("macro_rules! __hpy_for_each_context_function {")
    w("    ($callback:ident) => {")
    w("        $callback! {")
    for mem in members:
        if mem.is_handle:
            continue
        assert mem.func is not None
        params = FuncType(mem.func.ret, mem.func.params[1:]).rust_params()
        ret = rust_type(mem.func.ret) if mem.func.ret.strip() != "void" else "()"
        w(f"            ({mem.name}, ({params}), {ret});")
    w("        }")
    w("    };")
    w("}")
    w("")
    w("/// Calls `$callback! {{ CONSTANT, ... }}` with every enumerator of the generated C enums.")
    w("#[doc(hidden)]")
    w("#[macro_export]")
    w("macro_rules! __hpy_for_each_enum_constant {")
    w("    ($callback:ident) => {")
    w("        $callback! {")
    for e in enums:
        for vname, _ in e.values:
            w(f"            {vname},")
    w("        }")
    w("    };")
    w("}")
    w("")
    # --- handle accessors
    for mem in members:
        if not mem.is_handle:
            continue
        w(f"/// Reads the context's `{mem.name}` (`HPy_ID({mem.id})`): a constant handle that must")
        w("/// never be closed or returned without `HPy_Dup`.")
        w("///")
        w("/// # Safety")
        w("/// `ctx` must point to the live context of the current call.")
        w("///")
        w("/// In a CPython-ABI build, CPython's object itself (`crate::cpython::handles`).")
        w("#[inline(always)]")
        w(f"pub unsafe fn {mem.name}(ctx: *mut HPyContext) -> HPy {{")
        w('    #[cfg(hpy_abi = "cpython")]')
        w("    let _ = ctx;")
        w('    #[cfg(hpy_abi = "cpython")]')
        w(f"    return crate::cpython::handles::{mem.name}();")
        w("    // SAFETY: the caller guarantees that `ctx` points to a live context.")
        w('    #[cfg(not(hpy_abi = "cpython"))]')
        w(f"    unsafe {{ (*ctx).{mem.name} }}")
        w("}")
        w("")
    # --- function wrappers
    cpython_impls = cpython_implementations()
    unknown = MAY_RUN_WITH_ERROR - {m.c_api_name for m in members if not m.is_handle}
    if unknown:
        raise GenError(f"MAY_RUN_WITH_ERROR names no context function: {sorted(unknown)}")
    for mem in members:
        if mem.is_handle:
            continue
        ft = mem.func
        assert ft is not None
        if mem.name == "ctx_New":
            continue  # hand-written in lib.rs (it keeps the out-pointer local, like C)
        if mem.name == "ctx_FatalError":
            continue  # hand-written in lib.rs (it does not return)
        ret = ft.rust_ret()
        args = ", ".join(rust_ident(p.name) for p in ft.params)
        if mem.returns_null:
            if ret:
                raise GenError(f"{mem.name}: HPy_NULL-returning wrapper of a non-void member")
            ret = " -> HPy"
        w(f"/// `{mem.c_api_name}`: calls the context member `{mem.name}` (`HPy_ID({mem.id})`).")
        if mem.id >= FIRST_LATE_ID:
            w("///")
            w("/// Its slot moves on runtimes with PyPy 7.3.18+'s context layout; see [`crate::late_member`].")
        if mem.returns_null:
            w("///")
            w("/// Like the C API, returns `HPy_NULL` (the context member itself returns nothing).")
        w("///")
        w("/// # Safety")
        w("/// `ctx` must point to the live context of the current call, and every argument must")
        w("/// satisfy the C API's contract for this function (valid, open handles; valid")
        w("/// pointers; NUL-terminated strings).")
        implemented = mem.name in cpython_impls
        if not implemented:
            w("///")
            w("/// Not in CPython-ABI builds yet (no implementation in `crate::cpython`).")
            w('#[cfg(not(hpy_abi = "cpython"))]')
        w("#[inline(always)]")
        w(f"pub unsafe fn {mem.c_api_name}({ft.rust_params()}){ret} {{")
        if mem.c_api_name not in MAY_RUN_WITH_ERROR:
            w("    // SAFETY: the caller guarantees that `ctx` points to a live context.")
            w(f'    unsafe {{ crate::check_no_pending_error(ctx, "{mem.c_api_name}") }};')
        if mem.id >= FIRST_LATE_ID:
            member = f"crate::late_member(ctx, core::mem::offset_of!(HPyContext, {mem.name}), (*ctx).{mem.name})"
        else:
            member = f"(*ctx).{mem.name}"
        calls = [(None, f"({member}.unwrap_unchecked())({args})")]
        if implemented:
            calls = [('not(hpy_abi = "cpython")', calls[0][1]),
                     ('hpy_abi = "cpython"', f"crate::cpython::{mem.name}({args})")]
        for cfg, call in calls:
            if cfg == 'hpy_abi = "cpython"':
                w("    // SAFETY: the caller's contract is the C API's, which the CPython")
                w("    // implementation of this function relies on.")
            else:
                w("    // SAFETY: the caller guarantees that `ctx` points to a live context of an ABI")
                w("    // version this crate was generated for; such a runtime sets every member.")
            if cfg:
                w(f"    #[cfg({cfg})]")
            if mem.returns_null:
                w(f"    unsafe {{ {call} }};")
            elif cfg:
                w(f"    return unsafe {{ {call} }};")
            else:
                w(f"    unsafe {{ {call} }}")
        if mem.returns_null:
            w("    HPy::NULL")
        w("}")
        w("")
    return "\n".join(o) + "\n"


def cpython_implementations() -> set[str]:
    """The context members that `hpy-sys/src/cpython.rs` and its submodules
    (`hpy-sys/src/cpython/*.rs`) implement: their `pub unsafe extern "C" fn
    ctx_*` functions and the `ctx_* => Py*` lines of their macros. Their
    wrappers call the implementation directly in a CPython-ABI build
    (`--cfg hpy_abi="cpython"`); the others do not exist there."""
    src = ROOT / "hpy-sys" / "src"
    paths = [src / "cpython.rs", *sorted((src / "cpython").glob("*.rs"))]
    names: set[str] = set()
    for path in paths:
        if not path.exists():
            continue
        text = path.read_text()
        names |= set(re.findall(r'pub unsafe extern "C" fn (ctx_\w+)', text))
        names |= set(re.findall(r"^\s*(ctx_\w+) => \w+;", text, re.M))
    return names


def rustfmt(text: str) -> str:
    try:
        res = subprocess.run(
            ["rustfmt", "--edition", "2024", "--emit", "stdout"],
            input=text, capture_output=True, text=True, check=False,
        )
    except FileNotFoundError as e:
        raise GenError("rustfmt not found on PATH (it comes with the Rust toolchain)") from e
    if res.returncode != 0:
        raise GenError("rustfmt failed on the generated code:\n" + res.stderr)
    return res.stdout


def default_include() -> Path:
    env = os.environ.get("HPY_INCLUDE_DIR")
    if env:
        return Path(env)
    try:
        import hpy.devel  # type: ignore

        return Path(hpy.devel.__file__).parent / "include"
    except ImportError as e:
        raise GenError(
            "cannot find the hpy headers: pass --include, set HPY_INCLUDE_DIR, or run "
            "this with the project's CPython (source \"$(tools/setup-interpreters --print-env)\")"
        ) from e


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--include", type=Path, help="hpy/devel/include of hpy==0.9.0")
    ap.add_argument("--check", action="store_true", help="fail if the checked-in file is stale")
    ap.add_argument("--out", type=Path, default=OUT)
    ns = ap.parse_args()
    try:
        inc = ns.include or default_include()
        text = rustfmt(generate(inc))
    except GenError as e:
        print(f"gen_hpy_sys: error: {e}", file=sys.stderr)
        return 2
    if ns.check:
        current = ns.out.read_text() if ns.out.exists() else ""
        if current != text:
            print(f"gen_hpy_sys: {ns.out} is stale; run: python3 tools/gen_hpy_sys.py", file=sys.stderr)
            return 1
        print(f"gen_hpy_sys: {ns.out.relative_to(ROOT)} is up to date")
        return 0
    ns.out.write_text(text)
    print(f"gen_hpy_sys: wrote {ns.out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
