//! Sizes and lengths that both sides enforce, in one place.

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
/// Longest accepted client-side hash (hex characters).
pub const MAX_HASH_LEN: usize = 64;
/// Largest request body the collector reads on the checkpoint routes, in bytes.
pub const MAX_CHECKPOINT_BODY: usize = 64 * 1024;
/// Longest query string the collector reads on `/v1/check`, in bytes.
pub const MAX_QUERY_LEN: usize = 16 * 1024;
