// Wrong: keeping a borrow guard (`Ref`) of an instance beyond the handle it
// came from: the borrow flag would stay set, the object might die.
use hpy::{Handle, Ref, hpy_class};

#[hpy::hpy_module]
mod m {}

#[hpy_class]
struct Point {
    x: f64,
}

fn first(ctx: &hpy::Context) -> hpy::Result<Ref<'static, Point>> {
    let obj = ctx.new_instance(Point { x: 1.0 })?;
    let r: Ref<'static, Point> = obj.borrow::<Point>()?;
    Ok(r)
}

fn keep_past_close(obj: Handle<'_>) -> f64 {
    let r = obj.borrow::<Point>().unwrap();
    drop(obj);
    r.x
}

fn main() {
    let _ = (first, keep_past_close);
}
