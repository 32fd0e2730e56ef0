//! What the collector acknowledged, exactly, and what was sent without an
//! answer: the record the checker compares with the store.
//!
//! Items with an id (native events, Hasura CLI executions, console frames,
//! error reports) are kept by id. Pings and heartbeats have no id on the
//! wire, so they are counted per signature and per `instance_uid`: stored
//! must be at least the acknowledged count and at most that plus the
//! unanswered ones.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::population::compact;
use super::wire::Item;

/// Ids of one kind: acknowledged, and sent without an answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ids {
    /// Acknowledged (a 2xx answer, or a WebSocket closed cleanly after them).
    pub acked: BTreeSet<String>,
    /// Sent, no answer (the collector may have stored them).
    pub unanswered: BTreeSet<String>,
}

/// Counts of one key (a signature, an instance).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Count {
    /// Acknowledged.
    pub acked: u64,
    /// Sent, no answer.
    pub unanswered: u64,
}

/// Everything one run learned (see the module documentation).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ledger {
    /// The product of checks, native events and error reports.
    pub product: String,
    /// Pings by signature.
    pub pings: BTreeMap<String, Count>,
    /// Native event ids (32 hex digits).
    pub events: Ids,
    /// Hasura CLI execution ids.
    pub cli_executions: Ids,
    /// Hasura heartbeats by `instance_uid`.
    pub heartbeats: BTreeMap<String, Count>,
    /// Console frame ids (their `cli_uuid`).
    pub console_frames: Ids,
    /// Error report ids (32 hex digits).
    pub reports: Ids,
}

impl Ledger {
    /// An empty ledger for `product`.
    pub fn new(product: &str) -> Self {
        Ledger {
            product: product.to_owned(),
            ..Ledger::default()
        }
    }

    /// Records `item` as acknowledged (`true`) or unanswered (`false`).
    pub fn record(&mut self, item: &Item, acked: bool) {
        let ids = |set: &mut Ids, id: String| {
            if acked {
                set.unanswered.remove(&id);
                set.acked.insert(id);
            } else if !set.acked.contains(&id) {
                set.unanswered.insert(id);
            }
        };
        let count = |map: &mut BTreeMap<String, Count>, key: &str| {
            let c = map.entry(key.to_owned()).or_default();
            if acked {
                c.acked += 1;
            } else {
                c.unanswered += 1;
            }
        };
        match item {
            Item::Ping(sig) => count(&mut self.pings, sig),
            Item::Heartbeat(instance) => count(&mut self.heartbeats, instance),
            Item::Event(id) => ids(&mut self.events, compact(id)),
            Item::CliExecution(id) => ids(&mut self.cli_executions, compact(id)),
            Item::ConsoleFrame(id) => ids(&mut self.console_frames, compact(id)),
            Item::Report(id) => ids(&mut self.reports, compact(id)),
        }
    }

    /// Adds `other`'s records to this one.
    pub fn merge(&mut self, other: Ledger) {
        for (mine, theirs) in [
            (&mut self.events, other.events),
            (&mut self.cli_executions, other.cli_executions),
            (&mut self.console_frames, other.console_frames),
            (&mut self.reports, other.reports),
        ] {
            mine.acked.extend(theirs.acked);
            mine.unanswered.extend(theirs.unanswered);
            let acked = &mine.acked;
            mine.unanswered.retain(|id| !acked.contains(id));
        }
        for (mine, theirs) in [(&mut self.pings, other.pings), (&mut self.heartbeats, other.heartbeats)] {
            for (k, c) in theirs {
                let e = mine.entry(k).or_default();
                e.acked += c.acked;
                e.unanswered += c.unanswered;
            }
        }
    }

    /// Acknowledged items of every kind.
    pub fn acked(&self) -> u64 {
        let ids = [&self.events, &self.cli_executions, &self.console_frames, &self.reports]
            .iter()
            .map(|s| s.acked.len() as u64)
            .sum::<u64>();
        let counts = self
            .pings
            .values()
            .chain(self.heartbeats.values())
            .map(|c| c.acked)
            .sum::<u64>();
        ids + counts
    }

    /// Writes the ledger as JSON.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let file = std::io::BufWriter::new(std::fs::File::create(path)?);
        serde_json::to_writer(file, self).map_err(std::io::Error::other)
    }

    /// Reads a ledger [`Ledger::save`] wrote.
    pub fn load(path: &Path) -> std::io::Result<Ledger> {
        let file = std::io::BufReader::new(std::fs::File::open(path)?);
        serde_json::from_reader(file).map_err(std::io::Error::other)
    }
}
