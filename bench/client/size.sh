#!/usr/bin/env bash
# Dependency budget of the client library: builds two throwaway hello-world
# crates in a temporary directory (release profile), one plain and one that
# embeds sonde (builder + run + print_notices), and prints both sizes, the
# difference, and the crate counts from `cargo tree`.
# Both crates are built twice: with Cargo's default release profile, and with
# a size-tuned profile a CLI author may use (lto, codegen-units=1,
# opt-level="s", strip). With --tls-variants it also prices sonde's `tls12`
# feature (TLS 1.2 as well as 1.3), and builds three ureq probes that differ
# only in ureq's own TLS features, to price the platform verifier.
# Usage: bash bench/client/size.sh [--tls-variants]
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target/bench-client-size}

mk() { # name, deps, main body
  mkdir -p "$TMP/$1/src"
  printf '[package]\nname = "%s"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n%s\n\n[workspace]\n\n[profile.size]\ninherits = "release"\nlto = true\ncodegen-units = 1\nopt-level = "s"\nstrip = true\n' "$1" "$2" > "$TMP/$1/Cargo.toml"
  printf '%s\n' "$3" > "$TMP/$1/src/main.rs"
  cp "$ROOT/Cargo.lock" "$TMP/$1/Cargo.lock"
}
mk hello "" 'fn main() { println!("hello"); }'
# main.rs of a hello-world that embeds sonde, sending to the endpoint $1.
sonde_main() {
  printf 'fn main() {
    let t = sonde::Telemetry::builder("hello", "0.1.0")
        .endpoint("%s")
        .env_var("HELLO_TELEMETRY")
        .build()
        .expect("valid");
    t.run();
    t.print_notices();
    println!("hello");
}' "$1"
}
mk hello-sonde-http "sonde = { path = \"$ROOT/crates/sonde\", default-features = false }" "$(sonde_main http://telemetry.internal.example)"
mk hello-sonde "sonde = { path = \"$ROOT/crates/sonde\" }" "$(sonde_main https://telemetry.example.com)"
size() { stat -c %s "$1"; }
mib() { python3 -c "print(f'{($2-$1)/1048576:.2f} MiB')"; }
for c in hello hello-sonde hello-sonde-http; do
  cargo build --release --quiet --manifest-path "$TMP/$c/Cargo.toml" >&2
  cargo build --profile size --quiet --manifest-path "$TMP/$c/Cargo.toml" >&2
done
R=$CARGO_TARGET_DIR/release; S=$CARGO_TARGET_DIR/size
strip -o "$TMP/a" "$R/hello"; strip -o "$TMP/b" "$R/hello-sonde"
A=$(size "$R/hello"); B=$(size "$R/hello-sonde"); SA=$(size "$TMP/a"); SB=$(size "$TMP/b")
ZA=$(size "$S/hello"); ZB=$(size "$S/hello-sonde"); ZC=$(size "$S/hello-sonde-http")
strip -o "$TMP/c" "$R/hello-sonde-http"; SC=$(size "$TMP/c")
CRATES=$(cargo tree --manifest-path "$TMP/hello-sonde/Cargo.toml" -e normal --prefix none | sed 's/ (\*)//' | sort -u | grep -vc '^hello-sonde ')
echo "rustc: $(rustc --version)"
echo "| build | hello | hello + sonde | added |"
echo "| --- | --- | --- | --- |"
echo "| release (Cargo default) | $A | $B | $(mib "$A" "$B") |"
echo "| release, stripped afterwards | $SA | $SB | $(mib "$SA" "$SB") |"
echo "| size profile (lto, codegen-units=1, opt-level=s, strip) | $ZA | $ZB | $(mib "$ZA" "$ZB") |"
echo "without the tls feature (http:// endpoints only): release stripped $SC ($(mib "$SA" "$SC")), size profile $ZC ($(mib "$ZA" "$ZC"))"
echo "crates linked by sonde (cargo tree -e normal, unique, excluding the root): $CRATES"
if [ "${1:-}" = "--tls-variants" ]; then
  mk hello-sonde-tls12 "sonde = { path = \"$ROOT/crates/sonde\", features = [\"tls12\"] }" "$(sonde_main https://telemetry.example.com)"
  cargo build --release --quiet --manifest-path "$TMP/hello-sonde-tls12/Cargo.toml" >&2
  cargo build --profile size --quiet --manifest-path "$TMP/hello-sonde-tls12/Cargo.toml" >&2
  strip -o "$TMP/d" "$R/hello-sonde-tls12"
  T=$(size "$R/hello-sonde-tls12"); ST=$(size "$TMP/d"); ZT=$(size "$S/hello-sonde-tls12")
  echo "with the tls12 feature: release $T ($(mib "$A" "$T"); +$((T-B)) bytes), release stripped $ST ($(mib "$SA" "$ST"); +$((ST-SB))), size profile $ZT ($(mib "$ZA" "$ZT"); +$((ZT-ZB)))"
  U='ureq = { version = "3", default-features = false, features = [%s] }'
  PROBE='fn main() { let a: ureq::Agent = ureq::Agent::config_builder().build().into(); let _ = a.get("https://127.0.0.1:1/").call(); }'
  mk probe-plain "$(printf "$U" '')" "$PROBE"
  mk probe-webpki "$(printf "$U" '"rustls"')" "$PROBE"
  mk probe-platform "$(printf "$U" '"rustls", "platform-verifier"')" "$PROBE"
  for c in probe-plain probe-webpki probe-platform; do
    cargo build --profile size --quiet --manifest-path "$TMP/$c/Cargo.toml" >&2
  done
  P0=$(size "$S/probe-plain"); P1=$(size "$S/probe-webpki"); P2=$(size "$S/probe-platform")
  echo "ureq probes (size profile): no TLS $P0; rustls+ring+webpki-roots $P1 ($(mib "$P0" "$P1")); + platform-verifier $P2 ($(mib "$P1" "$P2") more)"
fi
cargo tree --manifest-path "$TMP/hello-sonde/Cargo.toml" -e normal
