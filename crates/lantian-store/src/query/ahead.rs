//! Months' stored days (`partition::days`) read ahead of a reader of whole
//! days (`station_days_with`).

use crate::partition::MonthKey;
use crate::partition::days::MonthDays;
use crate::store::{Store, StoredDays};
use lantian_core::time::DayNumber;
use std::sync::Arc;

/// A month's stored days as the reader ahead found them.
#[derive(Clone)]
enum Found {
    /// The store has no hourly data for the month.
    Absent,
    /// The month is read from its hours.
    Hours,
    Days(Arc<MonthDays>),
}

impl From<StoredDays> for Found {
    fn from(s: StoredDays) -> Found {
        match s {
            StoredDays::Absent => Found::Absent,
            StoredDays::Hours => Found::Hours,
            StoredDays::Days(d) => Found::Days(Arc::new(d)),
        }
    }
}

/// Months' stored days read and checked on a thread of their own, in the
/// order a reader of consecutive months asks for them (on the reader's
/// thread, reading, checking and indexing them was a quarter of a national
/// year's assessment's CPU).
pub(crate) struct DaysAhead {
    store: Store,
    rx: Option<std::sync::mpsc::Receiver<(MonthKey, Found)>>,
    /// The last months received.
    memo: Vec<(MonthKey, Found)>,
}

impl DaysAhead {
    pub(crate) fn start(store: &Store, keys: Vec<MonthKey>) -> DaysAhead {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let ahead = store.clone();
        std::thread::spawn(move || {
            for key in keys {
                if tx.send((key, ahead.stored_days(key).into())).is_err() {
                    break;
                }
            }
        });
        DaysAhead { store: store.clone(), rx: Some(rx), memo: Vec::new() }
    }

    fn get(&mut self, key: MonthKey) -> Found {
        loop {
            if let Some((_, f)) = self.memo.iter().find(|(k, _)| *k == key) {
                return f.clone();
            }
            let item = match self.rx.as_ref().map(|rx| rx.recv()) {
                Some(Ok(item)) => item,
                // Not among the months read ahead: read here.
                _ => {
                    self.rx = None;
                    (key, self.store.stored_days(key).into())
                }
            };
            if self.memo.len() >= 3 {
                self.memo.remove(0);
            }
            self.memo.push(item);
        }
    }

    /// Month `key`'s stored days, and the next month's when day `d1` is
    /// the month's last (its first label closes that day; `None` inside
    /// when the store has no such month); `None` when either must be read
    /// from its hours.
    pub(crate) fn pair(&mut self, key: MonthKey, d1: DayNumber) -> Option<(Arc<MonthDays>, Option<Arc<MonthDays>>)> {
        // A month the store lacks: the hours path (it has nothing to decode).
        let Found::Days(cur) = self.get(key) else { return None };
        let (start, len) = key.label_range();
        let next = match d1 * 24 + 24 >= start + len as i64 {
            false => None,
            true => match self.get(key.next()) {
                Found::Absent => None,
                Found::Hours => return None,
                Found::Days(d) => Some(d),
            },
        };
        Some((cur, next))
    }
}
