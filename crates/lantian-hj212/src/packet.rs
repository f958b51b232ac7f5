//! The data segment: `QN=…;ST=…;CN=…;PW=…;MN=…;Flag=…;[PNUM=…;PNO=…;]CP=&&…&&`
//! (Table 3), and the CP data area's items (`a34004-Avg=35,a34004-Flag=N;…`).
//! Deviations real loggers send are accepted where the meaning is clear and
//! reported as typed warnings; what cannot be understood is an error.

use crate::frame::encode;
use jiff::civil::DateTime;

#[derive(Clone, Debug, PartialEq)]
pub struct Packet {
    pub qn: Option<String>,
    pub st: Option<String>,
    pub cn: String,
    pub pw: Option<String>,
    pub mn: Option<String>,
    pub flag: Option<u8>,
    pub pnum: Option<u32>,
    pub pno: Option<u32>,
    /// `DataTime` of the CP area.
    pub data_time: Option<DateTime>,
    /// Other CP items as name, value pairs, in order.
    pub cp: Vec<(String, String)>,
    pub warnings: Vec<Warning>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Warning {
    /// No QN (2005-style upload).
    NoQn,
    /// No Flag (2005-style upload).
    NoFlag,
    /// Flag's version bits are neither 2005 (0) nor 2017 (1).
    UnknownVersion(u8),
    /// MN is not the 24 hex characters of 2017.
    ShortMn(usize),
    /// DataTime carries milliseconds (17 digits).
    DataTimeMillis,
    /// A CP item that is not `name=value`.
    OddItem(String),
    /// No `;` before `CP=` (as in the standard's own `Flag=5CP=` example).
    MissingSeparator,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError(pub String);

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn err<T>(m: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError(m.into()))
}

/// One measured item of the CP area: a factor code, the value kind
/// (`Rtd`, `Avg`, `Min`, `Max`, `Cou`, …), the value and its data flag.
#[derive(Clone, Debug, PartialEq)]
pub struct Measurement {
    pub code: String,
    pub kind: String,
    pub value: f64,
    /// `N` normal, `F`, `M`, `S`, `D`, `C`, `T`, `B` (Table 8); none when absent.
    pub flag: Option<char>,
}

/// `YYYYMMDDhhmmss` (or 17 digits with milliseconds, with a warning).
pub fn parse_time(s: &str) -> Option<(DateTime, bool)> {
    let millis = s.len() == 17;
    if !(s.len() == 14 || millis) || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |a: usize, b: usize| s[a..b].parse::<i32>().ok();
    let dt = DateTime::new(
        i16::try_from(n(0, 4)?).ok()?,
        i8::try_from(n(4, 6)?).ok()?,
        i8::try_from(n(6, 8)?).ok()?,
        i8::try_from(n(8, 10)?).ok()?,
        i8::try_from(n(10, 12)?).ok()?,
        i8::try_from(n(12, 14)?).ok()?,
        0,
    )
    .ok()?;
    Some((dt, millis))
}

/// Parse a data segment (the bytes between the length field and the CRC).
pub fn parse_segment(segment: &[u8]) -> Result<Packet, ParseError> {
    let text = std::str::from_utf8(segment).map_err(|_| ParseError("segment is not UTF-8".into()))?;
    let Some(cp_at) = text.find("CP=&&") else {
        return err("no CP=&& data area");
    };
    let head = &text[..cp_at];
    let cp_area = &text[cp_at + 5..];
    let Some(cp_body) = cp_area.strip_suffix("&&") else {
        return err("the CP data area does not end with &&");
    };
    let mut p = Packet {
        qn: None,
        st: None,
        cn: String::new(),
        pw: None,
        mn: None,
        flag: None,
        pnum: None,
        pno: None,
        data_time: None,
        cp: Vec::new(),
        warnings: Vec::new(),
    };
    if !head.is_empty() && !head.ends_with(';') {
        p.warnings.push(Warning::MissingSeparator);
    }
    for field in head.split(';').filter(|f| !f.is_empty()) {
        let Some((name, value)) = field.split_once('=') else {
            return err(format!("header field {field:?} is not name=value"));
        };
        let value = value.to_string();
        match name {
            "QN" => p.qn = Some(value),
            "ST" => p.st = Some(value),
            "CN" => p.cn = value,
            "PW" => p.pw = Some(value),
            "MN" => p.mn = Some(value),
            "Flag" => {
                p.flag = Some(value.parse().map_err(|_| ParseError(format!("Flag {value:?} is not 0–255")))?);
            }
            "PNUM" => p.pnum = Some(value.parse().map_err(|_| ParseError(format!("PNUM {value:?}")))?),
            "PNO" => p.pno = Some(value.parse().map_err(|_| ParseError(format!("PNO {value:?}")))?),
            other => return err(format!("unknown header field {other:?}")),
        }
    }
    if p.cn.len() != 4 || !p.cn.bytes().all(|b| b.is_ascii_digit()) {
        return err(format!("CN {:?} is not 4 digits", p.cn));
    }
    match &p.mn {
        None => return err("no MN"),
        Some(mn) if mn.is_empty() || mn.len() > 24 => return err(format!("MN {mn:?} is not 1–24 characters")),
        Some(mn) if mn.len() != 24 => p.warnings.push(Warning::ShortMn(mn.len())),
        _ => {}
    }
    if p.qn.is_none() {
        p.warnings.push(Warning::NoQn);
    }
    match p.flag {
        None => p.warnings.push(Warning::NoFlag),
        Some(f) if f >> 2 > 1 => p.warnings.push(Warning::UnknownVersion(f >> 2)),
        _ => {}
    }
    if p.flag.is_some_and(|f| f & 2 != 0) && (p.pnum.is_none() || p.pno.is_none()) {
        return err("Flag says split packet (D=1) but PNUM/PNO are missing");
    }
    for item in cp_body.split([';', ',']).filter(|s| !s.is_empty()) {
        match item.split_once('=') {
            Some(("DataTime", v)) => {
                let (t, millis) = parse_time(v).ok_or_else(|| ParseError(format!("DataTime {v:?} is not a time")))?;
                if millis {
                    p.warnings.push(Warning::DataTimeMillis);
                }
                p.data_time = Some(t);
            }
            Some((n, v)) => p.cp.push((n.to_string(), v.to_string())),
            None => p.warnings.push(Warning::OddItem(item.to_string())),
        }
    }
    Ok(p)
}

impl Packet {
    /// The A bit: the sender wants an answer.
    pub fn wants_ack(&self) -> bool {
        self.flag.is_some_and(|f| f & 1 == 1)
    }

