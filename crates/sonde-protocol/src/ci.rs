//! The CI services Sonde knows: the one table the client reads to name the
//! service it runs under, and the collector checks a `ci`/`ci_name` value
//! against.
//!
//! Each service has its display name (what Sonde's client sends), the marks
//! by which the client recognises it (an environment variable that is set,
//! or has a given value), and the other spellings clients send for it
//! (Hasura's server sends `TRAVIS`, ci-info's vendor constants are
//! `GITHUB_ACTIONS`...). A value matches a service when, lower-cased and
//! with spaces, `_` and `-` removed, it equals the name or an alias so
//! written.

/// How a service is recognised: a variable that is set (non-empty), or a
/// variable with a given value (compared case-insensitively).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// The variable is set and not empty.
    Set(&'static str),
    /// The variable has this value.
    Is(&'static str, &'static str),
}

/// One CI service.
#[derive(Debug, Clone, Copy)]
pub struct Vendor {
    /// Its display name (`GitHub Actions`).
    pub name: &'static str,
    /// How the client recognises it; empty for services only other clients
    /// name.
    pub marks: &'static [Mark],
    /// Other spellings clients send.
    pub aliases: &'static [&'static str],
}

const fn v(name: &'static str, marks: &'static [Mark], aliases: &'static [&'static str]) -> Vendor {
    Vendor { name, marks, aliases }
}

/// Services, the more specific first (several services also set variables
/// another one is known by): the client takes the first whose mark is set.
pub const VENDORS: &[Vendor] = &[
    v(
        "GitHub Actions",
        &[Mark::Set("GITHUB_ACTIONS")],
        &["github", "githubactions"],
    ),
    v("Gitea Actions", &[Mark::Set("GITEA_ACTIONS")], &["gitea"]),
    v("GitLab CI", &[Mark::Set("GITLAB_CI")], &["gitlab"]),
    v("CircleCI", &[Mark::Set("CIRCLECI")], &["circle"]),
    v("Travis CI", &[Mark::Set("TRAVIS")], &["travis"]),
    v(
        "Azure Pipelines",
        &[Mark::Set("TF_BUILD")],
        &["azure", "azuredevops", "tfbuild"],
    ),
    v(
        "Bitbucket Pipelines",
        &[Mark::Set("BITBUCKET_BUILD_NUMBER")],
        &["bitbucket"],
    ),
    v("Buildkite", &[Mark::Set("BUILDKITE")], &[]),
    v("AppVeyor", &[Mark::Set("APPVEYOR")], &[]),
    v("AWS CodeBuild", &[Mark::Set("CODEBUILD_BUILD_ARN")], &["codebuild"]),
    v(
        "Google Cloud Build",
        &[Mark::Set("BUILDER_OUTPUT")],
        &["googlecloudbuild", "cloudbuild", "gcb"],
    ),
    v("TeamCity", &[Mark::Set("TEAMCITY_VERSION")], &[]),
    v("Bamboo", &[Mark::Set("bamboo_planKey")], &[]),
    v("Drone", &[Mark::Set("DRONE")], &[]),
    v("Woodpecker", &[Mark::Is("CI", "woodpecker")], &[]),
    v("Semaphore", &[Mark::Set("SEMAPHORE")], &[]),
    v("Cirrus CI", &[Mark::Set("CIRRUS_CI")], &["cirrus"]),
    v("Bitrise", &[Mark::Set("BITRISE_IO")], &[]),
    v("Codefresh", &[Mark::Set("CF_BUILD_ID")], &[]),
    v("Codemagic", &[Mark::Set("CM_BUILD_ID")], &[]),
    v("Buddy", &[Mark::Set("BUDDY_WORKSPACE_ID")], &[]),
    v("Harness CI", &[Mark::Set("HARNESS_BUILD_ID")], &["harness"]),
    v("Heroku CI", &[Mark::Set("HEROKU_TEST_RUN_ID")], &["heroku"]),
    v("Netlify", &[Mark::Set("NETLIFY")], &["netlifyci"]),
    v(
        "Vercel",
        &[Mark::Set("NOW_BUILDER"), Mark::Set("VERCEL")],
        &["now", "zeit"],
    ),
    v("Render", &[Mark::Set("RENDER")], &[]),
    v("Xcode Cloud", &[Mark::Set("CI_XCODE_PROJECT")], &["xcodecloud"]),
    v("Expo Application Services", &[Mark::Set("EAS_BUILD")], &["eas"]),
    v("Earthly", &[Mark::Set("EARTHLY_CI")], &[]),
    v("Screwdriver", &[Mark::Set("SCREWDRIVER")], &[]),
    v("Sourcehut", &[Mark::Is("CI_NAME", "sourcehut")], &[]),
    v("Jenkins", &[Mark::Set("JENKINS_URL")], &[]),
    v("Hudson", &[Mark::Set("HUDSON_URL")], &[]),
    // Named by other clients (ci-info, Hasura's server), not detected here.
    v("Appcircle", &[], &[]),
    v("Codeship", &[], &[]),
    v("GoCD", &[], &[]),
    v("Gerrit", &[], &[]),
    v("LayerCI", &[], &[]),
    v("Magnum CI", &[], &["magnum"]),
    v("Nevercode", &[], &[]),
    v("Prow", &[], &[]),
    v("ReleaseHub", &[], &[]),
    v("Sail CI", &[], &["sail"]),
    v("Strider CD", &[], &["strider"]),
    v("TaskCluster", &[], &[]),
    v("Vela", &[], &[]),
    v("Visual Studio App Center", &[], &["appcenter"]),
    v("Xcode Server", &[], &["xcodeserver"]),
    v("dsari", &[], &[]),
    v("Agola CI", &[], &["agola"]),
    v("Cloudflare Pages", &[], &["cloudflarepages"]),
];

/// `s` lower-cased without spaces, `_` and `-`, into `buf`; `None` when
/// longer than the buffer.
fn folded<'a>(s: &str, buf: &'a mut [u8; 64]) -> Option<&'a [u8]> {
    let mut n = 0;
    for b in s.bytes().filter(|b| !matches!(b, b' ' | b'_' | b'-')) {
        if n == buf.len() {
            return None;
        }
        buf[n] = b.to_ascii_lowercase();
        n += 1;
    }
    Some(&buf[..n])
}

/// The service a `ci`/`ci_name` value names, if it is one in [`VENDORS`].
///
/// ```
/// use sonde_protocol::ci::vendor;
/// assert_eq!(vendor("GitHub Actions").unwrap().name, "GitHub Actions");
/// assert_eq!(vendor("TRAVIS").unwrap().name, "Travis CI");
/// assert_eq!(vendor("github_actions").unwrap().name, "GitHub Actions");
/// assert!(vendor("build-7.corp.example.com").is_none());
/// ```
pub fn vendor(s: &str) -> Option<&'static Vendor> {
    let mut a = [0u8; 64];
    let want = folded(s.trim(), &mut a)?;
    if want.is_empty() {
        return None;
    }
    VENDORS.iter().find(|v| {
        let mut b = [0u8; 64];
        folded(v.name, &mut b) == Some(want)
            || v.aliases.iter().any(|al| {
                let mut c = [0u8; 64];
                folded(al, &mut c) == Some(want)
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_and_alias_is_found() {
        for v in VENDORS {
            assert!(vendor(v.name).is_some(), "{}", v.name);
            for a in v.aliases {
                assert!(vendor(a).is_some(), "{a}");
            }
        }
        assert!(vendor("").is_none());
        assert!(vendor("runner 10.1.2.3").is_none());
    }
}
