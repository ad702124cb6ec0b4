//! Test fixture: exercises errors, warnings, custom exception classes and globals from Python
//! (`tests/python/test_api_errors.py`), on every interpreter and mode.

use hpy::hpy_module;

/// Exercises errors, warnings, custom exception classes and globals.
#[hpy_module]
mod api_errors {
    use hpy::{Context, Error, Global, Handle, IntoPy, Result, exc, hpy_init, hpy_method};

    /// `api_errors.MyError(ValueError)`, created at import.
    static MY_ERROR: Global = Global::new();
    /// `api_errors.PlainError(Exception)`, created at import without a doc.
    static PLAIN_ERROR: hpy::Global = hpy::Global::new();
    /// Stored at import: the tuple `("stored", "at", "import")`.
    static AT_IMPORT: ::hpy::Global = ::hpy::Global::new();
    /// Stored and loaded by `stash` / `unstash`.
    static STASH: Global = Global::new();
    /// Never stored.
    static NEVER: Global = Global::new();

    #[hpy_init]
    fn init(ctx: &Context, module: &Handle<'_>) -> Result<()> {
        let my_error = ctx.new_exception(
            "api_errors.MyError",
            Some(&exc::ValueError::type_object(ctx)),
            None,
            Some("A custom error, subclass of ValueError."),
        )?;
        MY_ERROR.store(ctx, &my_error);
        module.set_attr("MyError", my_error)?;

        let plain = ctx.new_exception("api_errors.PlainError", None, None, None)?;
        PLAIN_ERROR.store(ctx, &plain);
        module.set_attr("PlainError", plain)?;

        AT_IMPORT.store(ctx, &("stored", "at", "import").into_py(ctx)?);
        Ok(())
    }

    // --- raising ---------------------------------------------------------------

    /// Raises MyError (a custom class kept in a Global) with `msg`, lazily.
    #[hpy_method]
    fn raise_my_error(msg: String) -> Result<()> {
        Err(MY_ERROR.new_err(msg))
    }

    /// Raises PlainError through `Error::from_global`.
    #[hpy_method]
    fn raise_plain_error(msg: String) -> Result<()> {
        Err(Error::from_global(&PLAIN_ERROR, msg))
    }

    /// Raises a lazy error whose Global was never stored (SystemError).
    #[hpy_method]
    fn raise_never_stored() -> Result<()> {
        Err(NEVER.new_err("boom"))
    }

    /// Raises STASH's object as an exception type (TypeError if it is not one).
    #[hpy_method]
    fn raise_stash_type(msg: String) -> Result<()> {
        Err(STASH.new_err(msg))
    }

    /// `Error::from_type(ty, msg)`: a runtime exception type.
    #[hpy_method]
    fn raise_from_type(ty: &Handle<'_>, msg: &str) -> Result<()> {
        Err(Error::from_type(ty, msg))
    }

    /// `Error::from_value(value)`: raise an instance.
    #[hpy_method]
    fn raise_from_value(value: &Handle<'_>) -> Result<()> {
        Err(Error::from_value(value))
    }

    /// `Error::set_object(ty, value)` (`HPyErr_SetObject`).
    #[hpy_method]
    fn raise_set_object(ty: &Handle<'_>, value: &Handle<'_>) -> Result<()> {
        Err(Error::set_object(ty, value))
    }

    /// `Error::no_memory` (`HPyErr_NoMemory`).
    #[hpy_method]
    fn raise_no_memory(ctx: &Context) -> Result<()> {
        Err(Error::no_memory(ctx))
    }

    /// Opens `path` with std; on failure raises OSError from errno with the file name.
    #[hpy_method]
    fn open_with_filename(ctx: &Context, path: &str) -> Result<bool> {
        match std::fs::File::open(path) {
            Ok(_) => Ok(true),
            Err(_) => Err(Error::from_errno_with_filename(
                &exc::OSError::type_object(ctx),
                path,
            )),
        }
    }

