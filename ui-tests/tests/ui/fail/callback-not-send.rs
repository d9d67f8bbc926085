// `fit` runs its loop, hooks included, on rayon's pool, so a callback must be `Send`: one
// that shares its record through `Rc<RefCell<..>>` is refused where it implements the trait.
use std::cell::RefCell;
use std::rc::Rc;

use kerust::prelude::*;

struct Losses(Rc<RefCell<Vec<f64>>>);

impl Callback for Losses {
    fn on_epoch_end(&mut self, _epoch: usize, logs: &Logs, _ctx: &mut Context<'_>) -> Control {
        self.0.borrow_mut().push(logs.loss());
        Control::Continue
    }
}

fn main() {}
