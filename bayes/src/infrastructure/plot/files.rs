//! The graphs directory: for the model `default`, `posterior.png` (always
//! the latest) and the bounded `n_{n}_w_{w}.png` snapshots, as the original;
//! for any other model, `<name>/posterior.png`. Every file is written under
//! a temporary name and renamed into place, so a viewer never sees half a PNG.

use super::render_png;
use crate::application::plot::PlotData;
use crate::application::render::PlotSink;
use crate::application::{Cause, PortError};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The latest plot's file name.
pub const LATEST: &str = "posterior.png";

/// Writes plots into a directory.
pub struct PngDirectory {
    dir: PathBuf,
    snapshots_keep: usize,
}

impl PngDirectory {
    /// Creates `dir` if needed and checks it is writable; keeps at most
    /// `snapshots_keep` snapshots (0: none).
    ///
    /// # Errors
    /// The I/O error, if the directory cannot be created or written.
    pub fn open(dir: &Path, snapshots_keep: usize) -> std::io::Result<Self> {
        fs::create_dir_all(dir)?;
        // Proves the directory writable before any work.
        tempfile::NamedTempFile::new_in(dir)?;
        Ok(Self {
            dir: dir.to_owned(),
            snapshots_keep,
        })
    }

    /// Writes `bytes` to `dir/name` atomically: a temporary file in the same
    /// directory (removed if anything fails), then a rename over the old one.
    fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
        let prefix = format!(".{name}.");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(".tmp");
        #[cfg(unix)]
        {
            // Readable by all, as any image file (tempfile's default is 0600).
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(fs::Permissions::from_mode(0o644));
        }
        let mut temp = builder.tempfile_in(dir)?;
        temp.write_all(bytes)?;
        temp.persist(dir.join(name)).map_err(|e| e.error)?;
        Ok(())
    }

    /// Where `model`'s plots go: the directory itself for `default`.
    fn model_dir(&self, model: &str) -> PathBuf {
        if model == "default" {
            self.dir.clone()
        } else {
            // Model names are `[A-Za-z0-9][A-Za-z0-9_.-]*`: no separators, no `..`.
            self.dir.join(model)
        }
    }

    /// Removes the oldest snapshots beyond the bound.
    fn prune_snapshots(&self) -> std::io::Result<()> {
        // Oldest first: by modification time, then by n for files written in the same tick.
        let mut snapshots: Vec<(std::time::SystemTime, u64, PathBuf)> = fs::read_dir(&self.dir)?
            .filter_map(Result::ok)
            .filter_map(|entry| {
                let n = snapshot_n(&entry.file_name().to_string_lossy())?;
                Some((entry.metadata().ok()?.modified().ok()?, n, entry.path()))
            })
            .collect();
        if snapshots.len() <= self.snapshots_keep {
            return Ok(());
        }
        snapshots.sort();
        let excess = snapshots.len() - self.snapshots_keep;
        for (_, _, path) in snapshots.into_iter().take(excess) {
            // Another instance sharing the directory may have removed it first.
            match fs::remove_file(&path) {
                Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(error),
                _ => {}
            }
        }
        Ok(())
    }
}

/// The `n` of a snapshot file name, `n_{n}_w_{w}.png`; `None` for other files.
fn snapshot_n(name: &str) -> Option<u64> {
    let (n, w) = name
        .strip_prefix("n_")?
        .strip_suffix(".png")?
        .split_once("_w_")?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if digits(n) && digits(w) {
        n.parse().ok()
    } else {
        None
    }
}

/// The snapshot file name of a state, as the original named them.
#[must_use]
pub fn snapshot_name(n: u64, w: u64) -> String {
    format!("n_{n}_w_{w}.png")
}

impl PlotSink for PngDirectory {
    fn draw(&self, model: &str, plot: &PlotData) -> Result<(), PortError> {
        let png = render_png(plot).map_err(|e| PortError::Failed(Cause::new(e)))?;
        let dir = self.model_dir(model);
        let io = |e: std::io::Error| {
            PortError::Failed(format!("cannot write to {}: {e}", dir.display()).into())
        };
        fs::create_dir_all(&dir).map_err(io)?;
        Self::write_atomically(&dir, LATEST, &png).map_err(io)?;
        if model == "default" && self.snapshots_keep > 0 {
            let snapshot = snapshot_name(plot.counts.n(), plot.counts.w());
            Self::write_atomically(&dir, &snapshot, &png).map_err(io)?;
            self.prune_snapshots().map_err(io)?;
        }
        Ok(())
    }

