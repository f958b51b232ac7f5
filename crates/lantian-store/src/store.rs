//! The manifest and atomic commits.

use crate::city_daily::CityDay;
use crate::kinds::Kind;
use crate::partition::{MonthKey, Partition};
use crate::stations::Station;
use crate::{Error, Result};
use lantian_core::time::HourLabel;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

const MANIFEST: &str = "manifest.json";
/// Version 2 added the audited layer (`audited`); version 1 stores open as
/// version 2 stores without it and are written as version 2 by the next import.
const FORMAT_VERSION: u32 = 2;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Manifest {
    pub version: u32,
    pub generation: u64,
    /// Month ("2019-01") → file relative to the data directory.
    pub hourly: BTreeMap<String, String>,
    /// The audited layer: month → file, the same columns; a null is "not
    /// covered", a NaN an auditor's invalidation.
    #[serde(default)]
    pub audited: BTreeMap<String, String>,
    pub city_daily: Option<String>,
    pub stations: Option<String>,
}

/// Which values a reader sees.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Values {
    /// Audited values where the audited layer covers a station-hour, raw elsewhere.
    #[default]
    Best,
    /// The raw (real-time) layer only, as if nothing audited had been imported.
    Raw,
}

impl std::str::FromStr for Values {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Values, String> {
        match s {
            "best" => Ok(Values::Best),
            "raw" => Ok(Values::Raw),
            _ => Err(format!("'{s}': best or raw")),
        }
    }
}

impl Values {
    pub fn key(self) -> &'static str {
        match self {
            Values::Best => "best",
            Values::Raw => "raw",
        }
    }
}

/// A month's station days as `Store::stored_days` finds them.
pub(crate) enum StoredDays {
    /// The store has no hourly data for the month.
    Absent,
    Days(crate::partition::days::MonthDays),
    /// Only the hours say (no stored days, or an audited layer over them).
    Hours,
}

/// One of the two layers of hourly data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layer {
    Raw,
    Audited,
}

/// A read-only view of one committed generation of the store.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) dir: PathBuf,
    pub(crate) manifest: Manifest,
    stations: Vec<Station>,
    values: Values,
    /// Whether months' stored days stand for their hours where they can
    /// (`partition::days`; `LANTIAN_STORED_DAYS=0` or `hours_only` reads
    /// the hours: the same values, for comparing the two ways).
    stored_days: bool,
    /// Station-hours read through this handle (and its clones), by layer.
    used: std::sync::Arc<std::sync::Mutex<crate::partition::ValuesUsed>>,
}

impl Store {
    /// Open the store in `dir`. A directory without a manifest is an empty
    /// store (nothing imported yet).
    pub fn open(dir: &Path) -> Result<Store> {
        let path = dir.join(MANIFEST);
        let manifest = match fs::read(&path) {
            Ok(bytes) => {
                let m: Manifest = serde_json::from_slice(&bytes)
                    .map_err(|e| Error::Store(format!("{}: unreadable manifest: {e}", path.display())))?;
                if m.version != FORMAT_VERSION && m.version != 1 {
                    return Err(Error::Store(format!(
                        "{}: store format {} is not supported by this lantian (expects {FORMAT_VERSION})",
                        path.display(),
                        m.version
                    )));
                }
                m
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Manifest { version: FORMAT_VERSION, ..Default::default() }
            }
            Err(e) => return Err(Error::io(&path, e)),
        };
        let stations = match &manifest.stations {
            Some(f) => {
                let p = dir.join(f);
                let bytes = fs::read(&p).map_err(|e| Error::io(&p, e))?;
                serde_json::from_slice(&bytes).map_err(|e| Error::Store(format!("{}: {e}", p.display())))?
            }
            None => Vec::new(),
        };
        let stored_days = std::env::var_os("LANTIAN_STORED_DAYS").is_none_or(|v| v != "0");
        Ok(Store {
            dir: dir.to_path_buf(),
            manifest,
            stations,
            values: Values::default(),
            stored_days,
            used: Default::default(),
        })
    }

    pub(crate) fn reads_stored_days(&self) -> bool {
        self.stored_days
    }

    /// The same generation, its station days always computed from the hours.
    pub fn hours_only(mut self) -> Store {
        self.stored_days = false;
        self
    }

    /// The same generation, read with `values`.
    pub fn with_values(mut self, values: Values) -> Store {
        self.values = values;
        self
    }

    pub fn values(&self) -> Values {
        self.values
    }

    /// How many station-hours the days computed through this handle came
    /// from each layer (`query::station_days` counts them).
    pub fn used(&self) -> crate::partition::ValuesUsed {
        self.used.lock().map(|u| *u).unwrap_or_default()
    }

