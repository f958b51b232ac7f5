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

/// `map_ranges` into buffers kept by the caller: `f` fills one buffer per
/// range (cleared first), the results left in `bufs` in range order. A
/// caller that goes month by month reuses the buffers' memory (fresh result
/// vectors, and one more to concatenate them, were a page fault per 4 KB).
pub fn fill_ranges<R: Send>(n: usize, bufs: &mut Vec<Vec<R>>, f: impl Fn(Range<usize>, &mut Vec<R>) + Sync) {
    let threads = std::thread::available_parallelism().map_or(1, |t| t.get()).clamp(1, 8).min(n.max(1));
    let per = n.div_ceil(threads).max(1);
    let ranges: Vec<Range<usize>> = (0..n).step_by(per).map(|lo| lo..(lo + per).min(n)).collect();
    if bufs.len() < ranges.len() {
        bufs.resize_with(ranges.len(), Vec::new);
    }
    for b in bufs.iter_mut() {
        b.clear();
    }
    if ranges.len() <= 1 {
        if let (Some(r), Some(b)) = (ranges.into_iter().next(), bufs.first_mut()) {
            f(r, b);
        }
        return;
    }
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> =
            ranges.into_iter().zip(bufs.iter_mut()).map(|(r, b)| scope.spawn(move || f(r, b))).collect();
        for h in handles {
            h.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
        }
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn ranges_cover_everything_in_order() {
        for n in [0, 1, 2, 7, 100, 1001] {
            let out = super::map_ranges(n, |r| r.collect());
            assert_eq!(out, (0..n).collect::<Vec<_>>(), "n = {n}");
        }
        // Buffers reused from a longer call are cleared.
        let mut bufs = Vec::new();
        for n in [1001, 7, 0, 100] {
            super::fill_ranges(n, &mut bufs, |r, b| b.extend(r));
            assert_eq!(bufs.concat(), (0..n).collect::<Vec<_>>(), "n = {n}");
        }
    }
}
