//! One small SQL seam over both ledger backends, so that code written once
//! (the rectification tasks) runs on SQLite and on PostgreSQL.
//!
//! Statements use PostgreSQL's `$1` placeholders; the SQLite side rewrites
//! them to `?1`. Values are typed even when NULL, because PostgreSQL checks
//! a parameter's type against its column before it looks at the value.
//! Integer columns must be BIGINT on PostgreSQL (`i64` binds only to INT8).

use crate::{Error, Result};

#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    Int(Option<i64>),
    Real(Option<f64>),
    Text(Option<String>),
}

impl Val {
    pub fn int(&self) -> Option<i64> {
        match self {
            Val::Int(v) => *v,
            _ => None,
        }
    }

    pub fn text(&self) -> Option<&str> {
        match self {
            Val::Text(v) => v.as_deref(),
            _ => None,
        }
    }

    pub fn string(&self) -> String {
        self.text().unwrap_or_default().to_string()
    }
}

impl From<i64> for Val {
    fn from(v: i64) -> Val {
        Val::Int(Some(v))
    }
}

impl From<&str> for Val {
    fn from(v: &str) -> Val {
        Val::Text(Some(v.to_string()))
    }
}

impl From<String> for Val {
    fn from(v: String) -> Val {
        Val::Text(Some(v))
    }
}

impl From<Option<String>> for Val {
    fn from(v: Option<String>) -> Val {
        Val::Text(v)
    }
}

impl From<Option<i64>> for Val {
    fn from(v: Option<i64>) -> Val {
        Val::Int(v)
    }
}

/// Statements inside one transaction.
pub trait Tx {
    fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64>;
    fn rows(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Vec<Val>>>;
}

/// A database that runs a closure in one transaction: all of its statements
/// are committed, or (on error or if the process dies) none.
pub trait Db {
    fn transaction(&mut self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()>;
}

/// `$12` → `?12` (SQLite numbered parameters; no `$` appears otherwise).
fn sqlite_sql(sql: &str) -> String {
    sql.replace('$', "?")
}

fn sqlite_err(e: rusqlite::Error) -> Error {
    Error::Store(format!("ledger: {e}"))
}

fn pg_err(e: postgres::Error) -> Error {
    Error::Store(format!("ledger (PostgreSQL): {e}"))
}

pub(crate) struct SqliteTx<'a>(pub(crate) &'a rusqlite::Transaction<'a>);

impl Tx for SqliteTx<'_> {
    fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64> {
        let mut stmt = self.0.prepare_cached(&sqlite_sql(sql)).map_err(sqlite_err)?;
        let n = stmt.execute(rusqlite::params_from_iter(params.iter().map(to_sqlite))).map_err(sqlite_err)?;
        Ok(n as u64)
    }

    fn rows(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Vec<Val>>> {
        let mut stmt = self.0.prepare_cached(&sqlite_sql(sql)).map_err(sqlite_err)?;
        let n = stmt.column_count();
        let mut rows = stmt.query(rusqlite::params_from_iter(params.iter().map(to_sqlite))).map_err(sqlite_err)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(sqlite_err)? {
            let mut row = Vec::with_capacity(n);
            for i in 0..n {
                use rusqlite::types::ValueRef;
                row.push(match r.get_ref(i).map_err(sqlite_err)? {
                    ValueRef::Null => Val::Text(None),
                    ValueRef::Integer(v) => Val::Int(Some(v)),
                    ValueRef::Real(v) => Val::Real(Some(v)),
                    ValueRef::Text(t) | ValueRef::Blob(t) => Val::Text(Some(String::from_utf8_lossy(t).into_owned())),
                });
            }
            out.push(row);
        }
        Ok(out)
    }
}

fn to_sqlite(v: &Val) -> rusqlite::types::Value {
    use rusqlite::types::Value;
    match v {
        Val::Int(Some(i)) => Value::Integer(*i),
        Val::Real(Some(r)) => Value::Real(*r),
        Val::Text(Some(s)) => Value::Text(s.clone()),
        _ => Value::Null,
    }
}

pub(crate) struct PgTx<'a, 'b>(pub(crate) &'a mut postgres::Transaction<'b>);

fn pg_params(params: &[Val]) -> Vec<&(dyn postgres::types::ToSql + Sync)> {
    params
        .iter()
        .map(|v| -> &(dyn postgres::types::ToSql + Sync) {
            match v {
                Val::Int(i) => i,
                Val::Real(r) => r,
                Val::Text(s) => s,
            }
        })
        .collect()
}

impl Tx for PgTx<'_, '_> {
    fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64> {
        self.0.execute(sql, &pg_params(params)).map_err(pg_err)
    }

    fn rows(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Vec<Val>>> {
        use postgres::types::Type;
        let rows = self.0.query(sql, &pg_params(params)).map_err(pg_err)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let mut row = Vec::with_capacity(r.len());
            for (i, c) in r.columns().iter().enumerate() {
                let t = c.type_();
                row.push(if *t == Type::INT8 {
                    Val::Int(r.try_get(i).map_err(pg_err)?)
                } else if *t == Type::INT4 {
                    Val::Int(r.try_get::<_, Option<i32>>(i).map_err(pg_err)?.map(i64::from))
                } else if *t == Type::FLOAT8 {
                    Val::Real(r.try_get(i).map_err(pg_err)?)
                } else {
                    Val::Text(r.try_get(i).map_err(pg_err)?)
                });
            }
            out.push(row);
        }
        Ok(out)
    }
}