    pub(crate) fn count(&self, u: crate::partition::ValuesUsed) {
        if let Ok(mut t) = self.used.lock() {
            *t += u;
        }
    }

    /// Whether any audited month is stored.
    pub fn has_audited(&self) -> bool {
        !self.manifest.audited.is_empty()
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn generation(&self) -> u64 {
        self.manifest.generation
    }

    pub fn stations(&self) -> &[Station] {
        &self.stations
    }

    pub fn station(&self, code: &str) -> Option<&Station> {
        self.stations.iter().find(|s| s.code == code)
    }

    /// Months with hourly data (of either layer the reader sees), ascending.
    pub fn months(&self) -> Vec<MonthKey> {
        let mut keys: Vec<MonthKey> = self.manifest.hourly.keys().filter_map(|k| MonthKey::parse(k)).collect();
        if self.values == Values::Best {
            keys.extend(self.manifest.audited.keys().filter_map(|k| MonthKey::parse(k)));
            keys.sort();
            keys.dedup();
        }
        keys
    }

    /// Read one month as the reader's `values` see it, only the given kinds
    /// and the stations `filter` keeps: the raw layer with the audited one
    /// laid over it (`Values::Best`), or the raw layer alone.
    pub fn read_month(
        &self,
        key: MonthKey,
        kinds: &[Kind],
        filter: Option<&dyn Fn(&str) -> bool>,
    ) -> Result<Option<Partition>> {
        self.read_month_rows(key, kinds, filter, None)
    }

    /// `read_month` of labels `from..from + len` only (see `Partition::read_labels`).
    pub fn read_month_labels(
        &self,
        key: MonthKey,
        kinds: &[Kind],
        filter: Option<&dyn Fn(&str) -> bool>,
        from: HourLabel,
        len: usize,
    ) -> Result<Option<Partition>> {
        self.read_month_rows(key, kinds, filter, Some((from, len)))
    }

    fn read_month_rows(
        &self,
        key: MonthKey,
        kinds: &[Kind],
        filter: Option<&dyn Fn(&str) -> bool>,
        window: Option<(HourLabel, usize)>,
    ) -> Result<Option<Partition>> {
        let raw = self.read_layer_rows(Layer::Raw, key, kinds, filter, window)?;
        if self.values == Values::Raw {
            return Ok(raw);
        }
        let Some(audited) = self.read_layer_rows(Layer::Audited, key, kinds, filter, window)? else {
            return Ok(raw);
        };
        let mut part = raw.unwrap_or_else(|| Partition::empty_like(&audited, kinds));
        part.overlay(&audited);
        Ok(Some(part))
    }

    /// Read one month of one layer as stored.
    pub fn read_layer(
        &self,
        layer: Layer,
        key: MonthKey,
        kinds: &[Kind],
        filter: Option<&dyn Fn(&str) -> bool>,
    ) -> Result<Option<Partition>> {
        self.read_layer_rows(layer, key, kinds, filter, None)
    }

    fn read_layer_rows(
        &self,
        layer: Layer,
        key: MonthKey,
        kinds: &[Kind],
        filter: Option<&dyn Fn(&str) -> bool>,
        window: Option<(HourLabel, usize)>,
    ) -> Result<Option<Partition>> {
        let files = match layer {
            Layer::Raw => &self.manifest.hourly,
            Layer::Audited => &self.manifest.audited,
        };
        let Some(f) = files.get(&key.name()) else { return Ok(None) };
        let path = self.dir.join(f);
        match window {
            Some((from, len)) => Partition::read_labels(key, &path, kinds, filter, from, len).map(Some),
            None => Partition::read(key, &path, kinds, filter).map(Some),
        }
    }

    /// A month's stored station days (`partition::days`) where they are
    /// what a reader of the month sees: its raw layer's, with no audited
    /// layer over it.
    pub(crate) fn stored_days(&self, key: MonthKey) -> StoredDays {
        if !self.stored_days {
            return StoredDays::Hours;
        }
        if self.values == Values::Best && self.manifest.audited.contains_key(&key.name()) {
            return StoredDays::Hours;
        }
        let Some(f) = self.manifest.hourly.get(&key.name()) else { return StoredDays::Absent };
        let path = crate::partition::days::days_path(&self.dir.join(f));
        let parsed = map(&path).and_then(|b| crate::partition::days::parse(key, b));
        // Missing (a month written before stored days) or unreadable: the hours.
        match parsed {
            Some(days) => StoredDays::Days(days),
            None => StoredDays::Hours,
        }
    }

    /// All published city daily values.
    pub fn city_daily(&self) -> Result<Vec<CityDay>> {
        match &self.manifest.city_daily {
            Some(f) => crate::city_daily::read(&self.dir.join(f)),
            None => Ok(Vec::new()),
        }
    }
}

/// A store file's bytes, mapped (read where it cannot be mapped); `None`
/// when it cannot be opened.
fn map(path: &Path) -> Option<bytes::Bytes> {
    let file = File::open(path).ok()?;
    // SAFETY: a committed store file never changes: imports write only
    // under a generation no committed manifest names yet (holding the
    // lock), and old files are only ever unlinked, which leaves a mapping
    // whole. So the bytes stay those checked.
    match unsafe { memmap2::MmapOptions::new().populate().map(&file) } {
        Ok(m) => Some(bytes::Bytes::from_owner(m)),
        Err(_) => fs::read(path).ok().map(bytes::Bytes::from),
    }
}

/// An import in progress: holds the lock, stages new files, commits them by
/// renaming the manifest.
pub(crate) struct Transaction {
    dir: PathBuf,
    _lock: File,
    pub base: Store,
    pub next: Manifest,
    staged: Vec<PathBuf>,
}

impl Transaction {
    pub fn begin(dir: &Path) -> Result<Transaction> {
        fs::create_dir_all(dir.join("hourly")).map_err(|e| Error::io(dir, e))?;
        fs::create_dir_all(dir.join("audited")).map_err(|e| Error::io(dir, e))?;
        let lock_path = dir.join("lock");
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| Error::io(&lock_path, e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(Error::Locked(dir.to_path_buf())),
            Err(fs::TryLockError::Error(e)) => return Err(Error::io(&lock_path, e)),
        }
        let base = Store::open(dir)?;
        remove_unreferenced(dir, &[&base.manifest]);
        let mut next = base.manifest.clone();
        next.generation += 1;
        next.version = FORMAT_VERSION;
        Ok(Transaction { dir: dir.to_path_buf(), _lock: lock, base, next, staged: Vec::new() })
    }

