//! gantry-alloc: the global allocator of the `gantry` binary. The short commands (`lint`, `run`) allocate millions of small nodes
//! and free them at exit: mimalloc makes `gantry lint` on GitLab's own configuration 1.6x
//! faster than the system allocator. The long-running server (`server`, `up`) gives memory
//! back to the OS with the system allocator where mimalloc keeps it resident (idle RSS about
//! 13 MB instead of 23 MB, about 29 MB instead of 45-71 MB after a 300-job pipeline; see
//! BENCHMARKS.md). [`use_system`] switches once, early in `main`; each block is freed and
//! resized by the allocator that made it. [`release_free_memory`] hands what the system
//! allocator keeps back to the OS.

use mimalloc::MiMalloc;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once, never cleared: new blocks come from the system allocator.
static SYSTEM: AtomicBool = AtomicBool::new(false);

/// From now on, allocate with the system allocator (call it once, early).
pub fn use_system() {
    SYSTEM.store(true, Ordering::SeqCst);
}

/// Gives the memory freed since the last call back to the OS, when the system allocator is in
/// use: glibc keeps freed blocks in its arenas (a server that ran a 1,500-job pipeline stayed
/// at 76 MB without this). Cheap enough to call every few seconds.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if SYSTEM.load(Ordering::SeqCst) {
        // SAFETY: `malloc_trim` only walks glibc's own arenas under their locks; it may be
        // called at any time from any thread.
        unsafe {
            libc::malloc_trim(0);
        }
    }
}

/// mimalloc, or the system allocator once [`use_system`] was called.
pub struct Chosen;

impl Chosen {
    /// Whether `ptr` came from mimalloc. While the switch was never made every block did, so
    /// the short commands pay nothing for the check.
    fn from_mimalloc(ptr: *mut u8) -> bool {
        // SAFETY: the lookup only reads mimalloc's own region map; any pointer may be asked.
        !SYSTEM.load(Ordering::SeqCst) || unsafe { libmimalloc_sys::mi_is_in_heap_region(ptr.cast()) }
    }
}

// SAFETY: every call goes to one of two sound allocators, and a block is always handed back
// to the one that allocated it (`from_mimalloc`), so each sees only its own blocks.
unsafe impl GlobalAlloc for Chosen {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc` is passed on unchanged.
        unsafe {
            if SYSTEM.load(Ordering::SeqCst) {
                System.alloc(layout)
            } else {
                MiMalloc.alloc(layout)
            }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        unsafe {
            if SYSTEM.load(Ordering::SeqCst) {
                System.alloc_zeroed(layout)
            } else {
                MiMalloc.alloc_zeroed(layout)
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` goes back to the allocator that made it.
        unsafe {
            if Self::from_mimalloc(ptr) {
                MiMalloc.dealloc(ptr, layout)
            } else {
                System.dealloc(ptr, layout)
            }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the block is resized by the allocator that made it.
        unsafe {
            if Self::from_mimalloc(ptr) {
                MiMalloc.realloc(ptr, layout, new_size)
            } else {
                System.realloc(ptr, layout, new_size)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_from_either_allocator_are_freed_and_resized_by_their_own() {
        let layout = Layout::from_size_align(64, 16).expect("layout");
        let chosen = Chosen;
        // SAFETY: plain allocate / write / resize / free sequences with valid layouts.
        unsafe {
            let mine = MiMalloc.alloc(layout);
            let theirs = System.alloc(layout);
            assert!(libmimalloc_sys::mi_is_in_heap_region(mine.cast()));
            assert!(!libmimalloc_sys::mi_is_in_heap_region(theirs.cast()));
            SYSTEM.store(true, Ordering::SeqCst);
            assert!(Chosen::from_mimalloc(mine));
            assert!(!Chosen::from_mimalloc(theirs));
            theirs.write_bytes(7, 64);
            let grown = chosen.realloc(theirs, layout, 4096);
            assert_eq!(*grown.add(63), 7, "the contents survive the resize");
            assert!(
                !Chosen::from_mimalloc(grown),
                "a system block stays a system block"
            );
            chosen.dealloc(grown, Layout::from_size_align(4096, 16).expect("layout"));
            chosen.dealloc(mine, layout);
        }
    }
}