    /// Measured values: `code-Kind=value` items with their `code-Flag`.
    /// A value that is not a number is an error naming it.
    pub fn measurements(&self) -> Result<Vec<Measurement>, ParseError> {
        let mut out: Vec<Measurement> = Vec::new();
        let mut flags: Vec<(&str, char)> = Vec::new();
        for (name, value) in &self.cp {
            let Some((code, kind)) = name.rsplit_once('-') else { continue };
            match kind {
                "Flag" => {
                    let mut c = value.chars();
                    match (c.next(), c.next()) {
                        (Some(f), None) => flags.push((code, f)),
                        _ => return err(format!("{name}={value:?}: a data flag is one character")),
                    }
                }
                "Rtd" | "Avg" | "Min" | "Max" | "Cou" | "ZsRtd" | "ZsAvg" | "ZsMin" | "ZsMax" => {
                    let v: f64 =
                        value.trim().parse().map_err(|_| ParseError(format!("{name}={value:?} is not a number")))?;
                    if !v.is_finite() {
                        return err(format!("{name}={value:?} is not a finite number"));
                    }
                    out.push(Measurement { code: code.to_string(), kind: kind.to_string(), value: v, flag: None });
                }
                _ => {}
            }
        }
        for m in &mut out {
            m.flag = flags.iter().rev().find(|(c, _)| *c == m.code).map(|(_, f)| *f);
        }
        Ok(out)
    }

