//! Logging: the crate emits [`log`] records; this module is an optional logger for them, opt-in,
//! that writes to stderr on hosts and to hilog on HarmonyOS / OpenHarmony.
//!
//! * Rust programs that have their own logger (`env_logger`, `tracing-log`, …) get the records
//!   there and need nothing from here.
//! * Otherwise set `OSS_APPEND_LOG=error|warn|info|debug|trace` (or `off`) and call
//!   [`init_from_env`] (the `oss-append` CLI and the N-API module do this), or call
//!   [`set_level`] (JS: `setLogLevel('debug')`, the way to turn it on inside an app).
//!
//! What is logged (targets `oss_append::…`):
//!
//! * `debug`: every request's start — operation, method, bucket, key, body length, timeout;
//! * `info`: every request's end — status, request id, duration; cancellations; in append
//!   sessions, appends confirmed by HEAD after a lost answer and appends sent again;
//! * `warn`: requests that failed (5xx, network, timeout) with the reason; session appends
//!   whose outcome is unknown and is being checked;
//! * `error`: an append session that stopped, with the reason.
//!
//! Never logged: headers (so neither `Authorization` nor the STS token), credentials, signatures
//! or the data. Records of other crates (hyper, rustls, …) pass only at `warn` and above.
//!
//! A record never spans lines: control characters in it (a key may hold a newline) are escaped,
//! so no bucket, key or server message can forge a record. Keys are shown only where the device
//! is the developer's own: on OHOS hilog prints records as public, so keys appear as `<private>`
//! unless the app opts in ([`set_keys_public`], JS: `setLogLevel(level, { publicKeys: true })`).
//!
//! On OHOS the records go to hilog (domain [`HILOG_DOMAIN`], tag `oss_append`), through
//! `OH_LOG_Print` looked up at run time in `libhilog_ndk.z.so` (no link-time dependency; when it
//! cannot be loaded, records go to stderr).

use std::io::Write;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::OnceLock;

/// The target of the connection's log records (requests, TLS trust, name resolution), as apps
/// filter them: stable whatever module the code lives in.
pub(crate) const TRANSPORT_LOG_TARGET: &str = "oss_append::transport";

use log::{Level, LevelFilter, Log, Metadata, Record};

use crate::protocol::error::{Error, Result};

/// The environment variable read by [`init_from_env`].
pub const ENV_VAR: &str = "OSS_APPEND_LOG";

/// hilog domain of the records on OHOS (`0x0A55`); filter with `hilog -D 0x0A55` or by the tag
/// `oss_append`.
pub const HILOG_DOMAIN: u32 = 0x0A55;

struct Logger {
    /// A `LevelFilter` as usize (0 = off).
    level: AtomicUsize,
}

static LOGGER: Logger = Logger {
    level: AtomicUsize::new(0),
};
static INSTALLED: OnceLock<bool> = OnceLock::new();
/// Set once the level was chosen in code ([`set_level`]): the environment no longer applies.
static CHOSEN_IN_CODE: AtomicBool = AtomicBool::new(false);
/// Whether records show object keys: not on OHOS unless the app opts in.
static KEYS_PUBLIC: AtomicBool = AtomicBool::new(!cfg!(target_env = "ohos"));

/// Shows object keys in log records (`true`), or `<private>` instead (the default on OHOS).
pub fn set_keys_public(public: bool) {
    KEYS_PUBLIC.store(public, Ordering::Relaxed);
}

/// An object key as a record shows it: escaped, or `<private>` (see [`set_keys_public`]).
pub(crate) struct LoggedKey<'a>(pub &'a str);

impl std::fmt::Display for LoggedKey<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if KEYS_PUBLIC.load(Ordering::Relaxed) {
            f.write_str(&escape_controls(self.0))
        } else {
            f.write_str("<private>")
        }
    }
}

