//! Progress on stderr (indicatif), shown only when stderr is a terminal and no log records are
//! written there: redrawn lines are noise in a captured stderr, and log lines written between
//! two redraws would be overwritten. When not shown, nothing is drawn and no observer is
//! attached.
//!
//! Each display clears itself when dropped, so the final report and any error message are
//! printed on a clean line.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{HumanBytes, ProgressBar, ProgressStyle};
use oss_append::Body;

const FILE_TEMPLATE: &str =
    "{wide_bar} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} ETA {eta}";
const STREAM_TEMPLATE: &str = "{spinner} read {binary_bytes} ({binary_bytes_per_sec}) {msg}";

/// How often the stdin spinner turns while input is idle, so the tool visibly still waits.
const STREAM_TICK: Duration = Duration::from_millis(200);

/// Whether to show progress: stderr is a terminal and `logging` (whether log records go to
/// stderr) is false.
pub fn wanted(logging: bool) -> bool {
    !logging && std::io::stderr().is_terminal()
}

fn styled(bar: ProgressBar, template: &str) -> ProgressBar {
    // The templates are constants (checked by a unit test): an error is a bug in this file.
    bar.with_style(ProgressStyle::with_template(template).expect("a valid progress template"))
}

/// A byte bar for a file append — sent / total, rate, ETA — fed by the body's progress
/// observer (which never goes backwards, also across resends).
pub struct FileBar(Option<ProgressBar>);

impl FileBar {
    pub fn new(shown: bool) -> Self {
        // The total is not known until the body is opened: the observer sets it.
        Self(shown.then(|| styled(ProgressBar::new(0), FILE_TEMPLATE)))
    }

    /// `body`, reporting to this bar if it is shown.
    pub fn observe(&self, body: Body) -> Body {
        match &self.0 {
            Some(bar) => {
                let bar = bar.clone();
                body.with_progress(move |sent, total| {
                    bar.set_length(total);
                    bar.set_position(sent);
                })
            }
            None => body,
        }
    }
}

impl Drop for FileBar {
    fn drop(&mut self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

/// A spinner for streaming stdin: bytes read (and their rate), bytes appended, and the
/// object's length (the position the next append goes to).
pub struct StreamCounter {
    bar: Option<ProgressBar>,
    appended: u64,
}

impl StreamCounter {
    pub fn new(shown: bool, position: u64) -> Self {
        let counter = Self {
            bar: shown.then(|| {
                let bar = styled(ProgressBar::new_spinner(), STREAM_TEMPLATE);
                bar.enable_steady_tick(STREAM_TICK);
                bar
            }),
            appended: 0,
        };
        counter.show_appended(position);
        counter
    }

    /// `n` more bytes were read from stdin.
    pub fn read(&self, n: usize) {
        if let Some(bar) = &self.bar {
            bar.inc(n as u64);
        }
    }

    /// A block of `n` bytes was appended; the object is `position` bytes long now.
    pub fn appended(&mut self, n: usize, position: u64) {
        self.appended += n as u64;
        self.show_appended(position);
    }

    fn show_appended(&self, position: u64) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!(
                "· appended {} · position {position}",
                HumanBytes(self.appended)
            ));
        }
    }
}

impl Drop for StreamCounter {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_templates_are_valid() {
        for template in [FILE_TEMPLATE, STREAM_TEMPLATE] {
            assert!(ProgressStyle::with_template(template).is_ok(), "{template}");
        }
    }

    #[test]
    fn hidden_displays_leave_the_body_alone() {
        let body = FileBar::new(false).observe(Body::from("x"));
        assert!(format!("{body:?}").contains("progress: false"), "{body:?}");
        let mut counter = StreamCounter::new(false, 7);
        counter.read(3);
        counter.appended(3, 10);
        assert!(counter.bar.is_none());
    }
}
