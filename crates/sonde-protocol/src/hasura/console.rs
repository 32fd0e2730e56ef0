//! The console's events, both generations, read into the stored names
//! before validation.
//!
//! - v1 (`console`): `data` (an error's message and stack, or an action's
//!   payload) is stored nowhere; it is read as `event_data`, which the
//!   allowlist accepts and never stores.
//! - v2 (`console-v2`): `event_data` is free form (an element id, a database
//!   kind, an error's stack): never stored.
//! - `url` is what the console's own anonymiser (`telemetry/filters.ts`)
//!   left: it keeps the database source name and leaves some routes as they
//!   are, so the collector reduces it to a route template
//!   ([`crate::routes`]). Its action rule writes `/actions$ACTION_NAME/TAB`
//!   for `/actions/manage/NAME/TAB` (a `$A` that is no group reference), read
//!   here as the template it meant.

use serde_json::{Map, Value};

use super::server::rename;

/// What the console's action rule writes instead of `/actions/manage/NAME`.
const BROKEN_ACTION_PREFIX: &str = "/actions$ACTION_NAME";

/// Rewrites a console event's `data` into the stored names.
pub(super) fn normalize(data: &mut Map<String, Value>) {
    rename(data, "data", "event_data");
    if let Some(Value::String(url)) = data.get_mut("url") {
        if let Some(rest) = url.strip_prefix(BROKEN_ACTION_PREFIX) {
            *url = format!("/actions/manage/ACTION_NAME{rest}");
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_consoles_action_route_is_read_as_meant() {
        let mut data = json!({"url": "/actions$ACTION_NAME/modify", "data": {"message": "x"}})
            .as_object()
            .unwrap()
            .clone();
        normalize(&mut data);
        assert_eq!(data["url"], "/actions/manage/ACTION_NAME/modify");
        assert!(data.get("data").is_none());
        assert!(data.contains_key("event_data"));
    }
}
