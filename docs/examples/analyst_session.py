"""An analyst's session with the lantian Python package (docs/PYTHON.md).

    python docs/examples/analyst_session.py DATA_DIR

DATA_DIR: a lantian data directory, e.g. the demo's (`lantian demo --no-serve`
writes ./lantian-demo-data with the bundled Sichuan 2019 year).
"""

import sys

import numpy as np
import pyarrow.compute as pc

import lantian

data = sys.argv[1] if len(sys.argv) > 1 else "lantian-demo-data"

# 1. The AQI of a few days, both editions: no hand-made breakpoint tables.
pm25 = np.array([35, 68, 75.5, 120])
for edition in (2012, 2026):
    print(edition, "PM2.5 IAQI", lantian.iaqi("pm25_24h", pm25, edition=edition))

# 2. The hours of one station in July, as a pandas DataFrame.
hours = lantian.read_store(data, "2019-07-01", "2019-07-31", stations=["1431A"])
df = hours.to_pandas()
print(df[["station", "time", "pm25", "o3", "o3_8h"]].head(3).to_string(index=False))

# 3. MDA8 with HJ 663's 14-of-17 rule from the hourly O3 (24 values a day,
#    hours 01:00 … 24:00), and the network's published 8-hour values beside it.
o3 = df.set_index("time")["o3"]
days = np.full((31, 24), np.nan)
for t, v in o3.items():
    label_day = (t - np.timedelta64(1, "h")).day - 1  # the hour 24:00 closes the day before
    if 0 <= label_day < 31:
        days[label_day, (t.hour - 1) % 24] = v
print("MDA8, 1–7 July:", lantian.mda8(days)[:7].round(1))

# 4. The whole pipeline by hand: station days → city days → the period's statistics.
all_hours = lantian.read_store(data, "2019-07-01", "2019-07-31")
station_days = lantian.station_days(all_hours, "2019-07-01", "2019-07-31")
city_days = lantian.city_days(station_days, lantian.store_stations(data), "2019-07-01", "2019-07-31")
chengdu = city_days.filter(pc.equal(city_days["city"], "成都")).to_pandas()
print("成都 July PM2.5 by day:", chengdu["pm25"].round(0).astype("Int64").tolist()[:10], "…")

# 5. The same rows `lantian assess --format json` prints, as a DataFrame.
july = lantian.assess_frame(data, "2019-07-01", "2019-07-31", compare=False)
print(july[["city", "pm25", "o3_8h_p90", "good_ratio", "composite_index", "rank"]].head(5).to_string(index=False))
by_hand = lantian.assess_days(city_days, "2019-07-01", "2019-07-31")
raw = lantian.assess(data, "2019-07-01", "2019-07-31", values="raw", dust="included")
print("by hand == lantian assess (raw values):", by_hand == raw)

# 6. Errors are the CLI's.
try:
    lantian.assess(data, "2030-01-01", "2030-12-31")
except lantian.LantianError as e:
    print("LantianError:", e)
