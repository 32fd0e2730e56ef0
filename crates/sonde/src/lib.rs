//! The sonde client library.
