//! Storage for the collector.