    /// A fresh path (relative, absolute) for a staged file of this generation.
    pub fn stage_path(&mut self, stem: &str, ext: &str) -> (String, PathBuf) {
        let rel = format!("{stem}.g{}.{ext}", self.next.generation);
        let abs = self.dir.join(&rel);
        self.staged.push(abs.clone());
        (rel, abs)
    }

    pub fn write_stations(&mut self, stations: &[Station]) -> Result<()> {
        let (rel, abs) = self.stage_path("stations", "json");
        let bytes = serde_json::to_vec_pretty(stations).map_err(|e| Error::Store(e.to_string()))?;
        write_synced(&abs, &bytes)?;
        self.next.stations = Some(rel);
        Ok(())
    }

    /// Make the staged generation the live one (atomic rename), then delete
    /// files the new manifest no longer references.
    pub fn commit(self) -> Result<()> {
        let tmp = self.dir.join("manifest.json.tmp");
        let bytes = serde_json::to_vec_pretty(&self.next).map_err(|e| Error::Store(e.to_string()))?;
        write_synced(&tmp, &bytes)?;
        let target = self.dir.join(MANIFEST);
        fs::rename(&tmp, &target).map_err(|e| Error::io(&target, e))?;
        if let Ok(d) = File::open(&self.dir) {
            let _ = d.sync_all();
        }
        // The generation just replaced stays until the next writer begins:
        // a reader that opened it a moment ago can still read its files.
        remove_unreferenced(&self.dir, &[&self.next, &self.base.manifest]);
        Ok(())
    }

    /// Abandon: staged files are removed (they were never referenced).
    pub fn rollback(self) {
        for p in &self.staged {
            let _ = fs::remove_file(p);
        }
    }
}

pub(crate) fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = File::create(path).map_err(|e| Error::io(path, e))?;
    f.write_all(bytes).map_err(|e| Error::io(path, e))?;
    f.sync_all().map_err(|e| Error::io(path, e))
}

/// Delete store files (generation-named) that `m` does not reference: the
/// leftovers of a killed import or of the previous generation.
/// Remove the store's files no manifest in `keep` references.
fn remove_unreferenced(dir: &Path, keep: &[&Manifest]) {
    let mut live: Vec<PathBuf> = Vec::new();
    for m in keep {
        live.extend(m.hourly.values().chain(m.audited.values()).map(|f| dir.join(f)));
        live.extend(m.hourly.values().map(|f| crate::partition::days::days_path(&dir.join(f))));
        live.extend(m.city_daily.iter().chain(m.stations.iter()).map(|f| dir.join(f)));
    }
    let candidates = [dir.to_path_buf(), dir.join("hourly"), dir.join("audited")];
    for d in candidates {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            let ours = name.contains(".g")
                && (name.ends_with(".parquet") || name.ends_with(".json") || name.ends_with(".days"))
                || name == "manifest.json.tmp";
            if ours && !live.contains(&p) {
                let _ = fs::remove_file(&p);
            }
        }
    }
}
