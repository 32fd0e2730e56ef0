//! Paths that name a person or hold their data: paths under a home
//! directory (Unix, macOS, Windows, `~`), and paths to database files.

use super::{find_ignore_case, run_end, PrivacyHit, Span};

/// Home directory prefixes; the segment after each is a user name.
const HOMES: &[&[u8]] = &[b"/home/", b"/users/", b"\\users\\", b"/export/home/", b"/var/home/"];

/// Pushes every home path, from its prefix through the user name
/// (`/home/alice`, `C:\Users\bob`, `/root`, `~/`, `~alice/`).
pub(super) fn home(b: &[u8], out: &mut Vec<Span>) {
    for prefix in HOMES {
        let mut from = 0;
        while let Some(k) = find_ignore_case(b, prefix, from) {
            let s = k + prefix.len();
            let e = run_end(b, s, is_name_byte);
            if e > s {
                // `C:` before `\Users\` belongs to the path.
                let start = if k >= 2 && b[k - 1] == b':' && b[k - 2].is_ascii_alphabetic() {
                    k - 2
                } else {
                    k
                };
                out.push(Span {
                    start,
                    end: e,
                    hit: PrivacyHit::HomePath,
                });
            }
            from = s;
        }
    }
    let mut from = 0;
    while let Some(k) = find_ignore_case(b, b"/root", from) {
        let e = k + 5;
        if (k == 0 || !is_name_byte(b[k - 1])) && (e == b.len() || matches!(b[e], b'/' | b'\\')) {
            out.push(Span::new(k, e, PrivacyHit::HomePath));
        }
        from = e;
    }
    for (k, _) in b.iter().enumerate().filter(|(_, &c)| c == b'~') {
        if k > 0
            && !matches!(
                b[k - 1],
                b' ' | b'\t' | b'"' | b'\'' | b'=' | b'(' | b',' | b':' | b'\n'
            )
        {
            continue;
        }
        // `~/x` or `~alice/x` (a home by user name).
        let e = run_end(b, k + 1, is_name_byte);
        if e < b.len() && matches!(b[e], b'/' | b'\\') {
            let end = run_end(b, e + 1, is_name_byte).max(e + 1);
            out.push(Span {
                start: k,
                end,
                hit: PrivacyHit::HomePath,
            });
        }
    }
}

/// A byte of a user name or a path segment.
fn is_name_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-' | b'$' | b'@')
}

/// File extensions of database files.
const DB_EXTENSIONS: &[&[u8]] = &[
    b".db",
    b".sqlite",
    b".sqlite3",
    b".db3",
    b".mdb",
    b".accdb",
    b".duckdb",
    b".fdb",
    b".sdf",
];

/// Pushes every path to a database file: a run of path bytes ending in a
/// database extension (`./prisma/dev.db`, `C:\data\app.sqlite3`).
pub(super) fn database_files(b: &[u8], out: &mut Vec<Span>) {
    let path_byte = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-' | b'/' | b'\\' | b'~' | b':');
    let mut i = 0;
    while i < b.len() {
        if !path_byte(b[i]) {
            i += 1;
            continue;
        }
        let end = run_end(b, i, path_byte);
        let run = &b[i..end];
        for ext in DB_EXTENSIONS {
            let mut from = 0;
            while let Some(k) = find_ignore_case(run, ext, from) {
                let e = k + ext.len();
                // The extension ends its segment, and a name comes before it.
                if (e == run.len() || matches!(run[e], b'/' | b'\\' | b':'))
                    && k > 0
                    && run[k - 1].is_ascii_alphanumeric()
                {
                    // From the start of the path to the end of the file name.
                    let start = run[..k].iter().position(|&c| c != b':').unwrap_or(0);
                    out.push(Span::new(i + start, i + e, PrivacyHit::DatabasePath));
                }
                from = e;
            }
        }
        i = end.max(i + 1);
    }
}
