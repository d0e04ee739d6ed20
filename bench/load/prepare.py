"""Fixtures for the load run, written as JSON for the locust scenarios (bench/load/locustfile.py).

Runs against the same database as `make serve-prod` (DATABASE_URL) and only uses the
project's services and token issuer, never raw SQL:
- BENCH consumers (phones +86 199 0000 xxxx, made once, reused) with access tokens, because
  a consumer logs in by SMS code and the code only reaches the server log;
- access tokens for the seeded riders (approved, put on shift at the centre of the city);
- the demo store (open around the clock) and its products, stock topped up so a run never
  sells out; the demo merchant and rider log in through the API with their passwords.

Usage: DATABASE_URL=... .venv/bin/python bench/load/prepare.py --out var/load/fixtures.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# What browsing consumers type, for the locust mix and run.py's browse-only phase alike.
SEARCH_WORDS = ["面", "饭", "奶茶", "咖啡", "jiaozi", "mf", "鸡", "汉堡", "粥", "烧烤"]
sys.path.insert(0, str(ROOT / "src"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "load" / "fixtures.json")
    parser.add_argument("--consumers", type=int, default=200)
    parser.add_argument("--riders", type=int, default=20)
    parser.add_argument("--stock", type=int, default=100_000)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings")
    os.environ.setdefault("LINLI_LOG_LEVEL", "ERROR")
    import django

    django.setup()
    from linli.accounts.models import User
    from linli.accounts.tokens import token_pair_issue
    from linli.core.seed.demo import CONSUMER_PHONE, DEMO_PASSWORD, RIDER_PHONE
    from linli.delivery.models import Rider
    from linli.inventory.services import stock_set
    from linli.merchants.models import MerchantMember, Product, Store

    def token(user: User) -> str:
        return token_pair_issue(user_public_id=user.public_id,
                                token_version=user.token_version)["access_token"]

    consumers = []
    for n in range(args.consumers):
        phone = f"+86199{n:08d}"
        user = User.objects.filter(username=phone).first() or User.objects.create_user(
            username=phone, phone=phone)
        consumers.append(token(user))

    owner = (MerchantMember.objects.filter(user__username="demo-merchant")
             .select_related("merchant").first())
    if owner is None:
        sys.exit("no demo merchant: run `linli seed` (make serve-prod does) first")
    store = Store.objects.filter(merchant=owner.merchant).order_by("id").first()
    assert store is not None
    products = list(Product.objects.filter(store=store, is_available=True).order_by("sort"))
    for product in products:
        stock_set(product=product, quantity=args.stock)

    riders = []
    for rider in (Rider.objects.filter(approval=Rider.Approval.APPROVED, city_code=store.city_code)
                  .exclude(user__phone=RIDER_PHONE).select_related("user")
                  .order_by("id")[: args.riders]):
        riders.append({"token": token(rider.user), "lat": store.lat, "lng": store.lng})

    other_stores = list(Store.objects.filter(city_code=store.city_code)
                        .order_by("id").values_list("public_id", flat=True)[:200])
    fixtures = {
        "city": {"lat": store.lat, "lng": store.lng},
        "store": {"id": store.public_id, "lat": store.lat, "lng": store.lng,
                  "products": [p.public_id for p in products]},
        "stores": other_stores,
        "search_words": SEARCH_WORDS,
        "consumers": consumers,
        "riders": riders,
        "merchant": {"login": "demo-merchant", "password": DEMO_PASSWORD},
        "demo_consumer_phone": CONSUMER_PHONE,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(fixtures, indent=1))
    print(f"fixtures: {len(consumers)} consumers, {len(riders)} riders, store {store.public_id} "
          f"with {len(products)} products (stock {args.stock}) -> {args.out}")


if __name__ == "__main__":
    main()
