use super::*;
use lantian_core::time::label;

/// Every series comes back bit for bit: nulls inside a station's run of
/// hours, hours no series has (a new run), an auditor's invalidations,
/// stations spanning row groups, and a station filter.
#[test]
fn read_restores_every_series_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let key = MonthKey { year: 2019, month: 3 };
    let mut p = Partition::empty(key);
    let mut c = MergeCounts::default();
    let mut x = 7u64;
    for st in 0..400 {
        let name = format!("{:04}A", 1000 + st);
        let slot = p.station_slot(&name);
        for (k, kind) in Kind::ALL.iter().enumerate() {
            for off in 0..p.len {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let r = (x >> 33) % 100;
                // Station 3 has no hours 100..200 at all; others lose a
                // few cells; the first 360 stations have no last kind (a
                // row group whose column is all null).
                if (st == 3 && (100..200).contains(&off)) || r < 5 || (st < 360 && k == Kind::ALL.len() - 1) {
                    continue;
                }
                let v = if r == 5 && st % 7 == 0 { INVALIDATED } else { ((x >> 40) % 5000) as f64 / 10.0 + k as f64 };
                p.merge_at(slot, p.start + off as i64, *kind, v, &mut c);
            }
        }
    }
    let path = dir.path().join("m.parquet");
    p.clone().write(&path).unwrap();
    // Blocks from the pool hold an earlier month's values: a reader that
    // takes them unfilled must leave none behind.
    let dirty_pool = || {
        let mut junk = Partition::empty(key);
        for i in 0..400 {
            let slot = junk.station_slot(&format!("J{i}"));
            junk.values[slot].fill(1234.5);
        }
        junk.recycle();
    };
    dirty_pool();
    let q = Partition::read(key, &path, &Kind::ALL, None).unwrap();
    let bits = |s: &[f64]| s.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    for name in p.stations() {
        for kind in Kind::ALL {
            assert_eq!(bits(p.series(name, kind).unwrap()), bits(q.series(name, kind).unwrap()), "{name} {kind:?}");
        }
    }
    // Read straight from the pages, the same month as through Arrow.
    dirty_pool();
    let direct = Partition::read_pages(key, &path, &Kind::ALL, None, None).unwrap().expect("the store's own pages");
    let arrow = Partition::read_arrow(key, &path, &Kind::ALL, None, None).unwrap();
    assert_eq!(direct.stations(), arrow.stations());
    for name in p.stations() {
        for kind in Kind::ALL {
            assert_eq!(bits(direct.series(name, kind).unwrap()), bits(arrow.series(name, kind).unwrap()));
        }
    }
    // A window of labels: those alone, the same through either reader;
    // clamped to the month.
    for (from, len) in [(p.start + 100, 48), (p.start, 1), (p.start + 3, 1), (p.start + p.len as i64 - 5, 30)] {
        dirty_pool();
        let w = Partition::read_labels(key, &path, &Kind::ALL, None, from, len).unwrap();
        let arrow = Partition::read_arrow(key, &path, &Kind::ALL, None, Some((w.start, w.len))).unwrap();
        let len = len.min((p.start + p.len as i64 - from) as usize);
        assert_eq!((w.start, w.len), (from, len));
        let at = (from - p.start) as usize;
        for name in p.stations() {
            for kind in Kind::ALL {
                let want = bits(&p.series(name, kind).unwrap()[at..at + len]);
                assert_eq!(bits(w.series(name, kind).unwrap()), want, "{name} {kind:?} {from} {len}");
                // Arrow's row filter leaves out a station without rows there: all missing.
                let nan = vec![f64::NAN; len];
                let got = arrow.series(name, kind).unwrap_or(&nan);
                assert_eq!(bits(got), want, "{name} {kind:?} {from} {len}");
            }
        }
    }
    // A file of the general writer (what other tools write: PLAIN
    // fallback pages, its own page sizes) reads the same either way.
    let general = dir.path().join("general.parquet");
    write_parquet(&general, &batch_of(&p)).unwrap();
    let arrow = Partition::read_arrow(key, &general, &Kind::ALL, None, None).unwrap();
    let direct = Partition::read_pages(key, &general, &Kind::ALL, None, None).unwrap().expect("v1 dictionary pages");
    for name in p.stations() {
        for kind in Kind::ALL {
            assert_eq!(bits(p.series(name, kind).unwrap()), bits(arrow.series(name, kind).unwrap()));
            assert_eq!(bits(p.series(name, kind).unwrap()), bits(direct.series(name, kind).unwrap()));
        }
    }
    // PLAIN pages (no dictionary) are read straight too; v2 pages go
    // through Arrow.
    for v2 in [false, true] {
        let plain = dir.path().join(format!("plain{v2}.parquet"));
        let version = if v2 {
            parquet::file::properties::WriterVersion::PARQUET_2_0
        } else {
            parquet::file::properties::WriterVersion::PARQUET_1_0
        };
        let props = WriterProperties::builder().set_dictionary_enabled(false).set_writer_version(version).build();
        let mut w = ArrowWriter::try_new(File::create(&plain).unwrap(), Partition::schema(), Some(props)).unwrap();
        w.write(&batch_of(&p)).unwrap();
        w.close().unwrap();
        assert_eq!(Partition::read_pages(key, &plain, &Kind::ALL, None, None).unwrap().is_some(), !v2);
        let back = Partition::read(key, &plain, &Kind::ALL, None).unwrap();
        for name in p.stations() {
            for kind in Kind::ALL {
                assert_eq!(bits(p.series(name, kind).unwrap()), bits(back.series(name, kind).unwrap()));
            }
        }
    }
    let odd = |s: &str| s.ends_with("1A") || s == "1003A";
    let r = Partition::read(key, &path, &[Kind::Pm25, Kind::Co], Some(&odd)).unwrap();
    assert_eq!(r.stations().len(), 41);
    for name in r.stations() {
        for kind in [Kind::Pm25, Kind::Co] {
            assert_eq!(bits(p.series(name, kind).unwrap()), bits(r.series(name, kind).unwrap()), "{name} {kind:?}");
        }
    }
}

