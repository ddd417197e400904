//! Evaluating a compiled condition allocates nothing: counted by a global allocator.
//! (A test binary of its own, so the counting allocator touches no other test.)

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use helpdesk_rules::condition::{compile, Values, Variable};
use helpdesk_rules::defaults::LEVELS;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    let _ = ALLOCATIONS.try_with(|count| count.set(count.get() + 1));
}

// SAFETY: every call is passed on to `System` unchanged; counting touches a const
// thread-local `Cell`, which neither allocates nor has a destructor.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn evaluation_does_not_allocate() {
    let mut sources: Vec<String> = LEVELS
        .iter()
        .map(|level| level.condition.to_owned())
        .collect();
    // One condition for each size of the evaluator's stack: 8, 32 and the largest.
    let mut nested = "$answers / $worktime > 1 || 1 && 1 == 1 + 1 * 1".to_owned();
    for depth in 1..=64 {
        nested = format!("1 || 1 && 1 == 1 + $calls * ({nested})");
        if depth == 4 || depth == 64 {
            sources.push(nested.clone());
        }
    }
    let conditions: Vec<_> = sources
        .iter()
        .map(|source| compile(source).unwrap())
        .collect();
    let depths: Vec<usize> = conditions
        .iter()
        .map(|condition| condition.stack_depth())
        .collect();
    assert!(depths.contains(&26) && depths.contains(&326), "{depths:?}");

    let mut values = Values::new();
    let mut held = 0;
    let before = allocations();
    for step in 0..2000 {
        values[Variable::Answers] = f64::from(step * 7);
        values[Variable::Chats] = f64::from(step * 3);
        values[Variable::Worktime] = f64::from(step % 5);
        for condition in &conditions {
            held += usize::from(condition.holds(&values));
            let _ = condition.eval(&values);
        }
    }
    let after = allocations();
    assert_eq!(after - before, 0, "evaluation allocated");
    assert!(held > 0);

    // The counter does count.
    let boxed = Box::new(held);
    assert!(allocations() > after);
    drop(boxed);
}