    /// Like `open_with_filename`, but raises `ty` from errno without a file name.
    #[hpy_method]
    fn open_errno(ty: &Handle<'_>, path: &str) -> Result<bool> {
        match std::fs::File::open(path) {
            Ok(_) => Ok(true),
            Err(_) => Err(Error::from_errno(ty)),
        }
    }

    /// Like `open_with_filename`, with the file name as an object.
    #[hpy_method]
    fn open_with_filename_object(ctx: &Context, path: &Handle<'_>) -> Result<bool> {
        let p: String = path.extract()?;
        match std::fs::File::open(&p) {
            Ok(_) => Ok(true),
            Err(_) => Err(Error::from_errno_with_filename_object(
                &exc::OSError::type_object(ctx),
                path,
            )),
        }
    }

    /// Renames `src` to `dst` with std; on failure raises OSError with both names.
    #[hpy_method]
    fn rename(ctx: &Context, src: &Handle<'_>, dst: Option<&Handle<'_>>) -> Result<()> {
        let s: String = src.extract()?;
        let d: String = match dst {
            Some(d) => d.extract()?,
            None => format!("{s}.renamed"),
        };
        match std::fs::rename(&s, &d) {
            Ok(()) => Ok(()),
            Err(_) => Err(Error::from_errno_with_filename_objects(
                &exc::OSError::type_object(ctx),
                src,
                dst,
            )),
        }
    }

    /// `From<std::io::Error>`: `?` on a std I/O result.
    #[hpy_method]
    fn read_file(path: &str) -> Result<String> {
        Ok(std::fs::read_to_string(path)?)
    }

    // --- the error state ---------------------------------------------------------

    /// Makes the interpreter raise AttributeError (`obj.<name>`), then reports
    /// `(occurred, matches AttributeError, matches (KeyError, AttributeError),
    /// matches KeyError, Error::matches LookupError, occurred after clear)`.
    #[hpy_method]
    fn error_state(ctx: &Context, obj: &Handle<'_>) -> Result<Vec<bool>> {
        let attr = exc::AttributeError::type_object(ctx);
        let key = exc::KeyError::type_object(ctx);
        let pair = (key.dup(), attr.dup()).into_py(ctx)?;
        let before = ctx.err_occurred();
        let Err(err) = obj.get_attr("no_such_attribute_here") else {
            return Err(exc::AssertionError::new_err("the attribute exists"));
        };
        let occurred = ctx.err_occurred();
        let result = vec![
            before,
            occurred,
            err.is_raised(),
            ctx.err_matches(&attr),
            ctx.err_matches(&pair),
            ctx.err_matches(&key),
            err.matches(ctx, &exc::Exception::type_object(ctx)),
            err.matches(ctx, &exc::LookupError::type_object(ctx)),
        ];
        ctx.err_clear();
        let mut result = result;
        result.push(ctx.err_occurred());
        Ok(result)
    }

    /// `Error::matches` on lazy errors: `[ValueError lazy vs ValueError, vs
    /// Exception, vs KeyError, vs (KeyError, ValueError); MyError lazy vs
    /// ValueError, vs MyError, vs KeyError; never-stored vs Exception]`.
    #[hpy_method]
    fn lazy_matches(ctx: &Context) -> Result<Vec<bool>> {
        let value_error = exc::ValueError::type_object(ctx);
        let key_error = exc::KeyError::type_object(ctx);
        let exception = exc::Exception::type_object(ctx);
        let pair = (key_error.dup(), value_error.dup()).into_py(ctx)?;
        let my_type = MY_ERROR.load(ctx)?;
        let lazy = exc::ValueError::new_err("x");
        let mine = MY_ERROR.new_err("y");
        let never = NEVER.new_err("z");
        let out = vec![
            lazy.matches(ctx, &value_error),
            lazy.matches(ctx, &exception),
            lazy.matches(ctx, &key_error),
            lazy.matches(ctx, &pair),
            mine.matches(ctx, &value_error),
            mine.matches(ctx, &my_type),
            mine.matches(ctx, &key_error),
            never.matches(ctx, &exception),
            ctx.err_occurred(),
        ];
        Ok(out)
    }

