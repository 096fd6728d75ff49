//! `cargo bench -p thriftgen --bench frontend`: the whole front end (parse,
//! check, IR) over generated IDL of 750 to 6,000 lines. Time per line should
//! stay flat as the size grows.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

#[path = "large_idl.rs"]
mod large_idl;

fn frontend(c: &mut Criterion) {
    let mut group = c.benchmark_group("check");
    for lines in [750, 1500, 3000, 6000] {
        let text = large_idl::generate(lines);
        group.throughput(Throughput::Elements(text.lines().count() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(lines), &text, |b, text| {
            b.iter(|| {
                let analysis = thriftgen::analyze_source("large.thrift", text, &[] as &[&str]);
                assert!(!analysis.has_errors());
                analysis
            })
        });
    }
    group.finish();
}

criterion_group!(benches, frontend);
criterion_main!(benches);
