//! What the demo's programs share: the code `build.rs` generated from
//! `idl/demo/store.thrift`, and the handler they serve.

pub mod gen {
    include!(concat!(env!("OUT_DIR"), "/thriftgen/mod.rs"));
}

use gen::store::{Health, NotFound, Store, StoreGetError};
use std::collections::HashMap;
use std::sync::RwLock;
use thriftgen_runtime::protocol::ApplicationException;
use thriftgen_runtime::service::CallContext;

/// The handler: a map behind a lock (the fleet's instances share one, as
/// they would a database).
#[derive(Debug, Default)]
pub struct MemoryStore {
    entries: RwLock<HashMap<String, String>>,
}

impl Health for MemoryStore {
    fn ping(&self, _ctx: &CallContext) -> Result<String, ApplicationException> {
        Ok("pong".to_string())
    }
}

impl Store for MemoryStore {
    fn get(&self, _ctx: &CallContext, key: String) -> Result<String, StoreGetError> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        match entries.get(&key) {
            Some(value) => Ok(value.clone()),
            None => Err(NotFound { key: Some(key) }.into()),
        }
    }

    fn put(
        &self,
        _ctx: &CallContext,
        key: String,
        value: String,
    ) -> Result<String, ApplicationException> {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        Ok(entries.insert(key, value).unwrap_or_default())
    }

    fn size(&self, _ctx: &CallContext) -> Result<i64, ApplicationException> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        Ok(entries.len() as i64)
    }
}
