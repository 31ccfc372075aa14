//! Decisions between models: a whole comparison (posteriors included) of 10
//! models on 1,000-point grids and of 2 models on the default 120 points,
//! the parts of the first, and comparisons on the named models' default
//! grid (uniform, 10,001 points). Run with
//! `cargo bench -p domain --bench decisions`.

use criterion::{Criterion, criterion_group, criterion_main};
use domain::{
    Counts, DEFAULT_THRESHOLD, DefaultDefinitions, Grid, LiftDistribution, ModelDefinition,
    Posterior, Prior, Thompson, compare, decide_only, rank,
};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::hint::black_box;

/// `count` models at about 10% conversion out of 2,000 trials, alternating
/// uniform (so the closed form is computed too) and the default step prior.
fn models(count: usize, points: usize) -> Vec<(String, ModelDefinition, Counts)> {
    let grid = Grid::new(points).expect("valid grid");
    (0..count)
        .map(|k| {
            let prior = if k % 2 == 0 {
                Prior::Uniform
            } else {
                Prior::DEFAULT
            };
            let counts = Counts::new(200 + 3 * k as u64, 2_000).expect("w <= n");
            (format!("m{k}"), ModelDefinition { prior, grid }, counts)
        })
        .collect()
}

fn posteriors(models: &[(String, ModelDefinition, Counts)]) -> Vec<Posterior> {
    models
        .iter()
        .map(|(_, d, c)| Posterior::new(d.grid, d.prior, *c).expect("has mass"))
        .collect()
}

fn comparison(c: &mut Criterion) {
    let mut group = c.benchmark_group("compare");
    for (count, points) in [(10, 1_000), (2, 120)] {
        let models = models(count, points);
        group.bench_function(format!("{count}_models_{points}_points"), |b| {
            b.iter(|| compare(black_box(&models), DEFAULT_THRESHOLD));
        });
    }
    group.finish();
}

/// `count` models at 2% to 3% out of 5,000 trials on the named default.
fn small_rates(count: usize) -> Vec<(String, ModelDefinition, Counts)> {
    let definition = DefaultDefinitions::default().named;
    (0..count)
        .map(|k| {
            let counts = Counts::new(100 + 50 * k as u64 / count.max(1) as u64, 5_000);
            (format!("m{k}"), definition, counts.expect("w <= n"))
        })
        .collect()
}

fn named_default(c: &mut Criterion) {
    let mut group = c.benchmark_group("compare_named_default");
    for count in [2, 10] {
        let models = small_rates(count);
        group.bench_function(format!("{count}_models_10001_points"), |b| {
            b.iter(|| compare(black_box(&models), DEFAULT_THRESHOLD));
        });
    }
    // What bayes's referee evaluates for an experiment: the decision alone.
    let models = small_rates(3);
    group.bench_function("decide_only_3_models_10001_points", |b| {
        b.iter(|| decide_only(black_box(&models), DEFAULT_THRESHOLD));
    });
    group.finish();
}

fn parts(c: &mut Criterion) {
    let posteriors = posteriors(&models(10, 1_000));
    let mut group = c.benchmark_group("parts_10_models_1000_points");
    group.bench_function("rank", |b| b.iter(|| rank(black_box(&posteriors))));
    group.bench_function("lift_interval", |b| {
        b.iter(|| LiftDistribution::new(&posteriors[0], black_box(&posteriors[9])).interval(0.89));
    });
    let thompson = Thompson::new(&posteriors, 0.0).expect("valid floor");
    let mut rng = StdRng::seed_from_u64(1);
    group.bench_function("thompson_choose", |b| b.iter(|| thompson.choose(&mut rng)));
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = comparison, parts, named_default
}
criterion_main!(benches);