    fn remove(&self, model: &str) -> Result<(), PortError> {
        if model == "default" {
            return Ok(());
        }
        match fs::remove_dir_all(self.model_dir(model)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(PortError::Failed(
                format!("cannot remove the plots of {model}: {e}").into(),
            )),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{Counts, ModelDefinition};

    fn plot(w: u64, n: u64) -> PlotData {
        PlotData::new(ModelDefinition::default(), Counts::new(w, n).unwrap()).unwrap()
    }

    fn decode(path: &Path) -> (u32, u32, Vec<u8>) {
        let decoder = png::Decoder::new(std::io::BufReader::new(fs::File::open(path).unwrap()));
        let mut reader = decoder.read_info().unwrap();
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut pixels).unwrap();
        pixels.truncate(info.buffer_size());
        (info.width, info.height, pixels)
    }

    #[test]
    fn the_latest_plot_is_a_real_png_that_is_not_blank() {
        let dir = tempfile::tempdir().unwrap();
        let graphs = PngDirectory::open(dir.path(), 10).unwrap();
        graphs.draw("default", &plot(6, 9)).unwrap();

        let (width, height, pixels) = decode(&dir.path().join(LATEST));
        assert_eq!((width, height), (900, 600));
        let non_white = pixels.chunks(3).filter(|px| px != &[255, 255, 255]).count();
        assert!(non_white > 5_000, "only {non_white} drawn pixels");
        let blue = pixels.chunks(3).filter(|px| px == &[31, 119, 180]).count();
        assert!(blue > 500, "the posterior curve is drawn ({blue} pixels)");
        assert!(dir.path().join("n_9_w_6.png").exists());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join(LATEST))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o644, "readable by all, as v1 wrote it");
        }
    }

    #[test]
    fn a_narrow_posterior_adds_the_close_up_panel() {
        let dir = tempfile::tempdir().unwrap();
        let graphs = PngDirectory::open(dir.path(), 0).unwrap();
        graphs
            .draw("default", &plot(7_000_000, 10_000_000))
            .unwrap();
        let (width, height, _) = decode(&dir.path().join(LATEST));
        assert_eq!((width, height), (900, 960));
        assert!(
            !dir.path().join("n_10000000_w_7000000.png").exists(),
            "snapshots off"
        );
    }

    #[test]
    fn snapshots_are_kept_to_the_bound_oldest_removed() {
        let dir = tempfile::tempdir().unwrap();
        let graphs = PngDirectory::open(dir.path(), 3).unwrap();
        for n in 1..=6u64 {
            graphs.draw("default", &plot(n / 2, n)).unwrap();
            // Distinct modification times even on coarse file systems.
            std::thread::sleep(std::time::Duration::from_millis(15));
        }
        let mut names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            ["n_4_w_2.png", "n_5_w_2.png", "n_6_w_3.png", "posterior.png"]
        );
    }

    #[test]
    fn a_replace_is_atomic_and_leaves_no_temporary_files() {
        let dir = tempfile::tempdir().unwrap();
        let graphs = std::sync::Arc::new(PngDirectory::open(dir.path(), 0).unwrap());
        graphs.draw("default", &plot(1, 2)).unwrap();
        let writer = {
            let graphs = graphs.clone();
            std::thread::spawn(move || {
                for n in 3..40u64 {
                    graphs.draw("default", &plot(n / 2, n)).unwrap();
                }
            })
        };
        // A reader racing the writer only ever sees complete PNGs.
        while !writer.is_finished() {
            let bytes = fs::read(dir.path().join(LATEST)).unwrap();
            let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
            let mut reader = decoder.read_info().expect("a complete PNG header");
            let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
            reader.next_frame(&mut pixels).expect("a complete PNG");
        }
        writer.join().unwrap();
        let leftovers: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .ends_with(".tmp")
            })
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn an_unwritable_directory_is_refused_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("not-a-dir");
        fs::write(&file, b"").unwrap();
        assert!(PngDirectory::open(&file, 1).is_err());
    }

    #[test]
    fn only_snapshot_names_are_pruned() {
        assert_eq!(snapshot_n("n_10_w_3.png"), Some(10));
        assert_eq!(snapshot_n("posterior.png"), None);
        assert_eq!(snapshot_n("n_x_w_3.png"), None);
        assert_eq!(snapshot_n("n_1_w_.png"), None);
    }
}
