//! Writing output files atomically: a reader (a payout pipeline, a browser) never sees a
//! half-written export, because the bytes go to a temporary file in the same folder that
//! is renamed over the target only once complete.

use std::io::{self, Write};
use std::path::Path;

use crate::error::{Error, Result};

/// Write `path` through `fill`, atomically (temp file in the same folder + rename). On any
/// error the temporary file is removed and `path` is left as it was.
pub fn write_atomic(path: &Path, fill: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
    // Same folder as the target, so the final rename never crosses a file system.
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::io(path, e))?;
    {
        let mut buf = io::BufWriter::new(tmp.as_file_mut());
        fill(&mut buf)?;
        buf.flush().map_err(|e| Error::io(path, e))?;
    }
    // A temp file is private (0600); an export is a normal file that others may read.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644))
            .map_err(|e| Error::io(path, e))?;
    }
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}
