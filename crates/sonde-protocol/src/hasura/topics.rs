//! Hasura's topics: every name its clients put in `topic`, the event kind
//! each is stored as, and which client generation sends it.

use crate::event::EventKind;

/// The client (and generation) behind a topic: it decides how `data` is
/// read before validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    /// The server, v1.x (`server`): `{db_uid, instance_uid, version, ci, metrics}`.
    ServerV1,
    /// The server, v2 (`server_metrics_v2`): one envelope per database source.
    ServerV2,
    /// The CLI, flat `{..., topic}` or wrapped `{topic, data}`.
    Cli,
    /// The console before v2 (`console`): `data` holds an error payload.
    ConsoleV1,
    /// The console v2 (`console-v2`): `event_data` is free form.
    ConsoleV2,
}

/// One Hasura topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Topic {
    /// The topic name on the wire.
    pub name: &'static str,
    /// The kind of event it is stored as.
    pub kind: EventKind,
    /// A test topic (`_test`, `-test-`): stored, kept out of analytics by default.
    pub test: bool,
    /// Who sends it.
    pub sender: Sender,
}

const fn t(name: &'static str, kind: EventKind, test: bool, sender: Sender) -> Topic {
    Topic {
        name,
        kind,
        test,
        sender,
    }
}

/// Every topic the collector accepts.
pub const TOPICS: &[Topic] = &[
    t("server", EventKind::Heartbeat, false, Sender::ServerV1),
    t("server_test", EventKind::Heartbeat, true, Sender::ServerV1),
    t("server_metrics_v2", EventKind::Heartbeat, false, Sender::ServerV2),
    t("server_metrics_v2_test", EventKind::Heartbeat, true, Sender::ServerV2),
    t("cli", EventKind::Command, false, Sender::Cli),
    t("cli_test", EventKind::Command, true, Sender::Cli),
    t("console", EventKind::Console, false, Sender::ConsoleV1),
    t("console_test", EventKind::Console, true, Sender::ConsoleV1),
    t("console-v2", EventKind::Console, false, Sender::ConsoleV2),
    t("console-test-v2", EventKind::Console, true, Sender::ConsoleV2),
];

/// The topic named `name`, if the collector accepts it.
pub fn topic(name: &str) -> Option<Topic> {
    TOPICS.iter().copied().find(|t| t.name == name)
}
