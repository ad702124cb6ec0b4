//! Object references in a struct: `Field`s, and the cycles they make.

use hpy::{Field, Handle, Result, hpy_class, hpy_methods};

/// A node of a graph: references to Python objects in `Field`s.
#[hpy_class(subclass)]
pub(crate) struct Node {
    /// The next node (or any object).
    #[hpy(get, set)]
    next: Field,
    /// A payload object.
    #[hpy(get, set)]
    value: Field,
    /// Not visible from Python.
    hidden: Field,
}

#[hpy_methods]
impl Node {
    #[new]
    fn new() -> Self {
        Node {
            next: Field::new(),
            value: Field::new(),
            hidden: Field::new(),
        }
    }

    /// Keeps `obj` in the hidden field.
    fn hide(slf: &Handle<'_>, obj: &Handle<'_>) -> Result<()> {
        slf.borrow::<Node>()?.hidden.store(slf, Some(obj))
    }

    /// What the hidden field holds.
    fn hidden<'py>(slf: &Handle<'py>) -> Result<Option<Handle<'py>>> {
        slf.borrow::<Node>()?.hidden.load(slf)
    }

    /// Clears the hidden field.
    fn unhide(slf: &Handle<'_>) -> Result<()> {
        slf.borrow::<Node>()?.hidden.store(slf, None)
    }

    /// Reads this node's field through another object as its owner.
    fn load_through<'py>(slf: &Handle<'py>, owner: &Handle<'py>) -> Result<Option<Handle<'py>>> {
        slf.borrow::<Node>()?.hidden.load(owner)
    }

    /// Writes this node's field through another object as its owner.
    fn store_through(slf: &Handle<'_>, owner: &Handle<'_>, obj: &Handle<'_>) -> Result<()> {
        slf.borrow::<Node>()?.hidden.store(owner, Some(obj))
    }

    /// How many nodes follow this one through `next` (until a non-node or
    /// a repeat).
    fn chain_length(slf: &Handle<'_>) -> Result<usize> {
        let mut n = 0;
        let mut cur = slf.dup();
        loop {
            let next = cur.borrow::<Node>()?.next.load(&cur)?;
            let Some(next) = next else { break };
            if !next.is_instance_of::<Node>()? || next.is(slf) || n > 1000 {
                break;
            }
            n += 1;
            cur = next;
        }
        Ok(n)
    }
}
