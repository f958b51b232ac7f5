//! Area outlines for the dashboard's map: a GeoJSON file the province
//! supplies (its approved boundaries; lantian ships none of its own), its
//! features matched to the cities by GB/T 2260 code or by name, installed as
//! `DATA/boundaries.geojson` (atomic rename; nothing is written when the
//! file is bad).
//!
//! The installed file is a FeatureCollection whose features carry
//! `properties.name` = the city's canonical name (what ECharts' `registerMap`
//! matches series data on) and `properties.adcode`; its top-level `lantian`
//! member says where it came from and whether it is only a schematic (示意图),
//! which the pages must caption as such.

use crate::{Error, Result};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::path::Path;

pub const FILE: &str = "boundaries.geojson";

/// How a feature was matched, or why it was not.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct FeatureMatch {
    /// 1-based position of the feature in the file.
    pub feature: usize,
    /// The feature's own name and code, as written.
    pub name: Option<String>,
    pub code: Option<String>,
    /// The city it outlines, if matched.
    pub city: Option<String>,
    /// `code`, `name`, or why it was not matched.
    pub how: String,
}

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct ImportReport {
    pub features: Vec<FeatureMatch>,
    /// Cities of the province without an outline in the file.
    pub cities_without: Vec<String>,
}

impl ImportReport {
    pub fn matched(&self) -> usize {
        self.features.iter().filter(|f| f.city.is_some()).count()
    }
}

fn text_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The first of these property keys that holds a value (files differ:
/// DataV and ECharts write `adcode`, others `code`, `GB`, `PAC`).
fn property(props: &Map<String, Value>, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| text_of(props.get(*k)))
}

/// Polygons of a Polygon or MultiPolygon with numeric, in-range positions;
/// anything else is refused with the reason.
fn polygons(geometry: &Value) -> Result<Vec<Value>, String> {
    let kind = geometry.get("type").and_then(Value::as_str).unwrap_or("");
    let coords = geometry.get("coordinates").ok_or("no coordinates")?;
    let list: Vec<Value> = match kind {
        "Polygon" => vec![coords.clone()],
        "MultiPolygon" => coords.as_array().ok_or("coordinates are not a list")?.clone(),
        other => return Err(format!("geometry {other:?} is not a Polygon or MultiPolygon")),
    };
    for poly in &list {
        let rings = poly.as_array().ok_or("a polygon is not a list of rings")?;
        for ring in rings {
            let points = ring.as_array().ok_or("a ring is not a list of positions")?;
            if points.len() < 4 {
                return Err("a ring has fewer than 4 positions".into());
            }
            for p in points {
                let xy: Vec<f64> =
                    p.as_array().map(|a| a.iter().filter_map(Value::as_f64).collect()).unwrap_or_default();
                let ok = xy.len() >= 2 && (-180.0..=180.0).contains(&xy[0]) && (-90.0..=90.0).contains(&xy[1]);
                if !ok {
                    return Err(format!("position {p} is not [longitude, latitude] in degrees"));
                }
            }
        }
    }
    Ok(list)
}

