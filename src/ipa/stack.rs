//! Running the readers of untrusted input on a thread whose stack size we chose.
//!
//! Every parser caps its nesting (`plist_guard::MAX_DEPTH`, `profile::der`, the Mach-O CMS
//! walker), so no input we accept needs a deep stack. This is the second line: the main thread's
//! stack is whatever the platform gives it (8 MiB on Linux, 512 KiB for secondary threads on
//! macOS) and a stack overflow is an abort, not an error; on a known, generous stack a recursion
//! that slipped past a cap still has room to finish and be reported. The memory is only reserved:
//! pages are touched as the stack grows.

/// Stack for inspection and validation: 64 levels of the deepest recursion we know of
/// (serde over a `plist::Value`, about 1 KiB a level) fit in well under 1 MiB, so this is
/// hundreds of times what a capped input can use.
pub const LARGE_STACK: usize = 256 << 20;

/// Runs `f` on a scoped thread with a [`LARGE_STACK`] stack and returns its result. A panic in
/// `f` resumes on the caller. When no thread can be started, `f` runs on the caller's thread.
pub fn on_large_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    let mut f = Some(f);
    let spawned = std::thread::scope(|scope| {
        let job = std::thread::Builder::new()
            .name("inspect".into())
            .stack_size(LARGE_STACK)
            .spawn_scoped(scope, || f.take().map(|f| f()));
        match job {
            Ok(handle) => Some(handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))),
            Err(_) => None,
        }
    });
    match (spawned.flatten(), f) {
        (Some(out), _) => out,
        (None, Some(f)) => f(),
        // The thread took `f` and returned nothing: it cannot, as `take` ran before `map`.
        (None, None) => unreachable_result(),
    }
}

#[cold]
fn unreachable_result<T>() -> T {
    panic!("on_large_stack: the job ran without a result")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Recurses `n` levels with a 4 KiB frame that the optimiser cannot drop.
    fn deep(n: usize) -> usize {
        let frame = std::hint::black_box([(n % 251) as u8; 4096]);
        if n == 0 {
            return 0;
        }
        // Used after the call, so the frame stays live across it.
        let below = deep(n - 1);
        below + usize::from(std::hint::black_box(frame)[4095] == 255)
    }

    #[test]
    fn a_recursion_that_would_overflow_a_default_stack_finishes() {
        // 16 MiB of frames: twice Linux's main-thread stack, eight times a spawned thread's 2 MiB.
        assert_eq!(on_large_stack(|| deep(4096)), 0);
    }

    #[test]
    fn results_and_borrows_pass_through() {
        let data = String::from("borrowed");
        assert_eq!(on_large_stack(|| data.len()), 8);
    }
}
