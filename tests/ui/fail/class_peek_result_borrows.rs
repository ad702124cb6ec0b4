// Wrong: a method whose signature shows no borrow (`-> String`) but whose
// result borrows from `self` anyway, through a type that shadows `String`
// and hides its lifetime. A method that no Python code can interrupt only
// checks the borrow flag, so its result must borrow nothing: the expansion
// refuses this one at compile time, instead of converting it while the
// struct is unguarded.
use hpy::{Context, Handle, IntoPy, hpy_class, hpy_methods};

#[hpy::hpy_module]
mod m {}

struct String<'a>(&'a str);

impl<'ctx> IntoPy<'ctx> for String<'_> {
    fn into_py(self, ctx: &'ctx Context) -> hpy::Result<Handle<'ctx>> {
        self.0.into_py(ctx)
    }
}

#[hpy_class]
struct Named {
    name: std::string::String,
}

#[hpy_methods]
impl Named {
    #[allow(elided_lifetimes_in_paths)]
    fn name(&self) -> String {
        String(&self.name)
    }
}

fn main() {}
