#!/usr/bin/env bash
# Dependency budget of the client library: builds two throwaway hello-world
# crates in a temporary directory (release profile), one plain and one that
# embeds sonde (builder + run + print_notices), and prints both sizes, the
# difference, and the crate counts from `cargo tree`.
# Usage: bash bench/client/size.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target/bench-client-size}

mk() { # name, deps, main body
  mkdir -p "$TMP/$1/src"
  printf '[package]\nname = "%s"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n%s\n\n[workspace]\n' "$1" "$2" > "$TMP/$1/Cargo.toml"
  printf '%s\n' "$3" > "$TMP/$1/src/main.rs"
  cp "$ROOT/Cargo.lock" "$TMP/$1/Cargo.lock"
}
mk hello "" 'fn main() { println!("hello"); }'
mk hello-sonde "sonde = { path = \"$ROOT/crates/sonde\" }" 'fn main() {
    let t = sonde::Telemetry::builder("hello", "0.1.0")
        .endpoint("https://telemetry.example.com")
        .env_var("HELLO_TELEMETRY")
        .build()
        .expect("valid");
    t.run();
    t.print_notices();
    println!("hello");
}'
for c in hello hello-sonde; do
  cargo build --release --quiet --manifest-path "$TMP/$c/Cargo.toml" >&2
done
A=$(stat -c %s "$CARGO_TARGET_DIR/release/hello")
B=$(stat -c %s "$CARGO_TARGET_DIR/release/hello-sonde")
strip -o "$TMP/a" "$CARGO_TARGET_DIR/release/hello"; strip -o "$TMP/b" "$CARGO_TARGET_DIR/release/hello-sonde"
SA=$(stat -c %s "$TMP/a"); SB=$(stat -c %s "$TMP/b")
CRATES=$(cargo tree --manifest-path "$TMP/hello-sonde/Cargo.toml" -e normal --prefix none | sed 's/ (\*)//' | sort -u | grep -vc '^hello-sonde ')
echo "rustc: $(rustc --version)"
echo "hello (release):        $A bytes ($SA stripped)"
echo "hello + sonde (release): $B bytes ($SB stripped)"
python3 -c "print(f'added: {($B-$A)/1048576:.2f} MiB ({($SB-$SA)/1048576:.2f} MiB stripped)')"
echo "crates linked by sonde (cargo tree -e normal, unique, excluding the root): $CRATES"
cargo tree --manifest-path "$TMP/hello-sonde/Cargo.toml" -e normal
