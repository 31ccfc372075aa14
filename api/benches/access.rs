//! The cost of checking a bearer token on every request: the digest of the
//! presented token and a constant-time comparison with each known one.

use api::application::{Scope, Tokens};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn tokens(count: usize) -> Tokens {
    let entries: Vec<String> = (0..count)
        .map(|i| format!("write=token-{i:04}-0123456789abcdef"))
        .collect();
    Tokens::parse(&entries.join(",")).expect("valid tokens")
}

fn check(c: &mut Criterion) {
    for count in [3, 100] {
        let tokens = tokens(count);
        let presented = format!("token-{:04}-0123456789abcdef", count - 1);
        c.bench_function(&format!("check a token among {count}"), |b| {
            b.iter(|| tokens.check(Some(black_box(presented.as_bytes())), Scope::Write));
        });
    }
}

criterion_group!(benches, check);
criterion_main!(benches);
