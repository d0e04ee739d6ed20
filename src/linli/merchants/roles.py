"""Who may do what in a merchant: the role table, pure Python (no Django).

A merchant member has one role at the merchant, valid for all its stores:

| permission     | owner | manager | cashier |
| -------------- | ----- | ------- | ------- |
| orders.act     |   x   |    x    |    x    |  accept / reject / prepare / ready / collect
| menu.view      |   x   |    x    |    x    |  read products and categories, export
| menu.sold_out  |   x   |    x    |    x    |  the daily "sold out" switch
| menu.edit      |   x   |    x    |         |  categories, products, prices, images, import
| stock.set      |   x   |    x    |         |  stocktake through the inventory ledger
| store.view     |   x   |    x    |    x    |  read the store profile
| store.edit     |   x   |    x    |         |  profile, hours, delivery terms, photos
| store.pause    |   x   |    x    |         |  busy: stop / resume taking orders
| staff.manage   |   x   |         |         |  add, re-role and remove members
| stores.open    |   x   |         |         |  open another store (a branch of the chain)
| bank.manage    |   x   |         |         |  settlement account

`staff`, the one non-owner role before managers and cashiers existed, is kept as a
legacy alias of `cashier`: rows that say `staff` keep working with a cashier's rights.
Services check the table (`allows`) and raise `PermissionDenied` themselves; pages
only use it to hide what a role cannot use.
"""

from __future__ import annotations

OWNER = "owner"
MANAGER = "manager"
CASHIER = "cashier"
STAFF = "staff"  # legacy alias of CASHIER

ROLES = (OWNER, MANAGER, CASHIER)  # what can be assigned, most powerful first
ALIASES = {STAFF: CASHIER}

ORDERS_ACT = "orders.act"
MENU_VIEW = "menu.view"
MENU_SOLD_OUT = "menu.sold_out"
MENU_EDIT = "menu.edit"
STOCK_SET = "stock.set"
STORE_VIEW = "store.view"
STORE_EDIT = "store.edit"
STORE_PAUSE = "store.pause"
STAFF_MANAGE = "staff.manage"
BANK_MANAGE = "bank.manage"
STORES_OPEN = "stores.open"

ALL_PERMISSIONS = frozenset({
    ORDERS_ACT, MENU_VIEW, MENU_SOLD_OUT, MENU_EDIT, STOCK_SET, STORE_VIEW, STORE_EDIT,
    STORE_PAUSE, STAFF_MANAGE, BANK_MANAGE, STORES_OPEN,
})

_CASHIER = frozenset({ORDERS_ACT, MENU_VIEW, MENU_SOLD_OUT, STORE_VIEW})
_MANAGER = _CASHIER | {MENU_EDIT, STOCK_SET, STORE_EDIT, STORE_PAUSE}

PERMISSIONS: dict[str, frozenset[str]] = {
    OWNER: ALL_PERMISSIONS,
    MANAGER: frozenset(_MANAGER),
    CASHIER: _CASHIER,
}


def canonical(role: str) -> str | None:
    """The role a stored value stands for (`staff` -> `cashier`); None if unknown."""
    role = ALIASES.get(role, role)
    return role if role in PERMISSIONS else None


def permissions_of(role: str) -> frozenset[str]:
    """Every permission of the role; an unknown role has none."""
    known = canonical(role)
    return PERMISSIONS[known] if known else frozenset()


def allows(role: str, permission: str) -> bool:
    if permission not in ALL_PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")
    return permission in permissions_of(role)
