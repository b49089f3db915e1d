//! JSON renderer: the report's own `Serialize`, pretty-printed, newline-terminated.

use std::io::{self, Write};

use serde::Serialize;

/// Write any report value as pretty JSON followed by a newline.
pub fn render<T: Serialize>(value: &T, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)
}
