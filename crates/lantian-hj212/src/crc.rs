//! The HJ 212 CRC (Annex A): CRC-16 with polynomial 0xA001 shifted right,
//! initial 0xFFFF, but each byte XORed into the register's **high** byte
//! after the low byte is dropped — not CRC-16/MODBUS. Some loggers send the
//! Modbus CRC printed low byte first; a lenient mode accepts it with a warning.

/// The HJ 212 CRC of a data segment.
pub fn hj212_crc(data: &[u8]) -> u16 {
    let mut reg: u16 = 0xFFFF;
    for &b in data {
        reg = (reg >> 8) ^ u16::from(b);
        for _ in 0..8 {
            let lsb = reg & 1;
            reg >>= 1;
            if lsb == 1 {
                reg ^= 0xA001;
            }
        }
    }
    reg
}

/// CRC-16/MODBUS of `data` with its bytes swapped, i.e. the number a logger
/// prints when it writes the Modbus CRC low byte first.
pub fn modbus_crc_swapped(data: &[u8]) -> u16 {
    let mut reg: u16 = 0xFFFF;
    for &b in data {
        reg ^= u16::from(b);
        for _ in 0..8 {
            let lsb = reg & 1;
            reg >>= 1;
            if lsb == 1 {
                reg ^= 0xA001;
            }
        }
    }
    reg.swap_bytes()
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CrcMode {
    /// Only the HJ 212 CRC (the standard; the default).
    #[default]
    Strict,
    /// Also the byte-swapped Modbus CRC, reported as a warning.
    Lenient,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrcCheck {
    Ok,
    /// Accepted in lenient mode: the sender uses the Modbus CRC.
    ModbusSwapped,
}

/// Check the 4 hex digits `text` (either case) against `segment`.
pub fn check_crc(segment: &[u8], text: &[u8], mode: CrcMode) -> Result<CrcCheck, String> {
    let given = std::str::from_utf8(text)
        .ok()
        .filter(|t| t.len() == 4 && t.bytes().all(|b| b.is_ascii_hexdigit()))
        .and_then(|t| u16::from_str_radix(t, 16).ok())
        .ok_or_else(|| format!("CRC field {:?} is not 4 hex digits", String::from_utf8_lossy(text)))?;
    let expected = hj212_crc(segment);
    if given == expected {
        return Ok(CrcCheck::Ok);
    }
    if mode == CrcMode::Lenient && given == modbus_crc_swapped(segment) {
        return Ok(CrcCheck::ModbusSwapped);
    }
    Err(format!("CRC {given:04X} does not match the segment's {expected:04X}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked examples of standards/hj212-2017.md §3 (the first is the
    /// standard's own Annex A example).
    #[test]
    fn worked_examples() {
        let cases: [(&str, u16); 5] = [
            (
                "QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&",
                0x1C80,
            ),
            ("QN=20231008125115215;ST=22;CN=9011;PW=123456;MN=010000A8900016F000169DC0;Flag=4;CP=&&QnRtn=1&&", 0xCC01),
            (
                "QN=20231008130452757;ST=22;CN=2081;PW=123456;MN=010000A8900016F000169DC0;Flag=5;CP=&&DataTime=20231008130452;RestartTime=20231007130452&&",
                0x3AC0,
            ),
            ("QN=20210409143228509;ST=21;CN=9014;PW=123456;MN=DXCBZ000000005;Flag=5;CP=&&&&", 0x9241),
            (
                "QN=20190925181031464;ST=22;CN=2061;PW=BF470F88957588DE902D1A52;MN=Z13401000010301;Flag=5;CP=&&DataTime=20190924220000;a34006-Avg=2.69700,a34006-Flag=N;a34007-Avg=7.96600,a34007-Flag=N;a34048-Avg=3.30600,a34048-Flag=N;a34047-Avg=7.35700,a34047-Flag=N;a34049-Avg=10.66300,a34049-Flag=N&&",
                0xC181,
            ),
        ];
        for (seg, crc) in cases {
            assert_eq!(hj212_crc(seg.as_bytes()), crc, "{seg}");
        }
        assert_eq!(hj212_crc(b""), 0xFFFF);
    }

    /// The packet copied around READMEs with `4980`: its CRC is 3C00.
    #[test]
    fn negative_example() {
        let seg = "ST=32;CN=2011;PW=123456;MN=LD130133000015;CP=&&DataTime=20160824003817;B01-Rtd=36.91;011-Rtd=231.0,011-Flag=N;060-Rtd=1.803,060-Flag=N&&";
        assert_eq!(hj212_crc(seg.as_bytes()), 0x3C00);
        assert!(check_crc(seg.as_bytes(), b"4980", CrcMode::Lenient).is_err());
        assert_eq!(check_crc(seg.as_bytes(), b"3c00", CrcMode::Strict), Ok(CrcCheck::Ok), "lower-case hex");
    }

    #[test]
    fn only_256_values_and_their_low_bytes() {
        // The register's low byte is discarded before each byte: the low byte
        // of a correct CRC is one of eight values.
        for s in ["a", "QN=1", "xyz&&", "CP=&&&&"] {
            let lo = (hj212_crc(s.as_bytes()) & 0xFF) as u8;
            assert!([0x00, 0x01, 0x40, 0x41, 0x80, 0x81, 0xC0, 0xC1].contains(&lo), "{s}: {lo:02X}");
        }
    }

    #[test]
    fn lenient_accepts_swapped_modbus_only_when_asked() {
        let seg = b"QN=20210409143228509;ST=22;CN=2011;PW=123456;MN=A1;Flag=4;CP=&&a34004-Rtd=35,a34004-Flag=N&&";
        let text = format!("{:04X}", modbus_crc_swapped(seg));
        assert!(check_crc(seg, text.as_bytes(), CrcMode::Strict).is_err());
        assert_eq!(check_crc(seg, text.as_bytes(), CrcMode::Lenient), Ok(CrcCheck::ModbusSwapped));
        assert!(check_crc(seg, b"12G4", CrcMode::Strict).unwrap_err().contains("not 4 hex"));
    }
}
