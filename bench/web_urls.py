#!/usr/bin/env python3
"""The pages of the demo a user may open (the web_load bench's mix): every
city's page for three years, the overview of months, quarters and years,
tasks and actions. One path per line."""
import calendar
from urllib.parse import quote

CITIES = ["成都", "自贡", "攀枝花", "泸州", "德阳", "绵阳", "广元", "遂宁", "内江", "乐山", "南充",
          "眉山", "宜宾", "广安", "达州", "雅安", "巴中", "资阳", "阿坝州", "甘孜州", "凉山州"]
out = ["/api/me", "/api/tasks", "/api/tasks/46", "/api/actions"]
for c in CITIES:
    for y in (2015, 2016, 2019):
        out.append(f"/api/cities/{quote(c)}?year={y}")
for y in (2014, 2015, 2016, 2019):
    out.append(f"/api/overview?from={y}-01-01&to={y}-12-31")
for a, b in [("01-01", "03-31"), ("04-01", "06-30"), ("07-01", "09-30"), ("10-01", "12-31")]:
    out.append(f"/api/overview?from=2019-{a}&to=2019-{b}")
for y in (2016, 2019):
    for m in range(1, 13):
        out.append(f"/api/overview?from={y}-{m:02d}-01&to={y}-{m:02d}-{calendar.monthrange(y, m)[1]}")
print("\n".join(out))
