"""Plans a believable city from one seeded random generator. Plain dataclasses, no Django.

Everything random in `linli seed` is drawn here, so the same seed gives the same city
whatever the database, and the plans can be checked (and benchmarked) without one.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from linli.merchants.hours import Periods, every_day

from .cities import KM_PER_DEGREE_LAT, City, District
from .kinds import CATEGORIES, FEES, KINDS, Category, Hours, Kind
from .menus import MENUS
from .names import GIVEN_CHARS, NICK_BACKS, NICK_FRONTS, NICK_LATIN, NICK_TITLES, SURNAMES

T = TypeVar("T")

CHAIN_SHARE = 0.05  # merchants with two or three stores
# Mobile prefixes every Chinese carrier has issued for years (all valid for libphonenumber).
MOBILE_PREFIXES = (
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152",
    "153", "155", "156", "157", "158", "159", "166", "176", "177", "178", "180", "181", "182",
    "183", "184", "185", "186", "187", "188", "189", "198", "199",
)
RADII_M = (2000, 2500, 3000, 3000, 3500, 4000, 5000)
NAME_TRIES = 8  # redraws before accepting a duplicate store name


@dataclass(frozen=True)
class ProductPlan:
    name: str
    price_fen: int


@dataclass(frozen=True)
class SectionPlan:
    name: str
    products: tuple[ProductPlan, ...]


@dataclass(frozen=True)
class StorePlan:
    name: str
    category: str  # StoreCategory slug
    district: str
    address: str
    phone: str
    lat: float
    lng: float
    opening_hours: Periods
    delivery_radius_m: int
    min_order_fen: int
    delivery_fee_fen: int
    packaging_fee_fen: int
    prep_minutes: int
    avg_price_fen: int
    rating: Decimal
    menu: tuple[SectionPlan, ...]
    stock: tuple[int, ...]  # one quantity per product, in menu order

    @property
    def products(self) -> list[ProductPlan]:
        return [p for section in self.menu for p in section.products]


@dataclass(frozen=True)
class PersonPlan:
    username: str
    phone: str
    display_name: str


@dataclass(frozen=True)
class MerchantPlan:
    name: str
    legal_name: str
    owner: PersonPlan
    stores: tuple[StorePlan, ...]


@dataclass(frozen=True)
class RiderPlan:
    person: PersonPlan
    is_online: bool
    lat: float | None
    lng: float | None


def offset_km(lat: float, lng: float, north_km: float, east_km: float) -> tuple[float, float]:
    """The point `north_km`/`east_km` away; flat-earth, good to a metre at city scale."""
    new_lat = lat + north_km / KM_PER_DEGREE_LAT
    new_lng = lng + east_km / (KM_PER_DEGREE_LAT * math.cos(math.radians(lat)))
    return round(new_lat, 6), round(new_lng, 6)


# Products per store: "typical" draws 2-4 sections of the kind's menu (6-15 products, what
# the demo city shows); "large" serves the whole menu plus set meals (16-26).
MENU_SIZES = {"typical": (6, 15), "large": (16, 26)}


class CityPlanner:
    """Draws merchants, consumers and riders for one city, in call order, from `seed`."""

    def __init__(self, city: City, *, seed: int, taken_phones: Iterable[str] = (),
                 menus: str = "typical") -> None:
        if menus not in MENU_SIZES:
            raise ValueError(f"menus must be one of {sorted(MENU_SIZES)}")
        self.city = city
        self.menus = menus
        self.rng = random.Random(seed)
        self._phones = set(taken_phones)
        self._store_names: set[str] = set()
        self._kinds = {c.slug: [k for k in KINDS if k.category == c.slug] for c in CATEGORIES}

    # --- small draws --------------------------------------------------------------
    def _weighted(self, items: Sequence[T], weights: Sequence[int]) -> T:
        return self.rng.choices(items, weights=weights)[0]

    def _surname(self) -> str:
        # Squaring skews towards the front of the list, where the common surnames are.
        return SURNAMES[int(len(SURNAMES) * self.rng.random() ** 2)]

    def full_name(self) -> str:
        given = "".join(self.rng.choice(GIVEN_CHARS) for _ in range(self.rng.choice((1, 2, 2))))
        return self._surname() + given

    def nickname(self) -> str:
        roll = self.rng.random()
        if roll < 0.35:
            return self.rng.choice(NICK_FRONTS) + self.rng.choice(NICK_BACKS)
        if roll < 0.6:
            return self._surname() + self.rng.choice(NICK_TITLES)
        if roll < 0.75:
            return f"{self.rng.choice(NICK_LATIN)}{self.rng.randint(1, 2009)}"
        if roll < 0.9:
            return f"{self.city.name}{self.rng.choice(NICK_BACKS)}"
        return self.full_name()

    def mobile(self) -> str:
        """A valid, not yet used Chinese mobile number in E.164."""
        while True:
            phone = f"+86{self.rng.choice(MOBILE_PREFIXES)}{self.rng.randrange(10**8):08d}"
            if phone not in self._phones:
                self._phones.add(phone)
                return phone

    def landline(self) -> str:
        return f"{self.city.area_code}-{self.rng.randint(2, 8)}{self.rng.randrange(10**7):07d}"

    def district(self) -> District:
        return self._weighted(self.city.districts, [d.weight for d in self.city.districts])

    def point_in(self, district: District) -> tuple[float, float]:
        """Gaussian around the centre (denser downtown), redrawn outside `spread_km`."""
        sigma = district.spread_km / 2
        while True:
            north, east = self.rng.gauss(0, sigma), self.rng.gauss(0, sigma)
            if math.hypot(north, east) <= district.spread_km:
                return offset_km(district.lat, district.lng, north, east)

    # --- stores -------------------------------------------------------------------
    def _kind(self) -> Kind:
        category: Category = self._weighted(CATEGORIES, [c.weight for c in CATEGORIES])
        kinds = self._kinds[category.slug]
        return self._weighted(kinds, [k.weight for k in kinds])

    def _brand(self, kind: Kind) -> str:
        return self.rng.choice(kind.names).format(s=self._surname(), w=self.rng.choice(kind.words))

    def _branch(self, district: District, road: str) -> str:
        roll = self.rng.random()
        if roll < 0.5:
            return self.rng.choice(district.areas)
        return road if roll < 0.8 else district.short

    def _hours(self, kind: Kind) -> Periods:
        hours: Hours = self._weighted(kind.hours, [h.weight for h in kind.hours])
        if hours.weekends is None:
            return every_day(*hours.weekdays)
        return [[list(p) for p in (hours.weekdays if day < 5 else hours.weekends)]
                for day in range(7)]

    def _price(self, base_fen: int) -> int:
        """Near the typical price, rounded the way shops price: 2880, 2990, 12800."""
        if self.rng.random() < 0.3:
            return base_fen
        raw = base_fen * self.rng.uniform(0.85, 1.2)
        step = 10 if raw < 1000 else 100 if raw < 10000 else 1000
        price = max(step, round(raw / step) * step)
        if step >= 100 and self.rng.random() < 0.4:
            price -= step // self.rng.choice((10, 5))
        return price

    def _menu(self, kind: Kind) -> tuple[SectionPlan, ...]:
        """2-4 sections of the kind's menu holding 6-15 products, in printed order; or, with
        `menus="large"`, the whole menu and then set meals until it holds 16-26."""
        if self.menus == "large":
            return self._large_menu(kind)
        sections = MENUS[kind.key]
        how_many = self.rng.randint(2, min(4, len(sections)))
        chosen = sorted(self.rng.sample(range(len(sections)), how_many))
        capacity = [len(sections[i][1]) for i in chosen]
        counts = [1] * len(chosen)
        for _ in range(min(self.rng.randint(6, 15), sum(capacity)) - len(chosen)):
            counts[self.rng.choice([j for j, c in enumerate(counts) if c < capacity[j]])] += 1
        menu = []
        for i, count in zip(chosen, counts, strict=True):
            title, items = sections[i]
            picked = sorted(self.rng.sample(range(len(items)), count))
            menu.append(SectionPlan(title, tuple(
                ProductPlan(items[j][0], self._price(items[j][1])) for j in picked
            )))
        return tuple(menu)

    def _large_menu(self, kind: Kind) -> tuple[SectionPlan, ...]:
        """Every item of the kind's menu, then set meals (套餐) of two items from different
        sections at 90 % of their sum until the menu holds 16-26 products: the size of a busy
        restaurant's menu on Meituan, and what gives bench/discovery.py its ~2 million
        products over 100,000 stores."""
        sections = MENUS[kind.key]
        menu = [SectionPlan(title, tuple(ProductPlan(name, self._price(price)) for name, price in items))
                for title, items in sections]
        wanted = self.rng.randint(*MENU_SIZES["large"]) - sum(len(s.products) for s in menu)
        if wanted <= 0 or len(menu) < 2:
            return tuple(menu)
        combos: dict[str, ProductPlan] = {}
        for _ in range(wanted * 4):  # a few redraws where a pair repeats
            if len(combos) == wanted:
                break
            first, second = self.rng.sample(menu, 2)
            a, b = self.rng.choice(first.products), self.rng.choice(second.products)
            name = f"{a.name}+{b.name}套餐"
            if len(name) <= 60:
                combos[name] = ProductPlan(name, max(10, round((a.price_fen + b.price_fen) * 0.9 / 10) * 10))
        return (*menu, SectionPlan("超值套餐", tuple(combos.values()))) if combos else tuple(menu)

    def _site(self, brand: str, district: District) -> tuple[str, str]:
        """(store name, road): "老王家常菜(徐家汇店)" on 漕溪北路."""
        road = self.rng.choice(district.roads)
        return f"{brand}({self._branch(district, road)}店)", road

    def _store(self, *, name: str, road: str, kind: Kind, district: District,
               menu: tuple[SectionPlan, ...]) -> StorePlan:
        lat, lng = self.point_in(district)
        fees = FEES[kind.category]
        prices = [p.price_fen for section in menu for p in section.products]
        rating = min(5.0, max(3.5, self.rng.gauss(4.5, 0.3)))
        self._store_names.add(name)
        return StorePlan(
            name=name,
            category=kind.category,
            district=district.name,
            address=f"{district.name}{road} {int(1 + 1200 * self.rng.random() ** 2)} 号",
            phone=self.landline(),
            lat=lat,
            lng=lng,
            opening_hours=self._hours(kind),
            delivery_radius_m=self.rng.choice(RADII_M),
            min_order_fen=self.rng.choice(fees.min_order_fen),
            delivery_fee_fen=self.rng.choice(fees.delivery_fee_fen),
            packaging_fee_fen=self.rng.choice(fees.packaging_fee_fen),
            prep_minutes=self.rng.randint(*fees.prep_minutes),
            avg_price_fen=round(sum(prices) / len(prices) / 100) * 100,
            rating=Decimal(f"{rating:.1f}"),
            menu=menu,
            stock=tuple(self.rng.randint(20, 500) for _ in prices),
        )

    def merchant(self, number: int) -> MerchantPlan:
        """Merchant `number` (owner m000123): one store, or 2-3 branches for a chain."""
        kind = self._kind()
        is_chain = self.rng.random() < CHAIN_SHARE
        districts = self._chain_districts(1 if not is_chain else self.rng.choice((2, 2, 3)))
        for _ in range(NAME_TRIES):  # redraw the brand while the first store's name is taken
            brand = self._brand(kind)
            first = self._site(brand, districts[0])
            if first[0] not in self._store_names:
                break
        sites = [first, *(self._site(brand, d) for d in districts[1:])]
        menu = self._menu(kind)  # branches of a chain share one menu
        stores = tuple(
            self._store(name=name, road=road, kind=kind, district=district, menu=menu)
            for (name, road), district in zip(sites, districts, strict=True)
        )
        trade = next(c.legal_trade for c in CATEGORIES if c.slug == kind.category)
        owner = PersonPlan(f"m{number:06d}", self.mobile(), self.full_name())
        return MerchantPlan(brand, f"{self.city.name}{brand}{trade}有限公司", owner, stores)

    def _chain_districts(self, count: int) -> list[District]:
        """`count` different districts, busier ones more likely."""
        picked: list[District] = []
        while len(picked) < min(count, len(self.city.districts)):
            district = self.district()
            if district not in picked:
                picked.append(district)
        return picked

    # --- people -------------------------------------------------------------------
    def consumer(self) -> PersonPlan:
        phone = self.mobile()
        return PersonPlan(phone, phone, self.nickname())

    def rider(self, number: int) -> RiderPlan:
        """A rider; about 70% are online somewhere in the city right now."""
        person = PersonPlan(f"r{number:06d}", self.mobile(), self.full_name())
        if self.rng.random() < 0.7:
            lat, lng = self.point_in(self.district())
            return RiderPlan(person, True, lat, lng)
        return RiderPlan(person, False, None, None)
