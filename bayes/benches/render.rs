//! One render: posterior and plot data, drawing, PNG encoding.
//! Run with `cargo bench -p bayes --bench render`.

use bayes::application::plot::PlotData;
use bayes::infrastructure::plot::render_png;
use criterion::{Criterion, criterion_group, criterion_main};
use domain::{Counts, ModelDefinition};
use std::hint::black_box;

fn render(c: &mut Criterion) {
    let definition = ModelDefinition::default();
    let small = Counts::new(6, 9).expect("w <= n");
    let large = Counts::new(7_000_000, 10_000_000).expect("w <= n");
    c.bench_function("render/plot_data_n9", |b| {
        b.iter(|| PlotData::new(definition, black_box(small)))
    });
    c.bench_function("render/png_n9", |b| {
        b.iter(|| PlotData::new(definition, black_box(small)).map(|p| render_png(&p)))
    });
    c.bench_function("render/png_n1e7_with_close_up", |b| {
        b.iter(|| PlotData::new(definition, black_box(large)).map(|p| render_png(&p)))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = render
}
criterion_main!(benches);
