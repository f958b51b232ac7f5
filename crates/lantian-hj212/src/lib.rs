//! HJ 212-2017, the data transmission protocol station data loggers (数采仪)
//! speak: `##` + 4-digit length + data segment + 4-hex CRC + CR LF
//! (standards/hj212-2017.md). Pure functions and a byte-buffer deframer, no
//! IO: the gateway in `lantian` does the sockets, this crate the protocol,
//! so it can be tested and fuzzed alone. Never panics on any input.

pub mod crc;
pub mod frame;
pub mod packet;

pub use crc::{CrcCheck, CrcMode, check_crc, hj212_crc, modbus_crc_swapped};
pub use frame::{Deframer, FrameError, RawFrame, encode};
pub use packet::{Measurement, Packet, ParseError, Warning, parse_segment};
