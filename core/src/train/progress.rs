//! Keras-style progress output: a live bar on a terminal, one line per epoch otherwise.

use std::format;
use std::io::{IsTerminal, Write};
use std::println;
use std::string::String;
use std::time::{Duration, Instant};

use super::{Logs, Verbosity};

const BAR: usize = 20;

pub(crate) struct Progress {
    live: bool,
    silent: bool,
    steps: usize,
    start: Instant,
    last_draw: Option<Instant>,
}

impl Progress {
    pub(crate) fn new(verbose: Verbosity) -> Self {
        let tty = std::io::stdout().is_terminal();
        let (live, silent) = match verbose {
            Verbosity::Silent => (false, true),
            Verbosity::Auto => (tty, false),
            Verbosity::ProgressBar => (true, false),
            Verbosity::OneLinePerEpoch => (false, false),
        };
        Progress {
            live,
            silent,
            steps: 0,
            start: Instant::now(),
            last_draw: None,
        }
    }

    /// Whether a live bar is drawn (so that running logs are worth computing).
    pub(crate) fn is_live(&self) -> bool {
        self.live && !self.silent
    }

    pub(crate) fn epoch_begin(&mut self, epoch: usize, epochs: usize, steps: usize) {
        self.steps = steps;
        self.start = Instant::now();
        self.last_draw = None;
        if !self.silent {
            println!("Epoch {}/{}", epoch + 1, epochs);
        }
    }

    /// Redraws the bar at most every 100 ms.
    pub(crate) fn step(&mut self, done: usize, logs: &Logs) {
        if !self.live || self.silent {
            return;
        }
        let now = Instant::now();
        if self
            .last_draw
            .is_some_and(|t| now - t < Duration::from_millis(100))
            && done < self.steps
        {
            return;
        }
        self.last_draw = Some(now);
        let line = self.line(done, logs, true);
        let mut out = std::io::stdout().lock();
        let _ = write!(out, "\r{line}\x1b[K");
        let _ = out.flush();
    }

    pub(crate) fn epoch_end(&mut self, logs: &Logs) {
        if self.silent {
            return;
        }
        let line = self.line(self.steps, logs, self.live);
        let mut out = std::io::stdout().lock();
        if self.live {
            let _ = writeln!(out, "\r{line}\x1b[K");
        } else {
            let _ = writeln!(out, "{line}");
        }
        let _ = out.flush();
    }

    fn line(&self, done: usize, logs: &Logs, bar: bool) -> String {
        let elapsed = self.start.elapsed();
        let per_step = if done > 0 {
            elapsed / done as u32
        } else {
            Duration::ZERO
        };
        let head = if bar {
            let filled = (done * BAR).checked_div(self.steps).unwrap_or(BAR);
            format!(
                "{done}/{} {}{}",
                self.steps,
                "━".repeat(filled),
                " ".repeat(BAR - filled)
            )
        } else {
            format!("{done}/{}", self.steps)
        };
        let sep = if bar { " " } else { " - " };
        let logs = if logs.iter().next().is_some() {
            format!(" - {logs}")
        } else {
            String::new()
        };
        format!(
            "{head}{sep}{}s{sep}{}/step{logs}",
            elapsed.as_secs(),
            step_time(per_step)
        )
    }
}

fn step_time(d: Duration) -> String {
    let us = d.as_micros();
    if us >= 1_000_000 {
        format!("{}s", us / 1_000_000)
    } else if us >= 1_000 {
        format!("{}ms", us / 1_000)
    } else {
        format!("{us}us")
    }
}
