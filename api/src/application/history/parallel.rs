//! Work spread over the cores: each point in time is independent.

/// `f` of every item, in order, on every core (each point's posterior is
/// independent of the others').
/// Items come in chunks of at least `least` (a thread's start is worth it).
pub(super) fn in_parallel<T: Sync, U: Send, E: Send>(
    items: &[T],
    least: usize,
    f: impl Fn(&T) -> Result<U, E> + Sync,
) -> Result<Vec<U>, E> {
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let chunk = items.len().div_ceil(threads).max(least);
    if items.len() <= chunk {
        return items.iter().map(&f).collect();
    }
    std::thread::scope(|scope| {
        let parts: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(|| part.iter().map(&f).collect::<Result<Vec<U>, E>>()))
            .collect();
        let mut out = Vec::with_capacity(items.len());
        for part in parts {
            match part.join() {
                Ok(done) => out.extend(done?),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        Ok(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_in_parallel_keeps_its_order_and_its_first_error() {
        let items: Vec<u64> = (0..10_000).collect();
        let doubled = in_parallel(&items, 16, |x| Ok::<_, String>(x * 2)).unwrap();
        assert_eq!(doubled, items.iter().map(|x| x * 2).collect::<Vec<_>>());
        let failed = in_parallel(&items, 16, |x| {
            if *x == 7_777 {
                Err(format!("no {x}"))
            } else {
                Ok(*x)
            }
        });
        assert_eq!(failed, Err("no 7777".to_owned()));
        assert_eq!(
            in_parallel(&[] as &[u64], 16, |x| Ok::<_, ()>(*x)),
            Ok(vec![])
        );
    }
}
