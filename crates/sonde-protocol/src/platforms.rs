//! The operating system and architecture names clients send, as closed
//! lists: Go's `GOOS`/`GOARCH`, Node's `process.platform`/`process.arch`,
//! Rust's `std::env::consts::OS`/`ARCH`, and `uname -m` machine names. A
//! value outside them is dropped as `not_in_vocabulary`: a free-form `os`
//! could carry a host name.

/// Operating system names, lower case.
pub const OS_NAMES: &[&str] = &[
    // Go GOOS
    "aix",
    "android",
    "darwin",
    "dragonfly",
    "freebsd",
    "hurd",
    "illumos",
    "ios",
    "js",
    "linux",
    "nacl",
    "netbsd",
    "openbsd",
    "plan9",
    "solaris",
    "wasip1",
    "windows",
    "zos",
    // Node process.platform
    "cygwin",
    "haiku",
    "sunos",
    "win32",
    // Rust std::env::consts::OS
    "macos",
    "fuchsia",
    "redox",
    "vxworks",
    "horizon",
    "espidf",
    "emscripten",
    "hermit",
    "nto",
    "uefi",
    "tvos",
    "watchos",
    "visionos",
    "l4re",
    "nuttx",
    "wasi",
    "unknown",
];

/// Architecture names, lower case.
pub const ARCH_NAMES: &[&str] = &[
    // Go GOARCH
    "386",
    "amd64",
    "amd64p32",
    "arm",
    "arm64",
    "arm64be",
    "armbe",
    "loong64",
    "mips",
    "mipsle",
    "mips64",
    "mips64le",
    "mips64p32",
    "mips64p32le",
    "ppc",
    "ppc64",
    "ppc64le",
    "riscv",
    "riscv64",
    "s390",
    "s390x",
    "sparc",
    "sparc64",
    "wasm",
    // Node process.arch
    "ia32",
    "mipsel",
    "x64",
    // Rust std::env::consts::ARCH
    "x86",
    "x86_64",
    "aarch64",
    "m68k",
    "csky",
    "mips32r6",
    "mips64r6",
    "powerpc",
    "powerpc64",
    "riscv32",
    "hexagon",
    "loongarch64",
    "wasm32",
    "wasm64",
    "bpf",
    "avr",
    "msp430",
    "xtensa",
    "nvptx64",
    // uname -m
    "i386",
    "i486",
    "i586",
    "i686",
    "armv5tel",
    "armv6l",
    "armv7l",
    "armv8l",
    "aarch64_be",
    "ppc64el",
    "unknown",
];

/// Whether `s` (any case) is a known operating system name.
///
/// ```
/// assert!(sonde_protocol::platforms::is_os("Linux"));
/// assert!(!sonde_protocol::platforms::is_os("alices-macbook"));
/// ```
pub fn is_os(s: &str) -> bool {
    OS_NAMES.iter().any(|n| n.eq_ignore_ascii_case(s))
}

/// Whether `s` (any case) is a known architecture name.
///
/// ```
/// assert!(sonde_protocol::platforms::is_arch("x86_64"));
/// assert!(!sonde_protocol::platforms::is_arch("prodbox"));
/// ```
pub fn is_arch(s: &str) -> bool {
    ARCH_NAMES.iter().any(|n| n.eq_ignore_ascii_case(s))
}
