"""Writes test-city.mmdb: a tiny GeoIP2-City-shaped database for the collector's geo test.

Run: python3 -m venv /tmp/mmdbenv && /tmp/mmdbenv/bin/pip install mmdb-writer==0.2.7
     /tmp/mmdbenv/bin/python make_test_mmdb.py
Networks are documentation ranges (RFC 5737 / RFC 3849), so no real place is claimed.
"""
from pathlib import Path

from mmdb_writer import MMDBWriter
from netaddr import IPSet

writer = MMDBWriter(ip_version=6, database_type="GeoIP2-City", languages=["en"],
                    description="Numu collector test database", ipv4_compatible=True)
writer.insert_network(IPSet(["203.0.113.0/24"]), {
    "country": {"iso_code": "FR", "names": {"en": "France"}},
    "subdivisions": [{"iso_code": "IDF", "names": {"en": "Ile-de-France"}}],
    "city": {"names": {"en": "Paris"}},
})
writer.insert_network(IPSet(["198.51.100.0/24"]), {
    "country": {"iso_code": "US", "names": {"en": "United States"}},
    "subdivisions": [{"iso_code": "CA", "names": {"en": "California"}}],
    "city": {"names": {"en": "San Francisco"}},
})
writer.insert_network(IPSet(["2001:db8::/32"]), {
    "country": {"iso_code": "JP", "names": {"en": "Japan"}},
})
writer.to_db_file(str(Path(__file__).with_name("test-city.mmdb")))