/// A month as one Arrow batch, every station-hour a row (the general
/// writer's input): a missing value null, an invalidation a present NaN.
fn batch_of(p: &Partition) -> RecordBatch {
    let (mut names, mut times) = (Vec::new(), Vec::new());
    let mut columns: Vec<Vec<Option<f64>>> = vec![Vec::new(); N_KINDS];
    for (slot, name) in p.stations.iter().enumerate() {
        for off in 0..p.len {
            names.push(name.as_str());
            times.push(label_to_millis(p.start + off as i64));
            for (k, column) in columns.iter_mut().enumerate() {
                let v = p.values[slot][k * p.len + off];
                column.push(if v == INVALIDATED { Some(f64::NAN) } else { (!v.is_nan()).then_some(v) });
            }
        }
    }
    let mut arrays: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(names)),
        Arc::new(TimestampMillisecondArray::from(times).with_timezone("+08:00")),
    ];
    arrays.extend(columns.into_iter().map(|c| Arc::new(Float64Array::from(c)) as ArrayRef));
    RecordBatch::try_new(Partition::schema(), arrays).unwrap()
}

/// Damaged pages (bytes changed anywhere between the magic and the
/// footer) are never a panic: the pages reader gives up (then the Arrow
/// reader decides), or reads what the bytes say.
#[test]
fn damaged_pages_are_no_panic() {
    let dir = tempfile::tempdir().unwrap();
    let key = MonthKey { year: 2019, month: 4 };
    let mut p = Partition::empty(key);
    let mut c = MergeCounts::default();
    for st in 0..30 {
        let slot = p.station_slot(&format!("{:04}A", 2000 + st));
        for off in (0..p.len).filter(|o| (o + st) % 11 != 0) {
            let v = ((off * 7 + st * 13) % 300) as f64 / if st % 3 == 0 { 10.0 } else { 1.0 };
            p.merge_at(slot, p.start + off as i64, Kind::ALL[(off + st) % N_KINDS], v, &mut c);
        }
    }
    let path = dir.path().join("m.parquet");
    p.write(&path).unwrap();
    let good = std::fs::read(&path).unwrap();
    let footer = u32::from_le_bytes(good[good.len() - 8..good.len() - 4].try_into().unwrap()) as usize;
    let body = 4..good.len() - 8 - footer;
    let mut x = 77u64;
    let mut next = || {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (x >> 33) as usize
    };
    let bad = dir.path().join("bad.parquet");
    for round in 0..1500 {
        let mut bytes = good.clone();
        for _ in 0..1 + next() % 6 {
            let at = body.start + next() % body.len();
            bytes[at] = match next() % 3 {
                0 => bytes[at] ^ (1 << (next() % 8)),
                1 => 0xff,
                _ => next() as u8,
            };
        }
        std::fs::write(&bad, &bytes).unwrap();
        let read = std::panic::catch_unwind(|| Partition::read_pages(key, &bad, &Kind::ALL, None, None));
        assert!(read.is_ok(), "round {round}: the pages reader panicked");
    }
}

