//! A progress line on stderr (indicatif) through the stages of a run: reading, agreement,
//! consensus, signals. Shown only when stderr is a terminal and `--quiet` is not given, so
//! pipes, files and tests never see it and stdout stays byte-identical.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The progress display of one run (inert when hidden).
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A spinner on stderr when `enabled` and stderr is a terminal; otherwise nothing.
    pub fn new(enabled: bool) -> Self {
        let bar = (enabled && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template("{spinner} {elapsed} {msg}") {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Progress { bar }
    }

    /// A progress display that never shows (library callers, tests).
    pub fn hidden() -> Self {
        Progress { bar: None }
    }

    /// Announce the stage now running.
    pub fn stage(&self, name: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!("{name}…"));
        }
    }

    /// Remove the line before the report is printed.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}
