//! Whether the tool runs in continuous integration, and under which service.
//!
//! A small table of the variables each CI service sets, read only when a
//! ping or an event is built (and for the first-run notice, which is never
//! shown in CI). Kept here rather than in a dependency: a static table costs
//! a few kilobytes, where a general-purpose crate built its vendor list at run
//! time and brought four more crates.

/// What the environment says about CI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ci {
    /// Running in CI.
    pub(crate) ci: bool,
    /// The service, when it is one we recognise.
    pub(crate) name: Option<&'static str>,
}

/// How a service is recognised: a variable that is set (non-empty), or a
/// variable with a given value.
#[derive(Debug, Clone, Copy)]
enum Mark {
    Set(&'static str),
    Is(&'static str, &'static str),
}

/// Services and their marks, the more specific first (several services also
/// set variables another one is known by).
static SERVICES: &[(&str, Mark)] = &[
    ("GitHub Actions", Mark::Set("GITHUB_ACTIONS")),
    ("Gitea Actions", Mark::Set("GITEA_ACTIONS")),
    ("GitLab CI", Mark::Set("GITLAB_CI")),
    ("CircleCI", Mark::Set("CIRCLECI")),
    ("Travis CI", Mark::Set("TRAVIS")),
    ("Azure Pipelines", Mark::Set("TF_BUILD")),
    ("Bitbucket Pipelines", Mark::Set("BITBUCKET_BUILD_NUMBER")),
    ("Buildkite", Mark::Set("BUILDKITE")),
    ("AppVeyor", Mark::Set("APPVEYOR")),
    ("AWS CodeBuild", Mark::Set("CODEBUILD_BUILD_ARN")),
    ("Google Cloud Build", Mark::Set("BUILDER_OUTPUT")),
    ("TeamCity", Mark::Set("TEAMCITY_VERSION")),
    ("Bamboo", Mark::Set("bamboo_planKey")),
    ("Drone", Mark::Set("DRONE")),
    ("Woodpecker", Mark::Is("CI", "woodpecker")),
    ("Semaphore", Mark::Set("SEMAPHORE")),
    ("Cirrus CI", Mark::Set("CIRRUS_CI")),
    ("Bitrise", Mark::Set("BITRISE_IO")),
    ("Codefresh", Mark::Set("CF_BUILD_ID")),
    ("Codemagic", Mark::Set("CM_BUILD_ID")),
    ("Buddy", Mark::Set("BUDDY_WORKSPACE_ID")),
    ("Harness CI", Mark::Set("HARNESS_BUILD_ID")),
    ("Heroku CI", Mark::Set("HEROKU_TEST_RUN_ID")),
    ("Netlify", Mark::Set("NETLIFY")),
    ("Vercel", Mark::Set("NOW_BUILDER")),
    ("Vercel", Mark::Set("VERCEL")),
    ("Render", Mark::Set("RENDER")),
    ("Xcode Cloud", Mark::Set("CI_XCODE_PROJECT")),
    ("Expo Application Services", Mark::Set("EAS_BUILD")),
    ("Earthly", Mark::Set("EARTHLY_CI")),
    ("Screwdriver", Mark::Set("SCREWDRIVER")),
    ("Sourcehut", Mark::Is("CI_NAME", "sourcehut")),
    ("Jenkins", Mark::Set("JENKINS_URL")),
    ("Hudson", Mark::Set("HUDSON_URL")),
];

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
    let name = SERVICES.iter().find_map(|(name, mark)| {
        let hit = match *mark {
            Mark::Set(k) => set(k),
            Mark::Is(k, value) => env(k).is_some_and(|v| v.eq_ignore_ascii_case(value)),
        };
        hit.then_some(*name)
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
        for (name, _) in SERVICES {
            assert!(sonde_protocol::shapes::ci_name(name).is_ok(), "{name}");
        }
    }
}
