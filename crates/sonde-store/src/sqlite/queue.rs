//! What the writer thread receives: each write with its own typed reply.
//!
//! A [`Msg`] is built on the caller's thread (events arrive as rows already
//! serialized, so the single writer spends its time on SQLite alone). The
//! writer fills each op's [`Slot`] while applying the batch and sends the
//! results only after the batch has committed; if the batch fails, every op
//! gets the batch's error instead.

use sonde_protocol::ping::Dropped;
use tokio::sync::oneshot;

use crate::event_stats::EventFacts;

use crate::{
    AlertRecord, Cause, EventsStored, NewAlert, NewErrorReport, NewEvents, NewPing, NewRelease, Pending, Release,
    ReportStored, StoreError, VersionConstraint,
};

/// One queued write and where its result goes.
pub(crate) struct Slot<P, T> {
    /// What to write.
    pub(crate) op: P,
    reply: oneshot::Sender<Result<T, StoreError>>,
    result: Option<Result<T, StoreError>>,
}

impl<P, T> Slot<P, T> {
    /// Queues `op`, returning the handle its caller waits on.
    fn new(op: P) -> (Self, Pending<T>) {
        let (reply, pending) = Pending::channel();
        (
            Slot {
                op,
                reply,
                result: None,
            },
            pending,
        )
    }

    /// Records this op's result, sent once the batch has committed.
    pub(crate) fn set(&mut self, result: Result<T, StoreError>) {
        self.result = Some(result);
    }

    /// Sends the recorded result (after the commit).
    fn answer(self) {
        if let Some(result) = self.result {
            let _ = self.reply.send(result);
        }
    }

    /// Sends the batch's failure instead of the recorded result.
    fn fail(self, cause: &Cause) {
        let _ = self.reply.send(Err(StoreError::Write { source: cause.clone() }));
    }
}

/// Events of one product, ready to insert.
pub(crate) struct EventRows {
    pub(crate) product: String,
    pub(crate) source: &'static str,
    pub(crate) rows: Vec<EventRow>,
    pub(crate) dropped: Vec<Dropped>,
}

/// Route templates of one product to register.
pub(crate) struct Routes {
    pub(crate) product: String,
    pub(crate) templates: Vec<String>,
    pub(crate) now_ms: i64,
}

/// Vocabulary words of one product to register: `(kind, word)` pairs.
pub(crate) struct Words {
    pub(crate) product: String,
    pub(crate) words: Vec<(String, String)>,
    pub(crate) now_ms: i64,
}

/// One write as the writer thread receives it.
pub(crate) enum Msg {
    Ping(Slot<NewPing, ()>),
    Events(Slot<EventRows, EventsStored>),
    Release(Slot<(NewRelease, i64), Release>),
    AddAlert(Slot<NewAlert, AlertRecord>),
    RemoveAlert(Slot<i64, bool>),
    Versions(Slot<VersionConstraint, ()>),
    Routes(Slot<Routes, usize>),
    ErrorReport(Slot<ReportRow, ReportStored>),
    Words(Slot<Words, usize>),
}

/// Builds a [`Msg`] variant and its handle.
pub(crate) fn queue<P, T>(op: P, wrap: impl FnOnce(Slot<P, T>) -> Msg) -> (Msg, Pending<T>) {
    let (slot, pending) = Slot::new(op);
    (wrap(slot), pending)
}

impl Msg {
    /// Sends this op's result (its batch committed).
    pub(crate) fn answer(self) {
        match self {
            Msg::Ping(s) => s.answer(),
            Msg::Events(s) => s.answer(),
            Msg::Release(s) => s.answer(),
            Msg::AddAlert(s) => s.answer(),
            Msg::RemoveAlert(s) => s.answer(),
            Msg::Versions(s) => s.answer(),
            Msg::Routes(s) => s.answer(),
            Msg::ErrorReport(s) => s.answer(),
            Msg::Words(s) => s.answer(),
        }
    }

