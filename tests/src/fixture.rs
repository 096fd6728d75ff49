//! The codec benchmark's `Order` value, with exactly the field values of the
//! peers' fixture (`../shared/bench/peer-volo/src/fixture.rs`), so that the
//! benchmarks measure the same message: 1,117 bytes binary, 815 compact.

use thriftgen_runtime::bytes::Bytes;

/// Builds the order from the types of one generated module (`String` or
/// zero-copy strings: both convert from `&'static str`).
macro_rules! fixture {
    ($module:path) => {
        use $module::{Address, Customer, Item, Order, Status};

        fn address(
            street: &'static str,
            city: &'static str,
            country: &'static str,
            zip: &'static str,
            lat: f64,
            lon: f64,
        ) -> Address {
            Address {
                street: street.into(),
                city: city.into(),
                country: country.into(),
                zip: Some(zip.into()),
                lat: Some(lat),
                lon: Some(lon),
            }
        }

        /// The benchmark's order.
        pub fn order() -> Order {
            let items = vec![
                Item {
                    sku: 100_200_300_401,
                    title: "Noise-cancelling headphones, black".into(),
                    quantity: 1,
                    unit_price: 299.99,
                    discount_pct: Some(10),
                    tags: Some(vec!["electronics".into(), "audio".into(), "gift".into()]),
                },
                Item {
                    sku: 100_200_300_402,
                    title: "USB-C charging cable 2m".into(),
                    quantity: 3,
                    unit_price: 12.5,
                    discount_pct: None,
                    tags: Some(vec!["accessories".into()]),
                },
                Item {
                    sku: 100_200_300_403,
                    title: "Paperback: The Pragmatic Programmer".into(),
                    quantity: 2,
                    unit_price: 39.95,
                    discount_pct: Some(5),
                    tags: None,
                },
            ];
            let attributes = [
                ("channel", "web"),
                ("campaign", "black-friday-2024"),
                ("device", "iPhone15,3"),
                ("locale", "en_US"),
                ("ab_bucket", "B-17"),
            ]
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
            let labels = ["priority", "fragile", "insured"]
                .into_iter()
                .map(Into::into)
                .collect();
            let warehouses = [
                (
                    1,
                    address(
                        "100 Logistics Way, Building C",
                        "Reno",
                        "US",
                        "89502",
                        39.5296,
                        -119.8138,
                    ),
                ),
                (
                    7,
                    address(
                        "Industriestrasse 42",
                        "Frankfurt am Main",
                        "DE",
                        "60314",
                        50.1109,
                        8.6821,
                    ),
                ),
            ]
            .into_iter()
            .collect();
            Order {
                id: 9_007_199_254_740_993,
                order_no: "ORD-2024-000123456".into(),
                status: Status::SHIPPED,
                customer: Customer {
                    id: 42_000_001,
                    name: "Alice Example-Longname".into(),
                    email: "alice.example@example.com".into(),
                    phone: Some("+1-202-555-0143".into()),
                    vip: true,
                    address: Some(address(
                        "1600 Example Avenue NW, Suite 400",
                        "Washington",
                        "US",
                        "20500",
                        38.8977,
                        -77.0365,
                    )),
                },
                items,
                attributes,
                signature: Some(Bytes::from(
                    (0u8..64)
                        .map(|i| i.wrapping_mul(37).wrapping_add(11))
                        .collect::<Vec<u8>>(),
                )),
                total: 1234.56,
                version: 7,
                gift: false,
                note: Some("Leave at the front desk; call on arrival.".into()),
                priority: Some(3),
                related_ids: Some(vec![
                    9_007_199_254_740_001,
                    9_007_199_254_740_002,
                    9_007_199_254_740_017,
                    9_007_199_254_740_101,
                    -1,
                ]),
                labels: Some(labels),
                warehouses: Some(warehouses),
                coupon: None,
                billing: None,
                created_at_ms: 1_700_000_000_123,
                updated_at_ms: Some(1_700_000_360_456),
            }
        }
    };
}

fixture!(crate::gen::codec);

/// The same order with zero-copy strings.
pub mod zero_copy {
    use super::Bytes;
    fixture!(crate::gen_zero_copy::codec);
}

/// The same order with a fast hasher (`Builder::hasher`).
pub mod fast_hash {
    use super::Bytes;
    fixture!(crate::gen_fast_hash::codec);
}

/// The same order with zero-copy strings and a fast hasher.
pub mod zero_copy_fast_hash {
    use super::Bytes;
    fixture!(crate::gen_zero_copy_fast_hash::codec);
}