    /// The description of a lazy error in Rust: `(type_name, message, Display)`.
    #[hpy_method]
    fn describe_lazy(which: &str) -> (Option<&'static str>, Option<String>, String) {
        let err = match which {
            "value" => exc::ValueError::new_err("bad"),
            "context" => exc::TypeError::new_err("expected int, got str")
                .with_context("item 3")
                .with_context("key 'a'"),
            "global" => MY_ERROR.new_err("mine"),
            _ => Error::raised(),
        };
        (
            err.type_name(),
            err.message().map(str::to_owned),
            err.to_string(),
        )
    }

    /// Raises a wrong-type error with two levels of context, as argument `arg` of `f`.
    #[hpy_method]
    fn contextual_error(ctx: &Context) -> Result<()> {
        let err = Error::wrong_type("int", &"x".into_py(ctx)?)
            .with_context("item 3")
            .with_context("item 0");
        Err(err.for_argument("f", "xs"))
    }

    // --- custom exception classes -----------------------------------------------------

    /// `ctx.new_exception(name, base, dict, doc)`.
    #[hpy_method]
    fn new_exception<'py>(
        ctx: &'py Context,
        name: &str,
        base: Option<&Handle<'py>>,
        dict: Option<&Handle<'py>>,
        doc: Option<&str>,
    ) -> Result<Handle<'py>> {
        ctx.new_exception(name, base, dict, doc)
    }

    /// The raw `HPyType_IsSubtype(sub, ty)`: on PyPy 7.3.19 the member read there
    /// is `HPyType_GetName` (its context layout differs from ID 244 on), so it
    /// is "true" for any two types.
    #[hpy_method]
    fn raw_is_subtype(ctx: &Context, sub: &Handle<'_>, ty: &Handle<'_>) -> Result<bool> {
        let raw = ctx.as_raw();
        let type_type = ctx.type_type();
        // SAFETY: the context is live and the handles open; `type` is a type.
        let both_types = unsafe {
            hpy::sys::HPy_TypeCheck(raw, sub.as_raw(), type_type.as_raw()) != 0
                && hpy::sys::HPy_TypeCheck(raw, ty.as_raw(), type_type.as_raw()) != 0
        };
        if !both_types {
            return Err(exc::TypeError::new_err("types only"));
        }
        // SAFETY: the context is live and both handles are open types.
        Ok(unsafe { hpy::sys::HPyType_IsSubtype(raw, sub.as_raw(), ty.as_raw()) != 0 })
    }

    // --- globals -------------------------------------------------------------------

    /// Stores `obj` in the STASH global.
    #[hpy_method]
    fn stash(ctx: &Context, obj: &Handle<'_>) {
        STASH.store(ctx, obj);
    }

    /// Loads the STASH global (SystemError if never stored).
    #[hpy_method]
    fn unstash(ctx: &Context) -> Result<Handle<'_>> {
        STASH.load(ctx)
    }

    /// Whether STASH and NEVER are set.
    #[hpy_method]
    fn globals_set(ctx: &Context) -> (bool, bool) {
        (STASH.is_set(ctx), NEVER.is_set(ctx))
    }

    /// Loads the never-stored global: SystemError.
    #[hpy_method]
    fn load_never(ctx: &Context) -> Result<Handle<'_>> {
        NEVER.load(ctx)
    }

    /// `try_load` on the never-stored global: None.
    #[hpy_method]
    fn try_load_never(ctx: &Context) -> Option<Handle<'_>> {
        NEVER.try_load(ctx)
    }

    /// The object stored at import time.
    #[hpy_method]
    fn at_import(ctx: &Context) -> Result<Handle<'_>> {
        AT_IMPORT.load(ctx)
    }

    /// The class stored in MY_ERROR (the same object as `api_errors.MyError`).
    #[hpy_method]
    fn my_error_type(ctx: &Context) -> Result<Handle<'_>> {
        MY_ERROR.load(ctx)
    }

    /// How many globals the module definition lists (read back from it); a
    /// CPython-ABI build has no `HPyInit_api_errors` (`NotImplementedError`).
    #[hpy_method]
    fn n_listed_globals() -> Result<usize> {
        #[cfg(hpy_abi = "cpython")]
        {
            Err(exc::NotImplementedError::new_err(
                "a CPython-ABI build has no HPyInit_api_errors",
            ))
        }
        // SAFETY: `HPyInit_api_errors` returns this module's static definition;
        // its `globals` array is NULL-terminated and never changes.
        #[cfg(not(hpy_abi = "cpython"))]
        unsafe {
            let def = HPyInit_api_errors();
            let mut p = (*def).globals;
            let mut n = 0;
            while !(*p).is_null() {
                n += 1;
                p = p.add(1);
            }
            Ok(n)
        }
    }

    // --- warnings and unraisable errors --------------------------------------------------

    /// `ctx.warn(category, message, stack_level)`.
    #[hpy_method]
    fn warn(ctx: &Context, category: &Handle<'_>, message: &str, stack_level: isize) -> Result<()> {
        ctx.warn(category, message, stack_level)
    }

    /// Warns with UserWarning, then returns 42 (to see that a warning turned
    /// into an error stops the function).
    #[hpy_method]
    fn warn_then_return(ctx: &Context) -> Result<i64> {
        ctx.warn(&exc::UserWarning::type_object(ctx), "careful", 1)?;
        Ok(42)
    }

    /// Reports a lazy RuntimeError(msg) as unraisable, with `obj` as context.
    #[hpy_method]
    fn unraisable(ctx: &Context, obj: &Handle<'_>, msg: String) -> bool {
        exc::RuntimeError::new_err(msg).write_unraisable(ctx, obj);
        ctx.err_occurred()
    }

    /// Makes the interpreter raise (AttributeError) and reports it with
    /// `ctx.write_unraisable`; also calls it with nothing set (a no-op).
    #[hpy_method]
    fn unraisable_raised(ctx: &Context, obj: &Handle<'_>) -> bool {
        ctx.write_unraisable(obj); // nothing set: nothing happens
        if obj.get_attr("no_such_attribute_here").is_err() {
            ctx.write_unraisable(obj);
        }
        ctx.err_occurred()
    }

    // --- threads ---------------------------------------------------------------------

    /// Sleeps `secs` with the interpreter lock released.
    #[hpy_method]
    fn sleep_released(ctx: &Context, secs: f64) -> Result<()> {
        let d = duration(secs)?;
        ctx.allow_threads(|| std::thread::sleep(d));
        Ok(())
    }

    /// Sleeps `secs` holding the interpreter lock.
    #[hpy_method]
    fn sleep_held(secs: f64) -> Result<()> {
        std::thread::sleep(duration(secs)?);
        Ok(())
    }

    /// `secs` as a duration, as `time.sleep` takes it.
    fn duration(secs: f64) -> Result<std::time::Duration> {
        if secs < 0.0 {
            return Err(exc::ValueError::new_err(
                "sleep length must be non-negative",
            ));
        }
        std::time::Duration::try_from_secs_f64(secs)
            .map_err(|_| exc::OverflowError::new_err("sleep length is too large"))
    }

    /// Sums `xs` with the lock released (values move in and out of the closure).
    #[hpy_method]
    fn sum_released(ctx: &Context, xs: Vec<u64>) -> u64 {
        ctx.allow_threads(move || xs.iter().sum())
    }

    /// Panics inside `allow_threads`: the lock is taken back, SystemError raised.
    #[hpy_method]
    fn panic_released(ctx: &Context, msg: String) {
        ctx.allow_threads(move || panic!("{msg}"));
    }
}
