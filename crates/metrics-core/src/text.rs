//! The Prometheus text format 0.0.4: one metric family is a `# HELP` line,
//! a `# TYPE` line and its samples, `name{label="value",...} number`.
//! <https://prometheus.io/docs/instrumenting/exposition_formats/>

use std::fmt::Write as _;

/// One metric family being written: samples follow its HELP and TYPE lines,
/// so a family can never appear without them.
pub struct Family<'a> {
    out: &'a mut String,
    name: &'a str,
}

impl<'a> Family<'a> {
    /// Starts a gauge family (every series of docs/CONTRACT.md "Metrics" is a gauge).
    pub fn gauge(out: &'a mut String, name: &'a str, help: &str) -> Self {
        Self::typed(out, name, help, "gauge")
    }

    /// Starts a counter family: a `_total` series that only goes up (a
    /// reset is read by Prometheus' `rate()` as a restart).
    pub fn counter(out: &'a mut String, name: &'a str, help: &str) -> Self {
        Self::typed(out, name, help, "counter")
    }

    fn typed(out: &'a mut String, name: &'a str, help: &str, kind: &str) -> Self {
        let _ = writeln!(out, "# HELP {name} {}", escape_help(help));
        let _ = writeln!(out, "# TYPE {name} {kind}");
        Family { out, name }
    }

    /// One sample; `labels` are `(name, value)` pairs, values escaped here.
    pub fn sample(&mut self, labels: &[(&str, &str)], value: f64) -> &mut Self {
        self.out.push_str(self.name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (name, value)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                let _ = write!(self.out, "{name}=\"{}\"", escape_label_value(value));
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {}", format_value(value));
        self
    }
}

/// HELP text: a backslash and a line feed must be escaped (`\\`, `\n`),
/// or a scraper would read the rest of the line as something else.
pub fn escape_help(text: &str) -> String {
    text.replace('\\', r"\\").replace('\n', r"\n")
}

/// A label value: backslash, double quote and line feed escaped; label
/// values come from table rows (a rejected event's topic and reason).
pub fn escape_label_value(value: &str) -> String {
    value
        .replace('\\', r"\\")
        .replace('"', "\\\"")
        .replace('\n', r"\n")
}

/// A sample value as Prometheus parses it: integers without a fraction,
/// `NaN`, `+Inf` and `-Inf` spelled its way.
pub fn format_value(value: f64) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else if value == value.trunc() && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

#[cfg(test)]
mod tests;