#[test]
fn write_read_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let key = MonthKey { year: 2019, month: 2 };
    let mut p = Partition::empty(key);
    let mut c = MergeCounts::default();
    let d = jiff::civil::date(2019, 2, 28);
    p.merge("1431A", label(d, 23), Kind::Pm25, 35.0, &mut c);
    p.merge("1431A", label(d, 23), Kind::Co, 1.2, &mut c);
    p.merge("0001A", label(jiff::civil::date(2019, 2, 1), 0), Kind::Aqi, 50.0, &mut c);
    p.merge("1431A", label(d, 23), Kind::Pm25, 36.0, &mut c);
    p.merge("1431A", label(d, 23), Kind::Co, 1.2, &mut c);
    assert_eq!(c, MergeCounts { imported: 3, revised: 1, unchanged: 1 });
    let path = dir.path().join("p.parquet");
    p.write(&path).unwrap();
    let q = Partition::read(key, &path, &Kind::ALL, None).unwrap();
    assert_eq!(q.series("1431A", Kind::Pm25).unwrap()[(label(d, 23) - q.start) as usize], 36.0);
    assert_eq!(q.series("1431A", Kind::Co).unwrap()[(label(d, 23) - q.start) as usize], 1.2);
    assert_eq!(q.series("0001A", Kind::Aqi).unwrap()[0], 50.0);
    assert_eq!(q.n_values(), 3);
    // Kinds requested out of file order come back under the right names.
    let sub = Partition::read(key, &path, &[Kind::Co, Kind::Pm25], None).unwrap();
    assert_eq!(sub.series("1431A", Kind::Pm25).unwrap()[(label(d, 23) - q.start) as usize], 36.0);
    assert_eq!(sub.series("1431A", Kind::Co).unwrap()[(label(d, 23) - q.start) as usize], 1.2);
    let only = |s: &str| s == "0001A";
    let r = Partition::read(key, &path, &[Kind::Aqi], Some(&only)).unwrap();
    assert_eq!(r.stations(), ["0001A".to_string()]);
    assert_eq!(MonthKey::parse("2019-02"), Some(key));
    assert_eq!(key.next().next().name(), "2019-04");
    // The first hour alone: only label `start` of each station, nothing else.
    let head = Partition::read_labels(key, &path, &[Kind::Aqi, Kind::Pm25], None, key.label_range().0, 1).unwrap();
    assert_eq!(head.series("0001A", Kind::Aqi).unwrap()[0], 50.0);
    assert!(head.series("1431A", Kind::Pm25).unwrap().iter().all(|v| v.is_nan()));
    assert_eq!(head.n_values(), 1);
    assert_eq!((head.start, head.len), (q.start, 1));
}
