//! Sizes and lengths that both sides enforce, in one place: checkpoint
//! fields and bodies first, then the fields of events.

/// Longest accepted product name, in bytes.
pub const MAX_PRODUCT_LEN: usize = 64;
/// Longest accepted version string (`1.2.3-rc.1+build`), in bytes.
pub const MAX_VERSION_LEN: usize = 64;
/// Longest accepted `os` or `arch` value, in bytes.
pub const MAX_PLATFORM_LEN: usize = 32;
/// Longest accepted runtime version (`v20.20.2`, `rustc 1.95.0`), in bytes.
pub const MAX_RUNTIME_LEN: usize = 64;
/// Longest accepted CI vendor name (`GitHub Actions`), in bytes.
pub const MAX_CI_NAME_LEN: usize = 64;
/// Shortest accepted client-side hash (hex characters).
pub const MIN_HASH_LEN: usize = 8;
/// Longest accepted client-side hash (hex characters): Prisma's and Sonde's
/// clients send 8, and 32 or more hex digits is a secret's shape.
pub const MAX_HASH_LEN: usize = 16;
/// Largest request body the collector reads on the checkpoint routes, in bytes.
pub const MAX_CHECKPOINT_BODY: usize = 64 * 1024;
/// Longest query string the collector reads on `/v1/check`, in bytes.
pub const MAX_QUERY_LEN: usize = 16 * 1024;

/// Longest short token (`console_mode`, `db_kind`, a feature name such as
/// `remove_empty_subscription_responses`), in bytes.
pub const MAX_TOKEN_LEN: usize = 48;
/// Longest console action name (`ModifyTable/RESET`), in bytes.
pub const MAX_ACTION_LEN: usize = 128;
/// Longest database version text (`PostgreSQL 15.2 on x86_64-pc-linux-gnu…`), in bytes.
pub const MAX_DB_VERSION_LEN: usize = 256;
/// Most entries in `experimental_features`.
pub const MAX_FEATURES: usize = 32;
/// Longest accepted command duration: one week, in milliseconds.
pub const MAX_DURATION_MS: u64 = 7 * 24 * 3600 * 1000;

/// Deepest nesting of a `metrics` object (the top object is level 1).
pub const MAX_METRICS_DEPTH: usize = 4;
/// Most leaves (numbers and booleans) in one `metrics` object.
pub const MAX_METRICS_LEAVES: usize = 256;
/// Longest key in a `metrics` object, in bytes.
pub const MAX_METRICS_KEY_LEN: usize = 64;

/// Longest accepted `command` string, in bytes.
pub const MAX_COMMAND_LEN: usize = 512;
/// Most words in a command path (`hasura migrate apply` is 3).
pub const MAX_COMMAND_WORDS: usize = 8;
/// Longest word of a command path, in bytes.
pub const MAX_COMMAND_WORD_LEN: usize = 32;
/// Most flag names kept per command.
pub const MAX_FLAGS: usize = 32;
/// Longest flag name (`--admin-secret`), in bytes.
pub const MAX_FLAG_LEN: usize = 64;