/// Match the features of `text` (GeoJSON) to `cities` (canonical names),
/// by code through `codes` (city → GB/T 2260 code) first, then by name.
/// Several features of one city are merged into one MultiPolygon. Returns
/// the installable FeatureCollection and the report.
pub fn match_features(
    text: &str,
    origin: &str,
    cities: &[String],
    codes: &BTreeMap<String, String>,
    schematic: bool,
) -> Result<(Value, ImportReport)> {
    let doc: Value = serde_json::from_str(text)
        .map_err(|e| Error::Input(format!("{origin} line {} column {}: not JSON: {e}", e.line(), e.column())))?;
    let features = match doc.get("type").and_then(Value::as_str) {
        Some("FeatureCollection") => doc.get("features").and_then(Value::as_array).cloned().unwrap_or_default(),
        Some("Feature") => vec![doc.clone()],
        _ => {
            return Err(Error::Input(format!(
                "{origin}: not a GeoJSON FeatureCollection (no \"type\": \"FeatureCollection\")"
            )));
        }
    };
    let by_code: BTreeMap<&str, &String> = codes.iter().map(|(city, code)| (code.as_str(), city)).collect();
    let mut report = ImportReport::default();
    let mut outlines: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (i, f) in features.iter().enumerate() {
        let empty = Map::new();
        let props = f.get("properties").and_then(Value::as_object).unwrap_or(&empty);
        let name = property(props, &["name", "NAME", "Name", "名称", "city"]);
        let code = property(props, &["adcode", "code", "ADCODE", "gb", "GB", "PAC", "gb2260"]);
        let mut m =
            FeatureMatch { feature: i + 1, name: name.clone(), code: code.clone(), city: None, how: String::new() };
        let found = code
            .as_deref()
            .and_then(|c| by_code.get(c))
            .map(|c| ((*c).clone(), "code"))
            .filter(|(c, _)| cities.contains(c))
            .or_else(|| {
                let n = crate::canonical_city(name.as_deref()?);
                cities.contains(&n).then_some((n, "name"))
            });
        match (found, f.get("geometry").map(polygons)) {
            (None, _) => m.how = "no city of this code or name".into(),
            (Some(_), None) => m.how = "no geometry".into(),
            (Some(_), Some(Err(why))) => m.how = why,
            (Some((city, how)), Some(Ok(polys))) => {
                outlines.entry(city.clone()).or_default().extend(polys);
                m.city = Some(city);
                m.how = how.into();
            }
        }
        report.features.push(m);
    }
    report.cities_without = cities.iter().filter(|c| !outlines.contains_key(*c)).cloned().collect();
    if outlines.is_empty() {
        return Err(Error::Input(format!(
            "{origin}: none of its {} features matches a city by code or name (first: {:?})",
            features.len(),
            report.features.first().and_then(|f| f.name.clone())
        )));
    }
    let source = Path::new(origin).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let out = json!({
        "type": "FeatureCollection",
        "lantian": { "schematic": schematic, "source": source },
        "features": outlines.into_iter().map(|(city, polys)| json!({
            "type": "Feature",
            "properties": { "name": city, "adcode": codes.get(&city) },
            "geometry": { "type": "MultiPolygon", "coordinates": polys },
        })).collect::<Vec<_>>(),
    });
    Ok((out, report))
}

/// Check `src` and install its matched outlines as `DATA/boundaries.geojson`.
pub fn import(
    src: &Path,
    data_dir: &Path,
    cities: &[String],
    codes: &BTreeMap<String, String>,
    schematic: bool,
) -> Result<ImportReport> {
    let text = std::fs::read_to_string(src).map_err(|e| Error::io(src, e))?;
    let (doc, report) = match_features(&text, &src.display().to_string(), cities, codes, schematic)?;
    std::fs::create_dir_all(data_dir).map_err(|e| Error::io(data_dir, e))?;
    let tmp = data_dir.join(format!("{FILE}.tmp"));
    crate::store::write_synced(&tmp, doc.to_string().as_bytes())?;
    let dst = data_dir.join(FILE);
    std::fs::rename(&tmp, &dst).map_err(|e| Error::io(&dst, e))?;
    Ok(report)
}

