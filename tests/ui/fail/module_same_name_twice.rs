// Wrong: two modules with the same name in one crate (their exported symbols collide).
use hpy::hpy_module;

#[hpy_module]
mod pof {}

mod other {
    use hpy::hpy_module;

    #[hpy_module(name = "pof")]
    mod pof_again {}
}

fn main() {}
