//! Packet framing across TCP reads: bytes go in as they arrive, whole
//! frames come out. The length field finds the end; garbage is skipped to
//! the next `##` so a connection's later valid packets are not lost.

use crate::crc::hj212_crc;

/// Largest data segment the standard allows; longer ones are decoded
/// (real loggers send them) up to the deframer's own limit.
pub const SPEC_MAX: usize = 1024;

/// One frame as received: the data segment and its CRC text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawFrame {
    pub segment: Vec<u8>,
    pub crc: [u8; 4],
    /// Segment longer than the standard's 1024.
    pub over_spec: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// Bytes before a `##` that belong to no frame.
    Garbage { skipped: usize },
    /// `##` not followed by 4 decimal digits.
    BadLength { field: String },
    /// Declared length above the configured maximum.
    TooLong { length: usize, max: usize },
    /// No CR LF where the length says the frame ends.
    BadTrailer { length: usize },
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::Garbage { skipped } => write!(f, "{skipped} bytes outside any packet skipped"),
            FrameError::BadLength { field } => write!(f, "length field {field:?} is not 4 digits"),
            FrameError::TooLong { length, max } => write!(f, "declared length {length} exceeds the limit {max}"),
            FrameError::BadTrailer { length } => write!(f, "no CR LF after a segment of declared length {length}"),
        }
    }
}

/// Reassembles frames from a byte stream.
#[derive(Debug)]
pub struct Deframer {
    buf: Vec<u8>,
    max_len: usize,
}

impl Deframer {
    /// `max_len`: the longest data segment accepted (≤ 9999).
    pub fn new(max_len: usize) -> Deframer {
        Deframer { buf: Vec::new(), max_len: max_len.min(9999) }
    }

    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes held while waiting for the rest of a frame.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// The next frame or framing error; `None` when more bytes are needed.
    pub fn next_frame(&mut self) -> Option<Result<RawFrame, FrameError>> {
        // Skip to the first "##".
        let start = match find(&self.buf, b"##") {
            Some(i) => i,
            None => {
                // Keep a trailing '#' that may start the next header.
                let keep = usize::from(self.buf.last() == Some(&b'#'));
                let skipped = self.buf.len() - keep;
                if skipped == 0 {
                    return None;
                }
                // Hold garbage until it is large or clearly not a prefix.
                self.buf.drain(..skipped);
                return Some(Err(FrameError::Garbage { skipped }));
            }
        };
        if start > 0 {
            self.buf.drain(..start);
            return Some(Err(FrameError::Garbage { skipped: start }));
        }
        if self.buf.len() < 6 {
            return None;
        }
        let field = &self.buf[2..6];
        if !field.iter().all(u8::is_ascii_digit) {
            let field = String::from_utf8_lossy(field).into_owned();
            self.buf.drain(..2);
            return Some(Err(FrameError::BadLength { field }));
        }
        let length = field.iter().fold(0usize, |n, d| n * 10 + usize::from(d - b'0'));
        if length > self.max_len {
            self.buf.drain(..2);
            return Some(Err(FrameError::TooLong { length, max: self.max_len }));
        }
        let total = 6 + length + 4 + 2;
        if self.buf.len() < total {
            return None;
        }
        if &self.buf[total - 2..total] != b"\r\n" {
            self.buf.drain(..2);
            return Some(Err(FrameError::BadTrailer { length }));
        }
        let segment = self.buf[6..6 + length].to_vec();
        let mut crc = [0u8; 4];
        crc.copy_from_slice(&self.buf[6 + length..6 + length + 4]);
        self.buf.drain(..total);
        Some(Ok(RawFrame { segment, crc, over_spec: length > SPEC_MAX }))
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A whole frame for `segment`: header, length, segment, CRC, CR LF.
pub fn encode(segment: &str) -> String {
    format!("##{:04}{segment}{:04X}\r\n", segment.len(), hj212_crc(segment.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEG: &str =
        "QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&";

    fn frames(d: &mut Deframer) -> Vec<Result<RawFrame, FrameError>> {
        std::iter::from_fn(|| d.next_frame()).collect()
    }

    #[test]
    fn the_standards_example_frames() {
        let f = encode(SEG);
        assert_eq!(f, format!("##0101{SEG}1C80\r\n"));
        let mut d = Deframer::new(4096);
        d.push(f.as_bytes());
        let got = frames(&mut d);
        assert_eq!(got.len(), 1);
        let frame = got[0].clone().unwrap();
        assert_eq!(frame.segment, SEG.as_bytes());
        assert_eq!(&frame.crc, b"1C80");
        assert_eq!(d.pending(), 0);
    }

    #[test]
    fn split_and_merged_reads() {
        let two = format!("{}{}", encode(SEG), encode("ST=22;CN=2011;CP=&&&&"));
        for cut in 0..two.len() {
            let mut d = Deframer::new(4096);
            let mut out = Vec::new();
            d.push(&two.as_bytes()[..cut]);
            out.extend(frames(&mut d));
            d.push(&two.as_bytes()[cut..]);
            out.extend(frames(&mut d));
            let ok: Vec<_> = out.into_iter().filter_map(Result::ok).collect();
            assert_eq!(ok.len(), 2, "cut at {cut}");
        }
    }

    #[test]
    fn garbage_and_broken_frames_do_not_lose_later_ones() {
        let mut d = Deframer::new(4096);
        let good = encode(SEG);
        // Noise, a header with a bad length, a frame whose length is wrong, then a good one.
        let bad_len = format!("##01x0{SEG}");
        let wrong = format!("##0050{SEG}1C80\r\n");
        d.push(format!("noise\x00\x01{bad_len}{wrong}{good}").as_bytes());
        let got = frames(&mut d);
        assert!(got.iter().any(|r| matches!(r, Err(FrameError::Garbage { .. }))));
        assert!(got.iter().any(|r| matches!(r, Err(FrameError::BadLength { .. }))));
        assert!(got.iter().any(|r| matches!(r, Err(FrameError::BadTrailer { length: 50 }))));
        let ok: Vec<_> = got.into_iter().filter_map(Result::ok).collect();
        assert_eq!(ok.len(), 1);
        assert_eq!(ok[0].segment, SEG.as_bytes());
    }

    #[test]
    fn over_long_declared_length_is_refused_without_waiting() {
        let mut d = Deframer::new(2048);
        d.push(b"##9999QN=");
        assert_eq!(d.next_frame(), Some(Err(FrameError::TooLong { length: 9999, max: 2048 })));
        let mut d = Deframer::new(4096);
        let long = format!("CP=&&{}&&", "x".repeat(1100));
        d.push(encode(&long).as_bytes());
        assert!(d.next_frame().unwrap().unwrap().over_spec, "decoded, flagged over the standard's 1024");
    }
}
