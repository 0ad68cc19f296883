wit_bindgen::generate!({ world: "counter", path: "../wit" });

use std::cell::Cell;

use exports::acme::checks::tally::Guest;

thread_local! {
    static TOTAL: Cell<i32> = const { Cell::new(0) };
}

struct Component;

impl Guest for Component {
    fn push(n: i32) {
        TOTAL.with(|total| total.set(total.get() + n));
    }

    fn sum() -> i32 {
        TOTAL.with(Cell::get)
    }

    fn divide(a: i32, b: i32) -> Result<i32, String> {
        if b == 0 { Err("division by zero".to_owned()) } else { Ok(a / b) }
    }

    fn boom(reason: String) {
        panic!("boom: {reason}");
    }

    fn spin() {
        #[allow(clippy::empty_loop)]
        loop {}
    }

    fn hoard(mib: u32) -> u32 {
        let bytes = vec![1u8; mib as usize * 1024 * 1024];
        bytes.iter().map(|b| u32::from(*b)).sum::<u32>() / (1024 * 1024)
    }
}

export!(Component);
