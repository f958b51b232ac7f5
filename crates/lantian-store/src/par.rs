//! Splitting independent work over the cores.

use std::ops::Range;

/// `f` over `0..n` split into one contiguous range per core (at most 8),
/// run in scoped threads; the results concatenated in range order, so the
/// output is what one `f(0..n)` would give. A panic in `f` is re-raised.
pub fn map_ranges<R: Send>(n: usize, f: impl Fn(Range<usize>) -> Vec<R> + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |t| t.get()).clamp(1, 8).min(n.max(1));
    if threads == 1 {
        return f(0..n);
    }
    let per = n.div_ceil(threads);
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..n).step_by(per).map(|lo| scope.spawn(move || f(lo..(lo + per).min(n)))).collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn ranges_cover_everything_in_order() {
        for n in [0, 1, 2, 7, 100, 1001] {
            let out = super::map_ranges(n, |r| r.collect());
            assert_eq!(out, (0..n).collect::<Vec<_>>(), "n = {n}");
        }
    }
}