    /// The data reply (CN=9014) a server owes an upload with A=1: the
    /// upload's QN, PW and MN echoed, ST=91, Flag=4, empty CP.
    pub fn ack(&self) -> String {
        let qn = self.qn.as_deref().map(|q| format!("QN={q};")).unwrap_or_default();
        let pw = self.pw.as_deref().unwrap_or_default();
        let mn = self.mn.as_deref().unwrap_or_default();
        encode(&format!("{qn}ST=91;CN=9014;PW={pw};MN={mn};Flag=4;CP=&&&&"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOURLY: &str = "QN=20190925181031464;ST=22;CN=2061;PW=BF470F88957588DE902D1A52;MN=Z13401000010301;Flag=5;CP=&&DataTime=20190924220000;a34006-Avg=2.69700,a34006-Flag=N;a34007-Avg=7.96600,a34007-Flag=N;a34048-Avg=3.30600,a34048-Flag=N;a34047-Avg=7.35700,a34047-Flag=N;a34049-Avg=10.66300,a34049-Flag=N&&";

    #[test]
    fn the_hourly_example() {
        let p = parse_segment(HOURLY.as_bytes()).unwrap();
        assert_eq!(p.cn, "2061");
        assert_eq!(p.st.as_deref(), Some("22"));
        assert_eq!(p.mn.as_deref(), Some("Z13401000010301"));
        assert_eq!(p.flag, Some(5));
        assert!(p.wants_ack());
        assert_eq!(p.data_time, Some(jiff::civil::date(2019, 9, 24).at(22, 0, 0, 0)));
        assert_eq!(p.warnings, vec![Warning::ShortMn(15)]);
        let m = p.measurements().unwrap();
        assert_eq!(m.len(), 5);
        assert_eq!(
            (m[0].code.as_str(), m[0].kind.as_str(), m[0].value, m[0].flag),
            ("a34006", "Avg", 2.697, Some('N'))
        );
        let ack = p.ack();
        assert!(
            ack.starts_with(
                "##0096QN=20190925181031464;ST=91;CN=9014;PW=BF470F88957588DE902D1A52;MN=Z13401000010301;Flag=4;CP=&&&&"
            ),
            "{ack}"
        );
        assert!(ack.ends_with("\r\n"));
    }

    #[test]
    fn old_style_and_split_packets() {
        let p = parse_segment(b"ST=32;CN=2011;PW=123456;MN=LD130133000015;CP=&&DataTime=20160824003817;B01-Rtd=36.91;011-Rtd=231.0,011-Flag=N&&").unwrap();
        assert!(p.warnings.contains(&Warning::NoQn) && p.warnings.contains(&Warning::NoFlag));
        assert!(!p.wants_ack());
        let split = "QN=20190101000000000;ST=22;CN=2061;PW=123456;MN=A;Flag=7;PNUM=2;PNO=1;CP=&&DataTime=20190101000000;a34004-Avg=35&&";
        let p = parse_segment(split.as_bytes()).unwrap();
        assert_eq!((p.pnum, p.pno), (Some(2), Some(1)));
        let missing = "QN=1;ST=22;CN=2061;PW=1;MN=A;Flag=7;CP=&&&&";
        assert!(parse_segment(missing.as_bytes()).unwrap_err().0.contains("PNUM"));
    }

    #[test]
    fn malformed() {
        for (seg, why) in [
            ("QN=1;ST=22;CN=2061;PW=1;MN=A;Flag=5", "no CP"),
            ("QN=1;ST=22;CN=2061;PW=1;MN=A;Flag=5;CP=&&a=1", "does not end"),
            ("QN=1;ST=22;CN=20x1;PW=1;MN=A;Flag=5;CP=&&&&", "CN"),
            ("QN=1;ST=22;CN=2061;PW=1;Flag=5;CP=&&&&", "no MN"),
            ("QN=1;ST=22;CN=2061;PW=1;MN=A;Flag=500;CP=&&&&", "Flag"),
            ("QN=1;ST=22;CN=2061;PW=1;MN=A;Flag=5;CP=&&DataTime=2019;a&&", "DataTime"),
            ("QN=1;ST=22;Bogus=1;CN=2061;PW=1;MN=A;CP=&&&&", "unknown header"),
        ] {
            let e = parse_segment(seg.as_bytes()).unwrap_err().0;
            assert!(e.contains(why), "{seg}: {e}");
        }
        let p = parse_segment(b"QN=1;ST=22;CN=2061;PW=1;MN=A;Flag=5CP=&&&&").unwrap();
        assert!(p.warnings.contains(&Warning::MissingSeparator), "the standard's own example: accepted, warned");
        let p = parse_segment(b"QN=1;ST=22;CN=2011;PW=1;MN=A;Flag=4;CP=&&a34004-Rtd=abc&&").unwrap();
        assert!(p.measurements().unwrap_err().0.contains("not a number"));
        let p = parse_segment(b"QN=1;ST=22;CN=2011;PW=1;MN=A;Flag=4;CP=&&a34004-Rtd=NaN&&").unwrap();
        assert!(p.measurements().is_err());
        assert!(parse_segment(&[0xff, 0xfe]).is_err());
    }

    #[test]
    fn times() {
        assert_eq!(parse_time("20190924220000").unwrap().0, jiff::civil::date(2019, 9, 24).at(22, 0, 0, 0));
        assert!(parse_time("20190924220000123").unwrap().1);
        assert!(parse_time("20191324220000").is_none());
        assert!(parse_time("2019092422000").is_none());
    }
}