/// The installed outlines (GeoJSON text), if any.
pub fn read(data_dir: &Path) -> Result<Option<String>> {
    let path = data_dir.join(FILE);
    match std::fs::read_to_string(&path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(&path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(x: f64, y: f64) -> Value {
        json!([[[x, y], [x + 1.0, y], [x + 1.0, y + 1.0], [x, y + 1.0], [x, y]]])
    }

    fn feature(props: Value, geometry: Value) -> Value {
        json!({ "type": "Feature", "properties": props, "geometry": geometry })
    }

    #[test]
    fn matches_by_code_then_name_and_reports_the_rest() {
        let cities = vec!["成都".to_string(), "阿坝州".to_string(), "自贡".to_string()];
        let codes = BTreeMap::from([("成都".to_string(), "510100".to_string())]);
        let doc = json!({ "type": "FeatureCollection", "features": [
            // The code wins over a name that would not match.
            feature(json!({ "adcode": 510100, "name": "Chengdu" }), json!({ "type": "Polygon", "coordinates": square(103.0, 30.0) })),
            feature(json!({ "name": "阿坝藏族羌族自治州" }), json!({ "type": "MultiPolygon", "coordinates": [square(101.0, 32.0)] })),
            // A second piece of the same city is merged.
            feature(json!({ "name": "成都市" }), json!({ "type": "Polygon", "coordinates": square(104.0, 30.0) })),
            feature(json!({ "name": "重庆市" }), json!({ "type": "Polygon", "coordinates": square(106.0, 29.0) })),
            feature(json!({ "name": "自贡市" }), json!({ "type": "Point", "coordinates": [104.7, 29.3] })),
        ]});
        let (out, r) = match_features(&doc.to_string(), "x.geojson", &cities, &codes, true).unwrap();
        let how: Vec<(&str, &str)> =
            r.features.iter().map(|f| (f.city.as_deref().unwrap_or("-"), f.how.as_str())).collect();
        assert_eq!(how[0], ("成都", "code"));
        assert_eq!(how[1], ("阿坝州", "name"));
        assert_eq!(how[2], ("成都", "name"));
        assert_eq!(how[3], ("-", "no city of this code or name"));
        assert!(how[4].1.contains("Point"), "{:?}", how[4]);
        assert_eq!(r.matched(), 3);
        assert_eq!(r.cities_without, vec!["自贡".to_string()]);
        let feats = out["features"].as_array().unwrap();
        assert_eq!(feats.len(), 2);
        let chengdu = feats.iter().find(|f| f["properties"]["name"] == "成都").unwrap();
        assert_eq!(chengdu["geometry"]["coordinates"].as_array().unwrap().len(), 2);
        assert_eq!(chengdu["properties"]["adcode"], "510100");
        assert_eq!(out["lantian"]["schematic"], true);
        assert_eq!(out["lantian"]["source"], "x.geojson");
    }

    #[test]
    fn bad_files_are_refused_with_the_reason() {
        let cities = vec!["成都".to_string()];
        let none = BTreeMap::new();
        let e = match_features("{\"type\": ", "a.geojson", &cities, &none, false).unwrap_err().to_string();
        assert!(e.starts_with("a.geojson line 1"), "{e}");
        let e = match_features("[1, 2]", "b.geojson", &cities, &none, false).unwrap_err().to_string();
        assert!(e.contains("not a GeoJSON FeatureCollection"), "{e}");
        let doc = json!({ "type": "FeatureCollection", "features": [
            feature(json!({ "name": "成都" }), json!({ "type": "Polygon", "coordinates": [[[103.0, 30.0], [400.0, 30.0], [103.0, 31.0], [103.0, 30.0]]] })),
        ]});
        let e = match_features(&doc.to_string(), "c.geojson", &cities, &none, false).unwrap_err().to_string();
        assert!(e.contains("none of its 1 features"), "{e}");
    }

    #[test]
    fn import_installs_atomically_and_reads_back() {
        let dir = std::env::temp_dir().join(format!("lantian-boundaries-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let src = dir.join("in.geojson");
        let doc = json!({ "type": "FeatureCollection", "features": [
            feature(json!({ "name": "成都" }), json!({ "type": "Polygon", "coordinates": square(103.0, 30.0) })),
        ]});
        std::fs::write(&src, doc.to_string()).unwrap();
        let data = dir.join("data");
        assert_eq!(read(&data).unwrap(), None);
        let r = import(&src, &data, &["成都".to_string()], &BTreeMap::new(), false).unwrap();
        assert_eq!(r.matched(), 1);
        let back: Value = serde_json::from_str(&read(&data).unwrap().unwrap()).unwrap();
        assert_eq!(back["features"][0]["properties"]["name"], "成都");
        // A bad file leaves the installed one as it was.
        std::fs::write(&src, "not json").unwrap();
        assert!(import(&src, &data, &["成都".to_string()], &BTreeMap::new(), false).is_err());
        assert!(read(&data).unwrap().unwrap().contains("成都"));
        assert!(!data.join(format!("{FILE}.tmp")).exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
