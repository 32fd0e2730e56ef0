//! A quick end-to-end pass: admin API, a check, the pipeline.
mod common;

#[test]
fn admin_then_check() {
    let h = common::start();
    h.publish("demo", "1.2.0");
    let r = common::raw(
        h.addr(),
        b"GET /v1/check/demo?version=1.0.0&signature=0b3f4c4e-1d2a-4c3b-8f00-0123456789ab HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let v: serde_json::Value = r.json();
    assert_eq!(v["outdated"], true);
    assert_eq!(h.count("SELECT count(*) FROM pings"), 1);
}
