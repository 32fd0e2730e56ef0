//! The collector HTTP service.
