//! Whether the tool runs in continuous integration, and under which service.
//!
//! The table of CI services and the variables each sets is
//! [`sonde_protocol::ci::VENDORS`], shared with the collector (which checks
//! a `ci_name` against the same list); it is read only when a ping or an
//! event is built (and for the first-run notice, which is never shown in
//! CI). A static table costs a few kilobytes, where a general-purpose crate
//! built its vendor list at run time and brought four more crates.

use sonde_protocol::ci::{Mark, VENDORS};

/// What the environment says about CI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ci {
    /// Running in CI.
    pub(crate) ci: bool,
    /// The service, when it is one we recognise.
    pub(crate) name: Option<&'static str>,
}

/// Variables any CI sets, whatever the service.
static GENERIC: &[&str] = &["CI", "CONTINUOUS_INTEGRATION", "BUILD_NUMBER", "RUN_ID"];

/// Reads the process environment.
pub(crate) fn detect() -> Ci {
    detect_with(&|k| std::env::var(k).ok())
}

/// Reads the environment through `env` (tests pass a map).
pub(crate) fn detect_with(env: &dyn Fn(&str) -> Option<String>) -> Ci {
    let set = |k: &str| env(k).is_some_and(|v| !v.is_empty());
    // `CI=false` (or 0) is an explicit "this is not CI", as npm's and
    // Prisma's detectors read it.
    if env("CI").is_some_and(|v| v.eq_ignore_ascii_case("false") || v == "0") {
        return Ci { ci: false, name: None };
    }
    let name = VENDORS.iter().find_map(|vendor| {
        let hit = vendor.marks.iter().any(|mark| match *mark {
            Mark::Set(k) => set(k),
            Mark::Is(k, value) => env(k).is_some_and(|v| v.eq_ignore_ascii_case(value)),
        });
        hit.then_some(vendor.name)
    });
    Ci {
        ci: name.is_some() || GENERIC.iter().any(|k| set(k)),
        name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn with(vars: &[(&str, &str)]) -> Ci {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        detect_with(&|k| map.get(k).cloned())
    }

    #[test]
    fn services_generic_variables_and_explicit_no() {
        assert_eq!(with(&[]), Ci { ci: false, name: None });
        assert_eq!(
            with(&[("GITHUB_ACTIONS", "true"), ("CI", "true")]),
            Ci {
                ci: true,
                name: Some("GitHub Actions")
            }
        );
        assert_eq!(
            with(&[("JENKINS_URL", "http://ci"), ("BUILD_ID", "7")]).name,
            Some("Jenkins")
        );
        assert_eq!(with(&[("CI", "woodpecker")]).name, Some("Woodpecker"));
        assert_eq!(with(&[("CI", "1")]), Ci { ci: true, name: None });
        assert!(with(&[("BUILD_NUMBER", "12")]).ci);
        assert!(!with(&[("CI", "")]).ci, "empty is unset");
        assert!(!with(&[("CI", "false"), ("GITLAB_CI", "true")]).ci);
        assert!(!with(&[("CI", "0")]).ci);
        // Every service name passes the collector's validation.
        for vendor in VENDORS {
            assert!(sonde_protocol::shapes::ci_name(vendor.name).is_ok(), "{}", vendor.name);
        }
        assert_eq!(with(&[("VERCEL", "1")]).name, Some("Vercel"));
        assert_eq!(with(&[("NOW_BUILDER", "1")]).name, Some("Vercel"));
    }
}
