"""Geocoding from a local gazetteer, pure Python (no Django, no network).

The gazetteer knows what the platform itself knows about its cities: each city's centre
landmark, its districts (centre, spread, main roads, neighbourhoods; `core.seed.cities`)
and the address and point of every store ("黄浦区南京东路 1 号" at 31.23, 121.47). From
that it answers two questions:

- `geocode(text)`: where is "上海市黄浦区南京东路1号3楼"? The most precise thing the
  text names wins: a known street address (a store's, house number included), else a
  road (the middle of the stores on it), else a landmark, a neighbourhood or a district
  (its centre), else a city. Matching is on exact Chinese text after normalising width,
  spaces and case; no pinyin, no fuzzy guesses.
- `reverse(lat, lng)`: what is near this point? The nearest known address within
  `ROAD_REACH_M` gives district and road ("黄浦区南京东路附近"); otherwise the district
  whose centre is nearest relative to its size. Beyond `CITY_REACH_M` of every
  district the point is somewhere we do not serve: None.

`accounts.gazetteer` builds one from the database and keeps it per process.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

EARTH_RADIUS_M = 6_371_008.8
ROAD_REACH_M = 1500  # reverse: name a road only when a known address on it is this close
CITY_REACH_M = 50_000  # reverse: farther than this from every district is "unknown"
LEVELS = ("address", "road", "landmark", "area", "district", "city")  # most precise first

_NUMBER = re.compile(r"(\d{1,5})号")
_ROAD_SUFFIX = re.compile(r"([\u4e00-\u9fff]{1,8}?(?:大道|大街|路|街|道|巷|弄))")


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lng2 - lng1) / 2) ** 2)
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def normalise(text: str) -> str:
    """Full-width to half-width (NFKC), no whitespace, lower case: "南京东路 １ 号" -> "南京东路1号"."""
    return "".join(unicodedata.normalize("NFKC", text or "").split()).lower()


class DistrictLike(Protocol):
    name: str
    short: str
    lat: float
    lng: float
    spread_km: float
    roads: tuple[str, ...]
    areas: tuple[str, ...]


class CityLike(Protocol):
    slug: str
    name: str
    centre_name: str
    centre_lat: float
    centre_lng: float
    districts: tuple[Any, ...]


@dataclass(frozen=True)
class KnownAddress:
    """A point the platform knows an address for (a store)."""

    city: str  # city slug
    text: str
    lat: float
    lng: float


@dataclass(frozen=True)
class GeocodeMatch:
    lat: float
    lng: float
    level: str  # one of LEVELS
    city: str  # slug
    city_name: str
    district: str  # "" for a whole city
    road: str
    label: str  # what was recognised: "上海黄浦区南京东路1号"


@dataclass(frozen=True)
class ReverseMatch:
    city: str
    city_name: str
    district: str
    road: str  # "" when no known address is within ROAD_REACH_M
    distance_m: int  # to the known address (road) or the district centre
    label: str  # "黄浦区南京东路附近" / "黄浦区"


@dataclass
class _District:
    city: str
    name: str
    short: str
    lat: float
    lng: float
    spread_m: float
    areas: tuple[str, ...]
    roads: set[str] = field(default_factory=set)


@dataclass
class _Road:
    points: list[tuple[float, float]] = field(default_factory=list)

    def centre(self) -> tuple[float, float]:
        n = len(self.points)
        return sum(p[0] for p in self.points) / n, sum(p[1] for p in self.points) / n


@dataclass(frozen=True)
class _Located:
    """A parsed known address."""

    city: str
    district: str
    road: str
    number: int | None
    lat: float
    lng: float


class Gazetteer:
    def __init__(self, cities: Iterable[CityLike], addresses: Iterable[KnownAddress] = ()) -> None:
        self.cities: dict[str, CityLike] = {c.slug: c for c in cities}
        self.districts: dict[tuple[str, str], _District] = {}
        for city in self.cities.values():
            for d in city.districts:
                self.districts[(city.slug, d.name)] = _District(
                    city.slug, d.name, d.short, d.lat, d.lng, d.spread_km * 1000, tuple(d.areas),
                    set(d.roads))
        self.roads: dict[tuple[str, str, str], _Road] = {}  # (city, district, road)
        self.numbers: dict[tuple[str, str, str, int], tuple[float, float]] = {}
        self.exact: dict[str, tuple[str, float, float]] = {}  # normalised text -> (city, lat, lng)
        self.located: list[_Located] = []
        for address in addresses:
            self._add(address)

    # --- building ---------------------------------------------------------------------
    def _add(self, address: KnownAddress) -> None:
        text = normalise(address.text)
        if not text or address.city not in self.cities:
            return
        self.exact.setdefault(text, (address.city, address.lat, address.lng))
        district = self._district_in(address.city, text)
        if district is None:
            return
        road = next((r for r in sorted(district.roads, key=len, reverse=True) if r in text), None)
        if road is None:
            found = _ROAD_SUFFIX.search(text.replace(district.name, "", 1))
            road = found.group(1) if found else None
        if road is None:
            return
        district.roads.add(road)
        key = (address.city, district.name, road)
        self.roads.setdefault(key, _Road()).points.append((address.lat, address.lng))
        number_match = _NUMBER.search(text, text.find(road) + len(road))
        number = int(number_match.group(1)) if number_match else None
        if number is not None:
            self.numbers.setdefault((*key, number), (address.lat, address.lng))
        self.located.append(_Located(address.city, district.name, road, number,
                                     address.lat, address.lng))

    def _district_in(self, city: str, text: str) -> _District | None:
        for (c, _name), d in self.districts.items():
            if c == city and d.name in text:
                return d
        for (c, _name), d in self.districts.items():
            if c == city and len(d.short) >= 2 and d.short in text:
                return d
        return None

    # --- text to point ----------------------------------------------------------------
    def geocode(self, text: str, *, near: tuple[float, float] | None = None) -> GeocodeMatch | None:
        """The most precise place the text names, or None. `near` breaks ties between
        places of the same name in different districts or cities (人民路 is everywhere)."""
        t = normalise(text)
        if not t:
            return None
        cities = [c for c in self.cities.values() if c.name in t]
        city_slugs = {c.slug for c in cities} or set(self.cities)
        districts = [d for d in self.districts.values() if d.city in city_slugs and d.name in t]
        if not districts:
            districts = [d for d in self.districts.values()
                         if d.city in city_slugs and len(d.short) >= 2 and d.short in t]
        scope = ({(d.city, d.name) for d in districts} if districts
                 else {k for k in self.districts if k[0] in city_slugs})

        exact = self._exact(t)
        if exact is not None and exact[1] in city_slugs:
            known, city, lat, lng = exact
            district = self._district_in(city, known)
            return self._match(lat, lng, "address", city, district.name if district else "",
                               road="", tail=known.replace(district.name, "", 1) if district else known)

        roads = [(key, road) for key, road in self.roads.items()
                 if (key[0], key[1]) in scope and key[2] in t]
        if not roads:  # a main road of the city data with no store on it: its district's centre
            named = [(d, r) for d in self.districts.values() if (d.city, d.name) in scope
                     for r in d.roads if r in t]
            if named:
                longest = max(len(r) for _, r in named)
                district, road_name = self._nearest([(d, r) for d, r in named if len(r) == longest],
                                                    near, lambda item: (item[0].lat, item[0].lng))
                return self._match(district.lat, district.lng, "district", district.city,
                                   district.name, road=road_name, tail=road_name)
        if roads:
            longest = max(len(key[2]) for key, _ in roads)
            roads = [(key, road) for key, road in roads if len(key[2]) == longest]
            key, road = self._nearest(roads, near, lambda item: item[1].centre())
            number_match = _NUMBER.search(t, t.find(key[2]) + len(key[2]))
            if number_match:
                point = self.numbers.get((*key, int(number_match.group(1))))
                if point is not None:
                    return self._match(point[0], point[1], "address", key[0], key[1], road=key[2],
                                       tail=f"{key[2]}{number_match.group(1)}号")
            lat, lng = road.centre()
            return self._match(lat, lng, "road", key[0], key[1], road=key[2], tail=key[2])

        landmarks = [c for c in self.cities.values() if c.slug in city_slugs and c.centre_name in t]
        if landmarks:
            city = self._nearest(landmarks, near, lambda c: (c.centre_lat, c.centre_lng))
            district_name = self._district_of_point(city.slug, city.centre_lat, city.centre_lng)
            return self._match(city.centre_lat, city.centre_lng, "landmark", city.slug,
                               district_name, tail=city.centre_name)

        areas = [(d, a) for d in self.districts.values() if (d.city, d.name) in scope
                 for a in d.areas if a in t]
        if areas:
            district, area = self._nearest(areas, near, lambda item: (item[0].lat, item[0].lng))
            return self._match(district.lat, district.lng, "area", district.city, district.name,
                               tail=area)

        if districts:
            district = self._nearest(districts, near, lambda d: (d.lat, d.lng))
            return self._match(district.lat, district.lng, "district", district.city, district.name)

        if cities:
            city = self._nearest(cities, near, lambda c: (c.centre_lat, c.centre_lng))
            return self._match(city.centre_lat, city.centre_lng, "city", city.slug, "")
        return None

    def _exact(self, t: str) -> tuple[str, str, float, float] | None:
        """(known text, city, lat, lng) of a known address equal to the text, or to the
        text cut after a house number ("...1号3楼" is "...1号"); a leading city name is ignored."""
        for city in self.cities.values():
            for prefix in (f"{city.name}市", city.name):
                if t.startswith(prefix) and len(t) > len(prefix):
                    t = t[len(prefix):]
                    break
        candidates = [t] + [t[:number.end()] for number in _NUMBER.finditer(t)]
        for candidate in candidates:
            hit = self.exact.get(candidate)
            if hit is not None:
                return (candidate, *hit)
        return None

    @staticmethod
    def _nearest(items: list[Any], near: tuple[float, float] | None, point: Any) -> Any:
        if near is None or len(items) == 1:
            return items[0]
        return min(items, key=lambda item: haversine_m(near[0], near[1], *point(item)))

    def _match(self, lat: float, lng: float, level: str, city: str, district: str, *,
               road: str = "", tail: str = "") -> GeocodeMatch:
        city_name = self.cities[city].name
        return GeocodeMatch(lat=round(lat, 6), lng=round(lng, 6), level=level, city=city,
                            city_name=city_name, district=district, road=road,
                            label=f"{city_name}{district}{tail}")

    # --- point to place ---------------------------------------------------------------
    def _district_of_point(self, city: str | None, lat: float, lng: float) -> str:
        candidates = [d for d in self.districts.values() if city is None or d.city == city]
        if not candidates:
            return ""
        best = min(candidates, key=lambda d: haversine_m(lat, lng, d.lat, d.lng) / max(d.spread_m, 1))
        return best.name

    def nearest_city(self, lat: float, lng: float) -> tuple[str, str] | None:
        """(slug, name) of the city whose district centre is nearest, however far."""
        if not self.districts:
            return None
        d = min(self.districts.values(), key=lambda d: haversine_m(lat, lng, d.lat, d.lng))
        return d.city, self.cities[d.city].name

    def reverse(self, lat: float, lng: float) -> ReverseMatch | None:
        if not self.districts or not (-90 <= lat <= 90 and -180 <= lng <= 180):
            return None
        nearest_centre = min(self.districts.values(),
                             key=lambda d: haversine_m(lat, lng, d.lat, d.lng))
        if haversine_m(lat, lng, nearest_centre.lat, nearest_centre.lng) > CITY_REACH_M:
            return None
        city = nearest_centre.city
        best: _Located | None = None
        best_m = float(ROAD_REACH_M)
        for known in self.located:
            if known.city != city or abs(known.lat - lat) > 0.02 or abs(known.lng - lng) > 0.03:
                continue
            distance = haversine_m(lat, lng, known.lat, known.lng)
            if distance <= best_m:
                best, best_m = known, distance
        name = self.cities[city].name
        if best is not None:
            return ReverseMatch(city=city, city_name=name, district=best.district, road=best.road,
                                distance_m=round(best_m), label=f"{best.district}{best.road}附近")
        district = self.districts[(city, self._district_of_point(city, lat, lng))]
        return ReverseMatch(city=city, city_name=name, district=district.name, road="",
                            distance_m=round(haversine_m(lat, lng, district.lat, district.lng)),
                            label=district.name)