    /// Sends the batch's failure (nothing of it was written).
    pub(crate) fn fail(self, cause: &Cause) {
        match self {
            Msg::Ping(s) => s.fail(cause),
            Msg::Events(s) => s.fail(cause),
            Msg::Release(s) => s.fail(cause),
            Msg::AddAlert(s) => s.fail(cause),
            Msg::RemoveAlert(s) => s.fail(cause),
            Msg::Versions(s) => s.fail(cause),
            Msg::Routes(s) => s.fail(cause),
            Msg::ErrorReport(s) => s.fail(cause),
            Msg::Words(s) => s.fail(cause),
        }
    }
}

impl EventRows {
    /// Serializes `events` on the caller's thread.
    pub(crate) fn new(events: NewEvents) -> Self {
        EventRows {
            product: events.product.as_str().to_owned(),
            source: events.source,
            rows: events
                .events
                .into_iter()
                .map(|e| EventRow {
                    facts: EventFacts::of(e.kind.as_str(), e.test, |n| e.fields.get(n)),
                    total: crate::rollup::rollup_key_of(e.kind.as_str(), |n| e.fields.get(n)),
                    fields: serde_json::to_string(&e.fields).unwrap_or_else(|_| "{}".into()),
                    id: EventId::new(e.id),
                    kind: e.kind.as_str(),
                    test: e.test,
                    occurred_at_ms: e.occurred_at_ms,
                    received_at_ms: e.received_at_ms,
                })
                .collect(),
            dropped: events.dropped,
        }
    }
}

/// One event, its fields serialized to JSON.
pub(crate) struct EventRow {
    pub(crate) id: EventId,
    pub(crate) kind: &'static str,
    pub(crate) test: bool,
    pub(crate) occurred_at_ms: Option<i64>,
    pub(crate) received_at_ms: i64,
    pub(crate) fields: String,
    /// What it adds to the command, console and heartbeat roll-ups, if
    /// anything.
    pub(crate) facts: Option<EventFacts>,
    /// The key and error flag it is counted under in `event_rollups`
    /// ([`crate::rollup::rollup_key_of`]).
    pub(crate) total: (String, bool),
}

/// An event id as stored: the 16 bytes of a UUID (every front door
/// validates ids as UUIDs), or the text as given if it is not one.
pub(crate) enum EventId {
    Uuid([u8; 16]),
    Text(String),
}

impl EventId {
    fn new(id: String) -> Self {
        match sonde_protocol::uuid::parse(&id) {
            Some(bytes) => EventId::Uuid(bytes),
            None => EventId::Text(id),
        }
    }
}

impl rusqlite::ToSql for EventId {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        match self {
            EventId::Uuid(bytes) => bytes.to_sql(),
            EventId::Text(text) => text.to_sql(),
        }
    }
}

/// An error report, its JSON serialized on the caller's thread.
pub(crate) struct ReportRow {
    pub(crate) product: String,
    pub(crate) id: EventId,
    pub(crate) report_id: String,
    pub(crate) group: String,
    pub(crate) version: Option<String>,
    pub(crate) os: Option<String>,
    pub(crate) signature: Option<String>,
    pub(crate) received_at_ms: i64,
    pub(crate) json: String,
    pub(crate) dropped: Vec<Dropped>,
}

impl ReportRow {
    /// Serializes `new` on the caller's thread.
    pub(crate) fn new(new: NewErrorReport) -> Self {
        let r = &new.report;
        ReportRow {
            product: new.product.as_str().to_owned(),
            id: EventId::new(r.report_id.clone()),
            report_id: r.report_id.clone(),
            group: new.group.clone(),
            version: r.version.clone(),
            os: r.os.clone(),
            signature: r.signature.clone(),
            received_at_ms: new.received_at_ms,
            json: serde_json::to_string(r).unwrap_or_else(|_| "{}".into()),
            dropped: new.dropped,
        }
    }
}
