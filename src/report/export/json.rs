//! JSON exporter: the report's own `Serialize`, pretty-printed, newline-terminated. The data
//! model does the work; this file only picks the layout.

use std::io::{self, Write};

use serde::Serialize;

use super::{Document, Exporter};

/// Write any report value as pretty JSON followed by a newline.
pub fn render<T: Serialize>(value: &T, out: &mut dyn Write) -> io::Result<()> {
    // serde_json writes token by token: buffer them here, where the writer's type is known,
    // so only whole blocks go through the dynamic `out`.
    let mut out = io::BufWriter::with_capacity(1 << 16, out);
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    out.flush()
}

/// `--export-json`.
pub struct JsonExporter;

impl Exporter for JsonExporter {
    fn export(&self, doc: &Document, out: &mut dyn Write) -> io::Result<()> {
        match doc {
            Document::Agreement(r) => render(r, out),
            Document::Audit(r) => render(r, out),
            Document::Dispute(r) => render(r, out),
        }
    }
}