/// `text` with control characters (newline, tab, escape, …) written as `\n`, `\t`, `\u{1b}`:
/// one record stays one line.
pub fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Parses `off`, `error`, `warn`, `info`, `debug`, `trace` (any case, surrounding blanks
/// ignored).
pub fn parse_level(text: &str) -> Result<LevelFilter> {
    LevelFilter::from_str(text.trim()).map_err(|_| {
        Error::invalid(
            "level",
            format!("must be one of off, error, warn, info, debug, trace; got {text:?}"),
        )
    })
}

/// Installs this module's logger (once per process) with the level from `OSS_APPEND_LOG`.
/// Returns whether it logs now: false when the variable is unset, empty, invalid (a line on
/// stderr says so) or `off`, when the process already has another logger, or when the level was
/// set in code already ([`set_level`] wins over the environment).
pub fn init_from_env() -> bool {
    if CHOSEN_IN_CODE.load(Ordering::Acquire) {
        return false;
    }
    let Ok(value) = std::env::var(ENV_VAR) else {
        return false;
    };
    if value.trim().is_empty() {
        return false;
    }
    match parse_level(&value) {
        Ok(level) => install_with(level),
        Err(e) => {
            eprintln!("oss-append: ignoring {ENV_VAR}: {e}");
            false
        }
    }
}

/// Sets the level by name (see [`parse_level`]), installing the logger if needed. Returns
/// whether this module's logger is the process's logger (false when another one was there).
pub fn set_level(level: &str) -> Result<bool> {
    Ok(set_level_filter(parse_level(level)?))
}

/// Sets the level, installing the logger if needed (see [`set_level`]).
pub fn set_level_filter(level: LevelFilter) -> bool {
    CHOSEN_IN_CODE.store(true, Ordering::Release);
    install_with(level)
}

fn install_with(level: LevelFilter) -> bool {
    let installed = *INSTALLED.get_or_init(|| log::set_logger(&LOGGER).is_ok());
    if installed {
        LOGGER.level.store(level as usize, Ordering::Release);
        log::set_max_level(level);
    }
    installed && level != LevelFilter::Off
}

fn current_level() -> LevelFilter {
    match LOGGER.level.load(Ordering::Acquire) {
        0 => LevelFilter::Off,
        1 => LevelFilter::Error,
        2 => LevelFilter::Warn,
        3 => LevelFilter::Info,
        4 => LevelFilter::Debug,
        _ => LevelFilter::Trace,
    }
}

/// Whether a record of `target` at `level` passes a logger set to `filter`: this crate's records
/// up to `filter`, others' only up to `warn`.
pub fn passes(filter: LevelFilter, target: &str, level: Level) -> bool {
    let ours = target == "oss_append" || target.starts_with("oss_append::");
    let limit = if ours {
        filter
    } else {
        filter.min(LevelFilter::Warn)
    };
    level <= limit
}

/// One record as a line: `<UTC time> <LEVEL> <target>: <message>`, control characters of the
/// message escaped.
pub fn format_line(now: std::time::SystemTime, record: &Record<'_>) -> String {
    format!(
        "{} {:<5} {}: {}",
        utc(now),
        record.level(),
        record.target(),
        escape_controls(&record.args().to_string())
    )
}

/// `2024-05-01T12:34:56.789Z`.
fn utc(now: std::time::SystemTime) -> String {
    humantime::format_rfc3339_millis(now).to_string()
}

impl Log for Logger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        passes(current_level(), metadata.target(), metadata.level())
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        #[cfg(target_env = "ohos")]
        if hilog::print(record) {
            return;
        }
        let line = format_line(std::time::SystemTime::now(), record);
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }

    fn flush(&self) {
        let _ = std::io::stderr().flush();
    }
}

#[cfg(target_env = "ohos")]
mod hilog {
    use std::ffi::{c_char, c_int, c_uint, c_void, CString};
    use std::sync::OnceLock;

    use log::{Level, Record};

    /// `int OH_LOG_Print(LogType type, LogLevel level, unsigned int domain, const char *tag,
    /// const char *fmt, ...)`.
    type PrintFn =
        unsafe extern "C" fn(c_int, c_int, c_uint, *const c_char, *const c_char, ...) -> c_int;

    const LOG_APP: c_int = 0;

    fn level(level: Level) -> c_int {
        match level {
            Level::Trace | Level::Debug => 3,
            Level::Info => 4,
            Level::Warn => 5,
            Level::Error => 6,
        }
    }

