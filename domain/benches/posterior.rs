//! Posterior and summaries for G = 120 (the original's), 10,001 (named
//! models' default) and 10^6 grid points.
//! Run with `cargo bench -p domain --bench posterior`.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use domain::{Counts, Grid, ModelSummary, Posterior, Prior};
use std::hint::black_box;

fn posterior(c: &mut Criterion) {
    let counts = Counts::new(6_000, 9_000).expect("w <= n");
    let mut group = c.benchmark_group("posterior");
    for points in [120, 10_001, 1_000_000] {
        let grid = Grid::new(points).expect("valid grid");
        group.bench_with_input(BenchmarkId::new("new", points), &grid, |b, grid| {
            b.iter(|| Posterior::new(black_box(*grid), Prior::DEFAULT, black_box(counts)));
        });
        group.bench_with_input(
            BenchmarkId::new("summary_step", points),
            &grid,
            |b, grid| {
                b.iter(|| ModelSummary::new(black_box(*grid), Prior::DEFAULT, black_box(counts)));
            },
        );
        group.bench_with_input(
            BenchmarkId::new("summary_uniform", points),
            &grid,
            |b, grid| {
                b.iter(|| ModelSummary::new(black_box(*grid), Prior::Uniform, black_box(counts)));
            },
        );
    }
    group.finish();
}

fn update(c: &mut Criterion) {
    c.bench_function("counts/apply", |b| {
        let mut counts = Counts::ZERO;
        b.iter(|| {
            counts = counts
                .apply(black_box(domain::Observation::Win))
                .unwrap_or(Counts::ZERO);
        });
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = posterior, update
}
criterion_main!(benches);
