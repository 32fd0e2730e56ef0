//! `GET /api/v1/query` for command, console and heartbeat events end to
//! end: events sent through the native batch API, answered from the
//! roll-ups as JSON and CSV, with the minimum group size counted in
//! distinct installations and instances.

mod common;

use common::agent;
use serde_json::{json, Value};
use sonde_store::Day;

fn uuid(n: u32) -> String {
    format!("0b3f4c4e-1d2a-4c3b-8f00-{n:012}")
}

/// Sends `events` of `tool` through the native batch API.
fn send(h: &common::Harness, events: Vec<Value>) {
    let body = json!({"product": "tool", "events": events});
    let (status, answer) = h.post(
        "/api/v1/events",
        &[("Content-Type", "application/json")],
        body.to_string().as_bytes(),
    );
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["rejected"], json!([]), "{answer}");
}

/// The events: with k = 3,
///
/// - `tool build` from installations 1..=4 (installation 1 twice, once
///   failing) and once from none: 6 runs, 4 installations: shown;
/// - `tool deploy` from installations 1 and 2, `tool init` from 3: under 3
///   each, folded into an "other" of 3 (installation and command pairs);
/// - console action `A` from 2 installations: an "other" under 3, hidden;
/// - heartbeats from 4 instances, `tables` 1..=4; `relationships.manual.object`
///   from 2 of them: a metric under 3 instances, no distribution.
fn record(h: &common::Harness) {
    let mut id = 0;
    let mut next = || {
        id += 1;
        uuid(1000 + id)
    };
    let mut events = Vec::new();
    for i in 1..=4 {
        events.push(
            json!({"id": next(), "kind": "command", "command": "tool build", "uuid": uuid(i), "is_error": false}),
        );
    }
    events.push(json!({"id": next(), "kind": "command", "command": "tool build", "uuid": uuid(1), "is_error": true}));
    events.push(json!({"id": next(), "kind": "command", "command": "tool build"}));
    for i in [1, 2] {
        events.push(
            json!({"id": next(), "kind": "command", "command": "tool deploy", "uuid": uuid(i), "is_error": true}),
        );
    }
    events.push(json!({"id": next(), "kind": "command", "command": "tool init", "uuid": uuid(3)}));
    for i in [1, 2] {
        events.push(json!({"id": next(), "kind": "console", "event_type": "A", "server_uuid": uuid(50 + i)}));
    }
    for i in 1..=4u32 {
        let mut metrics = json!({"tables": i});
        if i <= 2 {
            metrics["relationships"] = json!({"manual": {"object": i}});
        }
        events.push(json!({"id": next(), "kind": "heartbeat", "instance_uid": uuid(70 + i), "metrics": metrics}));
    }
    send(h, events);
}

#[test]
fn commands_console_and_heartbeats_are_answered_under_the_minimum_group_size() {
    let h = common::Harness::start_configured(|c| c.min_group_size = 3);
    h.publish("tool", "1.0.0");
    record(&h);
    let now = sonde_collector::clock::now_ms();
    let month = Day::from_unix_ms(now).month().to_string();
    // A whole month around today, so a run just before midnight UTC still
    // finds its events.
    let from = Day::from_unix_ms(now - 86_400_000);
    let to = Day::from_unix_ms(now).next();
    let range = format!("product=tool&from={from}&to={to}&interval=month");
    let this_month = |answer: &Value| -> Vec<Value> {
        answer["rows"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["period"] == month.as_str())
            .cloned()
            .collect()
    };

    let (status, commands) = h.admin_get(&format!("/api/v1/query?metric=commands&{range}"));
    assert_eq!(status, 200, "{commands}");
    assert_eq!(commands["metric"], "commands");
    assert_eq!(
        this_month(&commands),
        [
            json!({"period": month, "value": "tool build", "installations": 4, "events": 6, "errors": 1,
                   "error_rate": 1.0 / 6.0}),
            json!({"period": month, "value": null, "installations": 3, "events": 3, "errors": 2,
                   "error_rate": 2.0 / 3.0}),
        ]
    );

    let (status, console) = h.admin_get(&format!("/api/v1/query?metric=console&dimension=action&{range}"));
    assert_eq!(status, 200, "{console}");
    assert_eq!(console["dimension"], "action");
    assert_eq!(
        this_month(&console),
        [
            json!({"period": month, "value": null, "installations": {"fewer_than": 3},
                "events": null, "errors": null, "error_rate": null})
        ]
    );

    let (status, heartbeats) = h.admin_get(&format!("/api/v1/query?metric=heartbeats&{range}"));
    assert_eq!(status, 200, "{heartbeats}");
    assert_eq!(
        this_month(&heartbeats),
        [json!({"period": month, "instances": 4, "metrics": [
            {"path": "relationships.manual.object", "instances": {"fewer_than": 3}, "p50": null, "p90": null, "max": null},
            {"path": "tables", "instances": 4, "p50": 2.0, "p90": 4.0, "max": 4.0}]})]
    );

    let csv = |metric: &str| {
        let auth = format!("Bearer {}", h.inner.admin_token());
        let mut response = agent()
            .get(h.url(&format!("/api/v1/query?metric={metric}&format=csv&{range}")))
            .header("Authorization", &auth)
            .call()
            .unwrap();
        response.body_mut().read_to_string().unwrap()
    };
    let commands = csv("commands");
    let lines: Vec<&str> = commands.lines().filter(|l| !l.contains(",0,")).collect();
    assert_eq!(lines[0], "period,value,installations,events,errors,error_rate");
    assert!(
        lines.contains(&format!("{month},tool build,4,6,1,{}", 1.0 / 6.0).as_str()),
        "{commands}"
    );
    assert!(
        lines.contains(&format!("{month},(other),3,3,2,{}", 2.0 / 3.0).as_str()),
        "{commands}"
    );
    let console = csv("console&dimension=route");
    assert!(console.contains(&format!("{month},(other),<3,,,\n")), "{console}");
    let heartbeats = csv("heartbeats");
    assert!(heartbeats.starts_with("period,instances,metric,metric_instances,p50,p90,max\n"));
    assert!(
        heartbeats.contains(&format!("{month},4,tables,4,2.0,4.0,4.0\n")),
        "{heartbeats}"
    );
    assert!(
        heartbeats.contains(&format!("{month},4,relationships.manual.object,<3,,,\n")),
        "{heartbeats}"
    );
}

#[test]
fn a_console_grouping_other_than_action_or_route_is_refused() {
    let h = common::start();
    let (status, body) =
        h.admin_get("/api/v1/query?product=tool&metric=console&dimension=os&from=2026-11-01&to=2026-11-02");
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "invalid_analytics_query", "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("action or route"),
        "{body}"
    );
}
