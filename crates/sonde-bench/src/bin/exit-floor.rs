//! `exit-floor`: a program that only exits. `bench/client/run.sh` times it
//! beside the host tool, under the same hyperfine settings, as the floor
//! of process start on the machine: what no host tool can go below.

fn main() {}
