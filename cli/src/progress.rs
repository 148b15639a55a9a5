//! Progress bars on the terminal: one per file and a total, with speed and ETA; none when
//! stdout is not a terminal (a script, a pipe) or with `--quiet`.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The bars of one command.
pub struct Progress {
    bars: MultiProgress,
    total: ProgressBar,
    /// Whether the total has a bar of its own (not for one file: it would repeat the file's).
    total_shown: bool,
}

impl Progress {
    pub fn new(visible: bool, files: usize, total_bytes: u64) -> Self {
        let bars = MultiProgress::with_draw_target(match visible {
            true => ProgressDrawTarget::stderr(),
            false => ProgressDrawTarget::hidden(),
        });
        let total_shown = files > 1;
        let total = match total_shown {
            true => bars.add(ProgressBar::new(total_bytes)),
            false => ProgressBar::hidden(),
        };
        total.set_style(style(
            "{msg:>24} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
        ));
        total.set_message("total");
        Self {
            bars,
            total,
            total_shown,
        }
    }

    /// A bar for one file of `size` bytes, above the total.
    pub fn file(&self, name: &str, size: u64) -> Meter {
        let bar = match self.total_shown {
            true => self.bars.insert_before(&self.total, ProgressBar::new(size)),
            false => self.bars.add(ProgressBar::new(size)),
        };
        bar.set_style(style(match self.total_shown {
            true => "{msg:>24} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
            false => "{msg:>24} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
        }));
        let short: String = name.chars().take(24).collect();
        bar.set_message(short);
        Meter {
            file: bar,
            total: self.total.clone(),
        }
    }

    /// Prints a line above the bars (a finished file), on stdout.
    pub fn println(&self, line: &str) {
        // The bars step aside while the line goes to stdout, and redraw below it.
        self.bars.suspend(|| println!("{line}"));
    }

    pub fn finish(&self) {
        self.total.finish_and_clear();
    }
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

/// Counts the bytes of one file into its bar and the total.
#[derive(Clone)]
pub struct Meter {
    file: ProgressBar,
    total: ProgressBar,
}

impl Meter {
    pub fn add(&self, n: u64) {
        self.file.inc(n);
        self.total.inc(n);
    }

    /// Takes back bytes of an attempt that failed and is sent again.
    pub fn take_back(&self, n: u64) {
        self.file.dec(n);
        self.total.dec(n);
    }

    /// Counts what S3 already holds (a resumed upload) without sending it.
    pub fn skip(&self, n: u64) {
        self.add(n);
    }

    /// Starts the file's count again from nothing (its bytes are fetched anew).
    pub fn restart(&self) {
        self.take_back(self.file.position());
    }

    /// Every byte is sent and the API is still reading the file to check its SHA-256 (a large
    /// multipart file): the bar becomes a spinner with the time spent.
    pub fn verifying(&self) {
        self.file.set_style(
            ProgressStyle::with_template(
                "{msg:>24} {spinner} the API is checking its SHA-256 ({elapsed})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        self.file.reset_elapsed();
        self.file
            .enable_steady_tick(std::time::Duration::from_millis(200));
    }

    pub fn done(&self) {
        self.file.finish_and_clear();
    }
}