    /// `OH_LOG_Print`, looked up once in `libhilog_ndk.z.so`.
    fn print_fn() -> Option<PrintFn> {
        static PRINT: OnceLock<Option<PrintFn>> = OnceLock::new();
        *PRINT.get_or_init(|| {
            // SAFETY: dlopen/dlsym with valid C strings; the library stays loaded (never
            // dlclosed), so the function pointer stays valid.
            unsafe {
                let lib = libc::dlopen(c"libhilog_ndk.z.so".as_ptr(), libc::RTLD_NOW);
                if lib.is_null() {
                    return None;
                }
                let sym: *mut c_void = libc::dlsym(lib, c"OH_LOG_Print".as_ptr());
                if sym.is_null() {
                    return None;
                }
                Some(std::mem::transmute::<*mut c_void, PrintFn>(sym))
            }
        })
    }

    /// Writes the record to hilog; false when hilog is not available.
    pub(super) fn print(record: &Record<'_>) -> bool {
        let Some(print) = print_fn() else {
            return false;
        };
        let message = record.args().to_string();
        let text = format!("{}: {}", record.target(), super::escape_controls(&message));
        let Ok(message) = CString::new(text) else {
            return false;
        };
        // SAFETY: valid C strings; "%{public}s" consumes exactly the one string argument.
        unsafe {
            print(
                LOG_APP,
                level(record.level()),
                super::HILOG_DOMAIN as c_uint,
                c"oss_append".as_ptr(),
                c"%{public}s".as_ptr(),
                message.as_ptr(),
            ) >= 0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_parse_by_name_in_any_case() {
        assert_eq!(parse_level("DEBUG").unwrap(), LevelFilter::Debug);
        assert_eq!(parse_level(" info ").unwrap(), LevelFilter::Info);
        assert_eq!(parse_level("off").unwrap(), LevelFilter::Off);
        let err = parse_level("verbose").unwrap_err();
        assert!(
            matches!(err, Error::InvalidArgument { field: "level", .. }),
            "{err}"
        );
    }

    #[test]
    fn other_crates_pass_only_at_warn() {
        assert!(passes(
            LevelFilter::Debug,
            "oss_append::transport",
            Level::Debug
        ));
        assert!(passes(LevelFilter::Debug, "oss_append", Level::Info));
        assert!(!passes(
            LevelFilter::Info,
            "oss_append::transport",
            Level::Debug
        ));
        assert!(!passes(LevelFilter::Trace, "rustls::client", Level::Debug));
        assert!(!passes(LevelFilter::Trace, "oss_appendix", Level::Info));
        assert!(passes(LevelFilter::Trace, "hyper", Level::Warn));
        assert!(!passes(LevelFilter::Error, "hyper", Level::Warn));
        assert!(!passes(LevelFilter::Off, "oss_append", Level::Error));
    }

    #[test]
    fn lines_carry_utc_time_level_target_and_message() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_709_251_200_123);
        let line = format_line(
            t,
            &Record::builder()
                .level(Level::Info)
                .target("oss_append::transport")
                .args(format_args!("AppendObject b/k: POST answered 200"))
                .build(),
        );
        assert_eq!(
            line,
            "2024-03-01T00:00:00.123Z INFO  oss_append::transport: AppendObject b/k: POST answered 200"
        );
        assert_eq!(utc(std::time::UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let leap = std::time::UNIX_EPOCH + std::time::Duration::from_secs(951_782_400);
        assert_eq!(utc(leap), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn a_record_stays_one_line_and_keys_can_be_private() {
        let t = std::time::UNIX_EPOCH;
        let key = "logs/a.log\n1970-01-01T00:00:00.000Z ERROR oss_append: forged";
        let line = format_line(
            t,
            &Record::builder()
                .level(Level::Info)
                .target("oss_append::transport")
                .args(format_args!("AppendObject b/{}: POST", LoggedKey(key)))
                .build(),
        );
        assert!(!line.contains('\n'), "{line}");
        assert!(line.contains("logs/a.log\\n1970"), "{line}");
        assert_eq!(
            escape_controls("tab\there\u{1b}[31m"),
            "tab\\there\\u{1b}[31m"
        );
        set_keys_public(false);
        assert_eq!(LoggedKey("secret/key").to_string(), "<private>");
        set_keys_public(true);
        assert_eq!(LoggedKey("k\r").to_string(), "k\\r");
    }
}
